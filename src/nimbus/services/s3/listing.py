"""Key listing with prefix, delimiter grouping and resumable positions (ListObjects v1/v2)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field

from nimbus.aws.errors import AwsError
from nimbus.services.s3.core import OBJECT_COLUMNS, EngineCore, ObjectRecord

_BATCH = 1000


def _successor(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix and ord(prefix[-1]) < 0x10FFFF else ""


@dataclass(slots=True)
class Listing:
    contents: list[ObjectRecord] = field(default_factory=list)
    common_prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    # Where the next page starts: the last key or common prefix returned, and which it was.
    last: str | None = None
    last_is_prefix: bool = False


def encode_token(listing: Listing) -> str:
    payload = json.dumps({"a": listing.last, "p": listing.last_is_prefix}).encode()
    return base64.urlsafe_b64encode(payload).decode()


def decode_token(token: str) -> tuple[str, bool]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(data["a"]), bool(data["p"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise AwsError(
            "InvalidArgument",
            "The continuation token provided is incorrect",
            400,
            extra={"ArgumentName": "continuation-token"},
        ) from None


class ListingMixin(EngineCore):
    def list_keys(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        after: str = "",
        after_is_prefix: bool = False,
        max_keys: int = 1000,
    ) -> Listing:
        """Keys (and common prefixes) strictly after ``after``, in UTF-8 byte order."""
        self.require_bucket(bucket)
        out = Listing()
        if max_keys == 0:
            return out  # S3 answers an empty, untruncated page
        lower, inclusive = after, False
        if after_is_prefix:
            # Resume past every key under the common prefix returned last time.
            lower, inclusive = _successor(after), True
        if prefix and prefix > lower:
            lower, inclusive = prefix, True
        upper = _successor(prefix) if prefix else ""
        count = 0
        while True:
            op = ">=" if inclusive else ">"
            sql = f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key {op} ?"
            args: list[object] = [bucket, lower]
            if upper:
                sql += " AND key < ?"
                args.append(upper)
            rows = self.db.execute(sql + f" ORDER BY key LIMIT {_BATCH}", args).fetchall()
            if not rows:
                return out
            restart = False
            for row in rows:
                record = ObjectRecord.from_row(row)
                key = record.key
                if not key.startswith(prefix):
                    return out
                common = None
                if delimiter:
                    idx = key.find(delimiter, len(prefix))
                    if idx >= 0:
                        common = key[: idx + len(delimiter)]
                        if common <= after:
                            # A marker naming a common prefix means "past everything under it".
                            lower, inclusive = _successor(common), True
                            restart = True
                            break
                if count >= max_keys:
                    out.truncated = True
                    return out
                count += 1
                if common is not None:
                    out.common_prefixes.append(common)
                    out.last, out.last_is_prefix = common, True
                    lower, inclusive = _successor(common), True
                    restart = True
                    if not lower:
                        return out
                    break
                out.contents.append(record)
                out.last, out.last_is_prefix = key, False
            if not restart:
                if len(rows) < _BATCH:
                    return out
                lower, inclusive = rows[-1][1], False

    def list_uploads(self, bucket: str, prefix: str = "") -> list[dict[str, object]]:
        self.require_bucket(bucket)
        rows = self.db.execute(
            "SELECT upload_id, key, initiated, checksum_algorithm, checksum_type FROM uploads "
            "WHERE bucket = ? ORDER BY key, initiated",
            (bucket,),
        )
        return [
            {"upload_id": u, "key": k, "initiated": i, "algorithm": a, "checksum_type": t}
            for u, k, i, a, t in rows
            if k.startswith(prefix)
        ]
