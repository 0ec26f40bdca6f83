"""Bucket-level S3 operations of the provider (lifecycle and configuration documents)."""

from __future__ import annotations

import json
from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.s3.core import canonical_user_id
from nimbus.services.s3.cors import validate_cors
from nimbus.services.s3.engine import S3Engine
from nimbus.services.s3.shapes import ts
from nimbus.services.s3.website import validate_website

# Config documents: (engine config name, missing-code, missing-message)
_MISSING = {
    "cors": ("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
    "website": (
        "NoSuchWebsiteConfiguration",
        "The specified bucket does not have a website configuration",
    ),
    "policy": ("NoSuchBucketPolicy", "The bucket policy does not exist"),
    "tagging": ("NoSuchTagSet", "The TagSet does not exist"),
}


class BucketOps:
    engine: S3Engine

    def owner(self, ctx: RequestContext) -> dict[str, str]:
        return {"DisplayName": "nimbus", "ID": canonical_user_id(ctx.account_id)}

    def _config(self, bucket: str, name: str) -> Any:
        value = self.engine.get_config(bucket, name)
        if value is None:
            code, message = _MISSING[name]
            raise AwsError(code, message, 404, extra={"BucketName": bucket})
        return value

    def create_bucket(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        bucket = req["Bucket"]
        location = (req.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
        if location == "us-east-1":
            raise AwsError(
                "InvalidLocationConstraint", "The specified location-constraint is not valid", 400
            )
        if (location or "us-east-1") != ctx.region:
            raise AwsError(
                "IllegalLocationConstraintException",
                f"The {location or 'unspecified'} location constraint is incompatible for the "
                f"region specific endpoint this request was sent to.",
                400,
            )
        self.engine.create_bucket(bucket, ctx.account_id, location)
        return {"Location": f"/{bucket}"}

    def delete_bucket(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.engine.delete_bucket(req["Bucket"])
        ctx.status = 204
        return {}

    def list_buckets(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        prefix = req.get("Prefix") or ""
        buckets = [
            {"Name": b["name"], "CreationDate": ts(b["created"]), "BucketRegion": b["region"]}
            for b in self.engine.list_buckets(ctx.account_id)
            if b["name"].startswith(prefix)
        ]
        out: dict[str, Any] = {"Buckets": buckets, "Owner": self.owner(ctx)}
        if prefix:
            out["Prefix"] = prefix
        return out

    def head_bucket(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return {"BucketRegion": self.engine.bucket_region(req["Bucket"]), "AccessPointAlias": False}

    def get_bucket_location(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        location = self.engine.require_bucket(req["Bucket"])["location"]
        return {"LocationConstraint": location} if location else {}

    def put_bucket_cors(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        config = validate_cors(req.get("CORSConfiguration") or {})
        self.engine.set_config(req["Bucket"], "cors", config)
        return {}

    def get_bucket_cors(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return dict(self._config(req["Bucket"], "cors"))

    def delete_bucket_cors(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.engine.set_config(req["Bucket"], "cors", None)
        ctx.status = 204
        return {}

    def put_bucket_website(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        config = validate_website(req.get("WebsiteConfiguration") or {})
        self.engine.set_config(req["Bucket"], "website", config)
        return {}

    def get_bucket_website(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return dict(self._config(req["Bucket"], "website"))

    def delete_bucket_website(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.engine.set_config(req["Bucket"], "website", None)
        ctx.status = 204
        return {}

    def put_bucket_policy(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        policy = req.get("Policy")
        if isinstance(policy, bytes):
            policy = policy.decode()
        try:
            parsed = json.loads(policy or "")
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not str(policy).lstrip().startswith("{"):
            raise AwsError(
                "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'", 400
            )
        self.engine.set_config(req["Bucket"], "policy", policy)
        ctx.status = 204
        return {}

    def get_bucket_policy(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return {"Policy": self._config(req["Bucket"], "policy")}

    def delete_bucket_policy(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.engine.set_config(req["Bucket"], "policy", None)
        ctx.status = 204
        return {}

    def put_bucket_tagging(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        tags = (req.get("Tagging") or {}).get("TagSet") or []
        keys = [tag.get("Key") for tag in tags]
        if len(set(keys)) != len(keys):
            raise AwsError("InvalidTag", "Cannot provide multiple Tags with the same key", 400)
        self.engine.set_config(req["Bucket"], "tagging", tags)
        ctx.status = 204
        return {}

    def get_bucket_tagging(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return {"TagSet": self._config(req["Bucket"], "tagging")}

    def delete_bucket_tagging(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.engine.set_config(req["Bucket"], "tagging", None)
        ctx.status = 204
        return {}

    def put_bucket_notification_configuration(
        self, req: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any]:
        config = req.get("NotificationConfiguration") or {}
        self.engine.put_notification_configuration(req["Bucket"], config)
        return {}

    def get_bucket_notification_configuration(
        self, req: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any]:
        return dict(self.engine.get_notification_configuration(req["Bucket"]))
