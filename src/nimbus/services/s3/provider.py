"""The S3 provider: AWS operations on top of :class:`S3Engine`, plus browser-facing hooks.

Operations live in three mixins (bucket, object, multipart). Response conventions:
``ctx.status`` is 204 for deletes, 206 for ranges, and 304 for "not modified" GET/HEAD (we
return ETag/LastModified with no body rather than raising, so the front writes a bare 304).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from nimbus.aws.context import RequestContext
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.s3.bucket_ops import BucketOps
from nimbus.services.s3.cors import match_rule
from nimbus.services.s3.engine import S3Engine
from nimbus.services.s3.multipart_ops import MultipartOps
from nimbus.services.s3.object_ops import ObjectOps
from nimbus.services.s3.shapes import parse_copy_source
from nimbus.services.s3.website import website_response

# Operations whose IAM action is not simply "s3:<OperationName>".
IAM_ACTIONS: dict[str, str] = {
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
    "HeadBucket": "ListBucket",
    "HeadObject": "GetObject",
    "CopyObject": "PutObject",
    "DeleteObjects": "DeleteObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "AbortMultipartUpload": "AbortMultipartUpload",
    "ListParts": "ListMultipartUploadParts",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListBuckets": "ListAllMyBuckets",
    "PutBucketCors": "PutBucketCORS",
    "GetBucketCors": "GetBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "DeleteBucketTagging": "PutBucketTagging",
    "GetObjectAttributes": "GetObjectAttributes",
}
OBJECT_OPERATIONS = {
    "PutObject", "GetObject", "HeadObject", "DeleteObject", "CopyObject",
    "CreateMultipartUpload", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
    "AbortMultipartUpload", "ListParts",
}  # fmt: skip


class S3Provider(BucketOps, ObjectOps, MultipartOps, Provider):
    service: ClassVar[str] = "s3"
    iam_prefix: ClassVar[str] = "s3"
    access_denied_code: ClassVar[str] = "AccessDenied"
    access_denied_status: ClassVar[int] = 403

    def __init__(self, env: ServiceEnv) -> None:
        super().__init__(env)
        self.engine = S3Engine(env.data_dir, env.region, env.account_id)

    def close(self) -> None:
        self.engine.close()

    def owner(self, ctx: RequestContext) -> dict[str, str]:
        return BucketOps.owner(self, ctx)

    # -- IAM --------------------------------------------------------------------------------

    def iam_action(self, operation: str, req: dict[str, Any]) -> str:
        return f"s3:{IAM_ACTIONS.get(operation, operation)}"

    def iam_resources(self, operation: str, req: dict[str, Any], ctx: RequestContext) -> list[str]:
        bucket = req.get("Bucket")
        if not bucket:
            return ["*"]
        if operation == "DeleteObjects":
            objects = (req.get("Delete") or {}).get("Objects") or []
            return [f"arn:aws:s3:::{bucket}/{o.get('Key', '')}" for o in objects] or [
                f"arn:aws:s3:::{bucket}/*"
            ]
        if operation in OBJECT_OPERATIONS and req.get("Key") is not None:
            return [f"arn:aws:s3:::{bucket}/{req['Key']}"]
        return [f"arn:aws:s3:::{bucket}"]

    def iam_checks(
        self, operation: str, req: dict[str, Any], ctx: RequestContext
    ) -> list[tuple[str, list[str]]]:
        checks = super().iam_checks(operation, req, ctx)
        source = req.get("CopySource")
        if source:  # CopyObject / UploadPartCopy also read the source object
            bucket, key = parse_copy_source(source)
            checks.append(("s3:GetObject", [f"arn:aws:s3:::{bucket}/{key}"]))
        return checks

    # -- called by the server for browsers ----------------------------------------------------

    def cors_headers(
        self, bucket: str, origin: str, method: str, request_headers: list[str]
    ) -> dict[str, str] | None:
        """Access-Control-* headers for a matching CORS rule, or None (preflight -> 403)."""
        try:
            config = self.engine.get_config(bucket, "cors")
        except Exception:  # no such bucket: no CORS
            return None
        return match_rule(config, origin, method, request_headers)

    def website_response(
        self, bucket: str, path: str
    ) -> tuple[int, dict[str, str], Iterable[bytes] | bytes]:
        """Serve a website-endpoint request; ``path`` is the percent-decoded URL path."""
        return website_response(self.engine, bucket, path)
