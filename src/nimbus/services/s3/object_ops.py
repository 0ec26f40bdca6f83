"""Object-level S3 operations of the provider: put/get/head/copy/delete and listings."""

from __future__ import annotations

from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.s3.checksums import normalize_algorithm
from nimbus.services.s3.engine import S3Engine
from nimbus.services.s3.listing import decode_token, encode_token
from nimbus.services.s3.objects import ObjectRead
from nimbus.services.s3.shapes import (
    actor,
    checksum_members,
    encode_key,
    list_entry,
    max_keys,
    object_headers,
    parse_copy_source,
    preconditions,
    ts,
    verified_body,
    write_spec,
)

MAX_DELETE_KEYS = 1000


class ObjectOps:
    engine: S3Engine

    def owner(self, ctx: RequestContext) -> dict[str, str]:
        raise NotImplementedError

    async def put_object(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        body = req.get("Body")
        spec = write_spec(req, ctx, body if hasattr(body, "trailers") else None)
        record = await self.engine.put_object(
            req["Bucket"], req["Key"], verified_body(body, ctx), spec, actor(ctx)
        )
        out: dict[str, Any] = {"ETag": record.etag, "ServerSideEncryption": "AES256"}
        out.update(checksum_members(record))
        return out

    def get_object(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        """Bytes stream from the blob file. "Not modified" answers ``ctx.status = 304``."""
        result = self.engine.read_object(
            req["Bucket"], req["Key"], preconditions(req), req.get("Range")
        )
        if not isinstance(result, ObjectRead):
            ctx.status = 304
            return {"ETag": result.etag, "LastModified": object_headers(result, {})["LastModified"]}
        record = result.record
        # A full-object checksum does not describe a range; S3 omits it there.
        out = object_headers(record, {**req, "ChecksumMode": None} if result.partial else req)
        if result.partial:
            ctx.status = 206
            end = result.start + result.length - 1
            out["ContentRange"] = f"bytes {result.start}-{end}/{record.size}"
        out["ContentLength"] = result.length
        out["Body"] = result.body
        return out

    def head_object(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        """Same headers as GetObject; 304 via ``ctx.status`` like GetObject."""
        record, modified = self.engine.head_object(req["Bucket"], req["Key"], preconditions(req))
        out = object_headers(record, req)
        if not modified:
            ctx.status = 304
            return {"ETag": out["ETag"], "LastModified": out["LastModified"]}
        return out

    def delete_object(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.engine.delete_object(req["Bucket"], req["Key"], actor(ctx))
        ctx.status = 204
        return {}

    def delete_objects(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        delete = req.get("Delete") or {}
        objects = delete.get("Objects") or []
        if not objects or len(objects) > MAX_DELETE_KEYS:
            raise AwsError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our "
                "published schema",
                400,
            )
        self.engine.require_bucket(req["Bucket"])
        deleted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in objects:
            key = item.get("Key", "")
            try:
                self.engine.delete_object(req["Bucket"], key, actor(ctx))
                deleted.append({"Key": key})
            except AwsError as err:
                errors.append({"Key": key, "Code": err.code, "Message": err.message})
        out: dict[str, Any] = {}
        if deleted and not delete.get("Quiet"):
            out["Deleted"] = deleted
        if errors:
            out["Errors"] = errors
        return out

    async def copy_object(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        source_bucket, source_key = parse_copy_source(req.get("CopySource"))
        directive = req.get("MetadataDirective") or "COPY"
        if directive not in ("COPY", "REPLACE"):
            raise AwsError(
                "InvalidArgument",
                "Unknown metadata directive.",
                400,
                extra={"ArgumentName": "x-amz-metadata-directive", "ArgumentValue": directive},
            )
        replace = write_spec(req, ctx) if directive == "REPLACE" else None
        record = await self.engine.copy_object(
            source_bucket,
            source_key,
            req["Bucket"],
            req["Key"],
            preconditions(req, "CopySource"),
            replace,
            normalize_algorithm(req.get("ChecksumAlgorithm")),
            actor(ctx),
        )
        result: dict[str, Any] = {"ETag": record.etag, "LastModified": ts(record.last_modified)}
        result.update(checksum_members(record))
        return {"CopyObjectResult": result, "ServerSideEncryption": "AES256"}

    def list_objects_v2(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        bucket = req["Bucket"]
        prefix = req.get("Prefix") or ""
        delimiter = req.get("Delimiter") or ""
        encode = req.get("EncodingType") == "url"
        limit = max_keys(req)
        after, is_prefix = req.get("StartAfter") or "", False
        if req.get("ContinuationToken"):
            after, is_prefix = decode_token(req["ContinuationToken"])
        listing = self.engine.list_keys(
            bucket, prefix=prefix, delimiter=delimiter, after=after,
            after_is_prefix=is_prefix, max_keys=limit,
        )  # fmt: skip
        owner = self.owner(ctx) if req.get("FetchOwner") else None
        out: dict[str, Any] = {
            "IsTruncated": listing.truncated,
            "Contents": [list_entry(r, encode, owner) for r in listing.contents],
            "Name": bucket,
            "Prefix": encode_key(prefix, encode),
            "MaxKeys": limit,
            "CommonPrefixes": [{"Prefix": encode_key(p, encode)} for p in listing.common_prefixes],
            "KeyCount": len(listing.contents) + len(listing.common_prefixes),
        }
        if delimiter:
            out["Delimiter"] = encode_key(delimiter, encode)
        if encode:
            out["EncodingType"] = "url"
        if req.get("ContinuationToken"):
            out["ContinuationToken"] = req["ContinuationToken"]
        if req.get("StartAfter"):
            out["StartAfter"] = encode_key(req["StartAfter"], encode)
        if listing.truncated:
            out["NextContinuationToken"] = encode_token(listing)
        return _drop_empty(out)

    def list_objects(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        bucket = req["Bucket"]
        prefix = req.get("Prefix") or ""
        delimiter = req.get("Delimiter") or ""
        encode = req.get("EncodingType") == "url"
        limit = max_keys(req)
        marker = req.get("Marker") or ""
        listing = self.engine.list_keys(
            bucket, prefix=prefix, delimiter=delimiter, after=marker, max_keys=limit
        )
        out: dict[str, Any] = {
            "IsTruncated": listing.truncated,
            "Marker": encode_key(marker, encode),
            "Contents": [list_entry(r, encode, self.owner(ctx)) for r in listing.contents],
            "Name": bucket,
            "Prefix": encode_key(prefix, encode),
            "MaxKeys": limit,
            "CommonPrefixes": [{"Prefix": encode_key(p, encode)} for p in listing.common_prefixes],
        }
        if delimiter:
            out["Delimiter"] = encode_key(delimiter, encode)
            if listing.truncated and listing.last:
                out["NextMarker"] = encode_key(listing.last, encode)
        if encode:
            out["EncodingType"] = "url"
        return _drop_empty(out)


def _drop_empty(out: dict[str, Any]) -> dict[str, Any]:
    # S3 omits empty Contents/CommonPrefixes elements; botocore then leaves the keys out.
    for name in ("Contents", "CommonPrefixes"):
        if not out[name]:
            del out[name]
    return out
