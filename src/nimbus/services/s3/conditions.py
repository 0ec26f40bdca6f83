"""HTTP preconditions and byte ranges as S3 applies them to stored objects."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from nimbus.aws.errors import AwsError


@dataclass(slots=True)
class Preconditions:
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: datetime | None = None
    if_unmodified_since: datetime | None = None


def etag_matches(header: str, etag: str) -> bool:
    bare = etag.strip('"')
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == "*" or candidate.strip('"') == bare:
            return True
    return False


def _precondition_failed(condition: str) -> AwsError:
    return AwsError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        extra={"Condition": condition},
    )


def evaluate(cond: Preconditions, etag: str, last_modified: float, *, copy: bool = False) -> bool:
    """Raise 412 for a failed If-Match/If-Unmodified-Since; return False for "not modified".

    Follows RFC 7232 order, which S3 uses: a matching If-Match makes If-Unmodified-Since moot,
    and If-None-Match decides alone when present. Copy sources fail with 412 instead of 304.
    """
    # HTTP dates have second precision; compare against the whole second of the write.
    modified = math.floor(last_modified)
    prefix = "x-amz-copy-source-" if copy else ""
    if cond.if_match is not None:
        if not etag_matches(cond.if_match, etag):
            raise _precondition_failed(f"{prefix}If-Match")
    elif cond.if_unmodified_since is not None and modified > cond.if_unmodified_since.timestamp():
        raise _precondition_failed(f"{prefix}If-Unmodified-Since")
    not_modified = False
    if cond.if_none_match is not None:
        not_modified = etag_matches(cond.if_none_match, etag)
    elif cond.if_modified_since is not None:
        not_modified = modified <= cond.if_modified_since.timestamp()
    if not_modified and copy:
        raise _precondition_failed(f"{prefix}If-None-Match")
    return not not_modified


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end_inclusive)`` for a single ``bytes=`` range, None to send the whole object.

    Syntactically invalid or multi-range headers are ignored, as S3 does; a well-formed range
    that selects nothing is a 416 InvalidRange.
    """
    if not header:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if first == "":
            suffix = int(last)
            if suffix < 0:
                return None
            if suffix == 0 or size == 0:
                raise _invalid_range(header, size)
            return max(0, size - suffix), size - 1
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size:
        raise _invalid_range(header, size)
    if end < start:
        return None
    return start, min(end, size - 1)


def _invalid_range(header: str, size: int) -> AwsError:
    return AwsError(
        "InvalidRange",
        "The requested range is not satisfiable",
        416,
        extra={"RangeRequested": header, "ActualObjectSize": str(size)},
        headers={"Content-Range": f"bytes */{size}"},
    )
