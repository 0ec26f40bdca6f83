"""Multipart-upload operations of the provider."""

from __future__ import annotations

from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.s3.conditions import evaluate, parse_range
from nimbus.services.s3.engine import S3Engine
from nimbus.services.s3.multipart import Part
from nimbus.services.s3.objects import ObjectWrite
from nimbus.services.s3.shapes import (
    actor,
    checksum_members,
    max_keys,
    parse_copy_source,
    preconditions,
    ts,
    verified_body,
    write_spec,
)


def _part_checksum(part: Part, algorithm: str | None) -> dict[str, Any]:
    return {f"Checksum{algorithm}": part.checksum} if algorithm and part.checksum else {}


class MultipartOps:
    engine: S3Engine

    def owner(self, ctx: RequestContext) -> dict[str, str]:
        raise NotImplementedError

    def create_multipart_upload(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        spec = write_spec(req, ctx)
        upload = self.engine.create_upload(req["Bucket"], req["Key"], spec, req.get("ChecksumType"))
        out: dict[str, Any] = {
            "Bucket": req["Bucket"],
            "Key": req["Key"],
            "UploadId": upload.upload_id,
            "ServerSideEncryption": "AES256",
        }
        if upload.spec.checksum_algorithm:
            out["ChecksumAlgorithm"] = upload.spec.checksum_algorithm
            out["ChecksumType"] = upload.checksum_type
        return out

    async def upload_part(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        body = req.get("Body")
        spec = write_spec(req, ctx, body if hasattr(body, "trailers") else None)
        part = await self.engine.upload_part(
            req["Bucket"], req["Key"], req["UploadId"], int(req["PartNumber"]),
            verified_body(body, ctx), spec,
        )  # fmt: skip
        upload = self.engine.get_upload(req["Bucket"], req["Key"], req["UploadId"])
        algorithm = spec.checksum_algorithm or upload.spec.checksum_algorithm
        return {
            "ETag": part.etag,
            "ServerSideEncryption": "AES256",
            **_part_checksum(part, algorithm),
        }

    async def upload_part_copy(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        upload = self.engine.get_upload(req["Bucket"], req["Key"], req["UploadId"])
        source_bucket, source_key = parse_copy_source(req.get("CopySource"))
        source = self.engine.require_object(source_bucket, source_key)
        evaluate(preconditions(req, "CopySource"), source.etag, source.last_modified, copy=True)
        selected = parse_range(req.get("CopySourceRange"), source.size)
        if req.get("CopySourceRange") and selected is None:
            raise AwsError(
                "InvalidArgument",
                "The x-amz-copy-source-range value must be of the form bytes=first-last where "
                "first and last are the zero-based offsets of the first and last bytes to copy",
                400,
            )
        start, end = selected or (0, source.size - 1)
        part = await self.engine.upload_part_copy(
            upload, int(req["PartNumber"]), source, start, max(0, end - start + 1)
        )
        result = {"ETag": part.etag, "LastModified": ts(part.last_modified)}
        result.update(_part_checksum(part, upload.spec.checksum_algorithm))
        return {"CopyPartResult": result, "ServerSideEncryption": "AES256"}

    async def complete_multipart_upload(
        self, req: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any]:
        parts = (req.get("MultipartUpload") or {}).get("Parts") or []
        conditions = ObjectWrite(if_none_match=req.get("IfNoneMatch"), if_match=req.get("IfMatch"))
        record = await self.engine.complete_upload(
            req["Bucket"], req["Key"], req["UploadId"], parts, actor(ctx), conditions
        )
        return {
            "Location": f"{ctx.base_url}/{req['Bucket']}/{req['Key']}",
            "Bucket": req["Bucket"],
            "Key": req["Key"],
            "ETag": record.etag,
            "ServerSideEncryption": "AES256",
            **checksum_members(record),
        }

    def abort_multipart_upload(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.engine.abort_upload(req["Bucket"], req["Key"], req["UploadId"])
        ctx.status = 204
        return {}

    def list_parts(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        upload = self.engine.get_upload(req["Bucket"], req["Key"], req["UploadId"])
        marker = int(req.get("PartNumberMarker") or 0)
        limit = max_keys(req, "MaxParts")
        parts = [p for p in self.engine.list_parts(upload.upload_id) if p.part_number > marker]
        page, truncated = parts[:limit], len(parts) > limit
        algorithm = upload.spec.checksum_algorithm
        out: dict[str, Any] = {
            "Bucket": upload.bucket,
            "Key": upload.key,
            "UploadId": upload.upload_id,
            "PartNumberMarker": marker,
            "MaxParts": limit,
            "IsTruncated": truncated,
            "Parts": [
                {
                    "PartNumber": p.part_number,
                    "LastModified": ts(p.last_modified),
                    "ETag": p.etag,
                    "Size": p.size,
                    **_part_checksum(p, algorithm),
                }
                for p in page
            ],
            "Initiator": self.owner(ctx),
            "Owner": self.owner(ctx),
            "StorageClass": "STANDARD",
        }
        if page:
            out["NextPartNumberMarker"] = page[-1].part_number
        if algorithm:
            out["ChecksumAlgorithm"] = algorithm
            out["ChecksumType"] = upload.checksum_type
        return out

    def list_multipart_uploads(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        bucket = req["Bucket"]
        limit = max_keys(req, "MaxUploads")
        key_marker = req.get("KeyMarker") or ""
        uploads = [
            u
            for u in self.engine.list_uploads(bucket, req.get("Prefix") or "")
            if str(u["key"]) > key_marker
        ]
        page = uploads[:limit]
        out: dict[str, Any] = {
            "Bucket": bucket,
            "KeyMarker": key_marker,
            "UploadIdMarker": req.get("UploadIdMarker") or "",
            "MaxUploads": limit,
            "IsTruncated": len(uploads) > limit,
            "Uploads": [
                {
                    "UploadId": u["upload_id"],
                    "Key": u["key"],
                    "Initiated": ts(float(u["initiated"])),  # type: ignore[arg-type]
                    "StorageClass": "STANDARD",
                    "Owner": self.owner(ctx),
                    "Initiator": self.owner(ctx),
                    **({"ChecksumAlgorithm": u["algorithm"]} if u["algorithm"] else {}),
                }
                for u in page
            ],
        }
        if req.get("Prefix"):
            out["Prefix"] = req["Prefix"]
        if out["IsTruncated"] and page:
            out["NextKeyMarker"] = page[-1]["key"]
            out["NextUploadIdMarker"] = page[-1]["upload_id"]
        if not page:
            del out["Uploads"]
        return out
