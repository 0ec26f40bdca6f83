"""Translation between botocore request/response shapes and engine values."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus, unquote

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.aws.streams import BodyStream
from nimbus.services.s3.checksums import ALGORITHMS, normalize_algorithm
from nimbus.services.s3.conditions import Preconditions
from nimbus.services.s3.core import Actor, ObjectRecord
from nimbus.services.s3.objects import ObjectWrite

# Standard headers stored with an object: request member -> (same) output member.
STORED_HEADERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage",
                  "WebsiteRedirectLocation")  # fmt: skip
OVERRIDES = {
    "ResponseCacheControl": "CacheControl",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseContentType": "ContentType",
    "ResponseExpires": "Expires",
}


def ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def http_ts(epoch: float) -> datetime:
    """HTTP-date precision (whole seconds), so headers and conditionals agree."""
    return datetime.fromtimestamp(int(epoch), UTC)


def actor(ctx: RequestContext) -> Actor:
    who = ctx.principal.access_key or ctx.principal.account_id
    return Actor(principal_id=f"AWS:{who}", request_id=ctx.request_id)


def preconditions(req: dict[str, Any], prefix: str = "") -> Preconditions:
    return Preconditions(
        if_match=req.get(f"{prefix}IfMatch"),
        if_none_match=req.get(f"{prefix}IfNoneMatch"),
        if_modified_since=req.get(f"{prefix}IfModifiedSince"),
        if_unmodified_since=req.get(f"{prefix}IfUnmodifiedSince"),
    )


def claimed_algorithm(req: dict[str, Any], ctx: RequestContext) -> str | None:
    """The checksum algorithm a write carries: an explicit value, trailer, or declared name."""
    for algorithm in ALGORITHMS:
        if req.get(f"Checksum{algorithm}"):
            return algorithm
    trailer = ctx.headers.get("x-amz-trailer", "").strip().lower()
    if trailer.startswith("x-amz-checksum-"):
        return normalize_algorithm(trailer.removeprefix("x-amz-checksum-"))
    return normalize_algorithm(req.get("ChecksumAlgorithm"))


def write_spec(
    req: dict[str, Any], ctx: RequestContext, body: BodyStream | None = None
) -> ObjectWrite:
    headers = {member: req[member] for member in STORED_HEADERS if req.get(member)}
    if isinstance(req.get("Expires"), datetime):
        headers["Expires"] = req["Expires"].timestamp()
    metadata = {str(k).lower(): str(v) for k, v in (req.get("Metadata") or {}).items()}
    algorithm = claimed_algorithm(req, ctx)

    def expected() -> str | None:
        if not algorithm:
            return None
        value = req.get(f"Checksum{algorithm}")
        if not value and body is not None:
            value = body.trailers.get(f"x-amz-checksum-{algorithm.lower()}")
        return value

    return ObjectWrite(
        content_type=req.get("ContentType") or "binary/octet-stream",
        headers=headers,
        metadata=metadata,
        checksum_algorithm=algorithm,
        expected_checksum=expected,
        content_md5=req.get("ContentMD5"),
        if_none_match=req.get("IfNoneMatch"),
        if_match=req.get("IfMatch"),
    )


async def verified_body(body: Any, ctx: RequestContext) -> AsyncIterator[bytes]:
    """Pass the body through, checking a hex ``x-amz-content-sha256`` once it is consumed."""
    declared = ctx.headers.get("x-amz-content-sha256", "").lower()
    check = len(declared) == 64 and all(c in "0123456789abcdef" for c in declared)
    digest = hashlib.sha256()
    if isinstance(body, bytes | bytearray):
        chunks: Any = [bytes(body)]
    elif body is None:
        chunks = [b""]
    else:
        chunks = body
    if hasattr(chunks, "__aiter__"):
        async for chunk in chunks:
            if check:
                digest.update(chunk)
            yield chunk
    else:
        for chunk in chunks:
            if check:
                digest.update(chunk)
            yield chunk
    if check and digest.hexdigest() != declared:
        raise AwsError(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400,
            extra={"ClientComputedContentSHA256": declared,
                   "S3ComputedContentSHA256": digest.hexdigest()},
        )  # fmt: skip


def checksum_members(record: ObjectRecord) -> dict[str, Any]:
    if not record.checksum_algorithm or not record.checksum:
        return {}
    out: dict[str, Any] = {f"Checksum{record.checksum_algorithm}": record.checksum}
    if record.checksum_type:
        out["ChecksumType"] = record.checksum_type
    return out


def object_headers(record: ObjectRecord, req: dict[str, Any]) -> dict[str, Any]:
    """The header members GetObject and HeadObject share."""
    out: dict[str, Any] = {
        "AcceptRanges": "bytes",
        "LastModified": http_ts(record.last_modified),
        "ContentLength": record.size,
        "ETag": record.etag,
        "ContentType": record.content_type,
        "ServerSideEncryption": "AES256",
        "Metadata": dict(record.metadata),
    }
    for member in STORED_HEADERS:
        if record.headers.get(member):
            out[member] = record.headers[member]
    if record.headers.get("Expires") is not None:
        out["Expires"] = ts(record.headers["Expires"])
    if record.parts and req.get("PartNumber"):
        out["PartsCount"] = record.parts
    for param, member in OVERRIDES.items():
        if req.get(param):
            out[member] = req[param]
    if req.get("ChecksumMode") == "ENABLED":
        out.update(checksum_members(record))
    return out


def list_entry(record: ObjectRecord, encode: bool, owner: dict[str, str] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Key": encode_key(record.key, encode),
        "LastModified": ts(record.last_modified),
        "ETag": record.etag,
        "Size": record.size,
        "StorageClass": "STANDARD",
    }
    if record.checksum_algorithm:
        entry["ChecksumAlgorithm"] = [record.checksum_algorithm]
        entry["ChecksumType"] = record.checksum_type or "FULL_OBJECT"
    if owner is not None:
        entry["Owner"] = owner
    return entry


def encode_key(value: str, encode: bool) -> str:
    return quote_plus(value, safe="/") if encode else value


def parse_copy_source(value: str | None) -> tuple[str, str]:
    if not value:
        raise AwsError("InvalidArgument", "Copy Source must be specified.", 400)
    source = value.split("?versionId=", 1)[0]
    source = unquote(source).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise AwsError(
            "InvalidArgument",
            "Invalid copy source object key: Copy Source must mention the source bucket and "
            "key: sourcebucket/sourcekey.",
            400,
            extra={"ArgumentName": "x-amz-copy-source", "ArgumentValue": value},
        )
    return bucket, key


def max_keys(req: dict[str, Any], name: str = "MaxKeys", cap: int = 1000) -> int:
    value = req.get(name)
    if value is None:
        return cap
    value = int(value)
    if value < 0:
        raise AwsError(
            "InvalidArgument",
            f"Argument {name.lower()} must be an integer between 0 and 2147483647",
            400,
            extra={"ArgumentName": name.lower(), "ArgumentValue": str(value)},
        )
    return min(value, cap)
