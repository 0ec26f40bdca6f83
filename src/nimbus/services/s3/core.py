"""What every part of the S3 engine shares: the database, the blob store, records, lookups."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.s3.store import BlobStore, open_metadata
from nimbus.storage import transaction


@dataclass(slots=True)
class Actor:
    """Who caused a change, as S3 event records describe it."""

    principal_id: str = "nimbus"
    source_ip: str = "127.0.0.1"
    request_id: str = ""


@dataclass(slots=True)
class ObjectRecord:
    bucket: str
    key: str
    blob: str
    size: int
    etag: str  # quoted, as S3 returns it
    last_modified: float
    content_type: str
    headers: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    checksum_algorithm: str | None = None
    checksum: str | None = None
    checksum_type: str | None = None
    parts: int | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row | tuple[Any, ...]) -> ObjectRecord:
        (bucket, key, blob, size, etag, lm, ctype, headers, meta, algo, checksum, ctype2, parts) = (
            row
        )
        return cls(
            bucket, key, blob, size, etag, lm, ctype, json.loads(headers), json.loads(meta),
            algo, checksum, ctype2, parts,
        )  # fmt: skip


OBJECT_COLUMNS = (
    "bucket, key, blob, size, etag, last_modified, content_type, headers, metadata, "
    "checksum_algorithm, checksum, checksum_type, parts"
)


def canonical_user_id(account_id: str) -> str:
    """A stable 64-hex canonical user id per account, like S3's."""
    return hashlib.sha256(f"nimbus-{account_id}".encode()).hexdigest()


def now() -> float:
    return round(time.time(), 3)


class EngineCore:
    def __init__(self, data_dir: Path, region: str, account_id: str) -> None:
        self.data_dir = data_dir
        self.region = region
        self.account_id = account_id
        self.db = open_metadata(data_dir / "s3.db")
        self.blobs = BlobStore(data_dir)
        self._sequence = 0
        self._collect_garbage()

    def close(self) -> None:
        self.db.close()

    def _collect_garbage(self) -> None:
        referenced = {row[0] for row in self.db.execute("SELECT blob FROM objects")}
        referenced |= {row[0] for row in self.db.execute("SELECT blob FROM parts")}
        self.blobs.cleanup(referenced)

    def tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.db)

    def require_bucket(self, bucket: str) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT name, created, owner, location, config FROM buckets WHERE name = ?", (bucket,)
        ).fetchone()
        if row is None:
            raise AwsError(
                "NoSuchBucket",
                "The specified bucket does not exist",
                404,
                extra={"BucketName": bucket},
            )
        name, created, owner, location, config = row
        return {
            "name": name,
            "created": created,
            "owner": owner,
            "location": location,
            "config": json.loads(config),
        }

    def find_object(self, bucket: str, key: str) -> ObjectRecord | None:
        row = self.db.execute(
            f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?", (bucket, key)
        ).fetchone()
        return ObjectRecord.from_row(row) if row else None

    def require_object(self, bucket: str, key: str) -> ObjectRecord:
        self.require_bucket(bucket)
        record = self.find_object(bucket, key)
        if record is None:
            raise AwsError(
                "NoSuchKey", "The specified key does not exist.", 404, extra={"Key": key}
            )
        return record

    def next_sequencer(self) -> str:
        """Monotonic hex sequencer for event records (ordering events for the same key)."""
        self._sequence += 1
        return f"{time.time_ns():016X}{self._sequence & 0xFFFF:04X}"

    # -- configuration documents stored as JSON on the bucket row ---------------------------

    def get_config(self, bucket: str, name: str) -> Any:
        return self.require_bucket(bucket)["config"].get(name)

    def set_config(self, bucket: str, name: str, value: Any) -> None:
        with self.tx() as db:
            row = db.execute("SELECT config FROM buckets WHERE name = ?", (bucket,)).fetchone()
            if row is None:
                raise AwsError(
                    "NoSuchBucket",
                    "The specified bucket does not exist",
                    404,
                    extra={"BucketName": bucket},
                )
            config = json.loads(row[0])
            if value is None:
                config.pop(name, None)
            else:
                config[name] = value
            db.execute("UPDATE buckets SET config = ? WHERE name = ?", (json.dumps(config), bucket))
