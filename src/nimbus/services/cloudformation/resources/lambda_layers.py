"""AWS::Lambda::LayerVersion and AWS::Lambda::LayerVersionPermission via the Lambda provider.

A SAM ``AWS::Serverless::LayerVersion`` with a local ``ContentUri`` folder arrives here as
``Content: {S3Bucket: LOCAL_CODE_BUCKET, S3Key: <folder>}``; the folder is copied (a layer
version never changes).
"""

from __future__ import annotations

from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.cloudformation.resources.base import Applied, Deployment, Handler
from nimbus.services.cloudformation.sam import LOCAL_CODE_BUCKET

_OPTIONAL = ("Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo")


class LayerVersion(Handler):
    """Every property change replaces it (a new version); the Ref is the version's ARN."""

    type = "AWS::Lambda::LayerVersion"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        name = props.get("LayerName") or d.generated_name(logical_id, 140)
        content = props.get("Content") or {}
        if content.get("S3Bucket") == LOCAL_CODE_BUCKET:
            out = d.provider("lambda").publish_layer_version_from_folder(
                name,
                content["S3Key"],
                description=props.get("Description") or "",
                compatible_runtimes=props.get("CompatibleRuntimes"),
                license_info=props.get("LicenseInfo"),
            )
        else:
            req = {"LayerName": name, **{k: props[k] for k in _OPTIONAL if props.get(k)}}
            req["Content"] = {k: v for k, v in content.items() if k in ("S3Bucket", "S3Key")}
            out = await d.call("lambda", "publish_layer_version", req)
        return Applied(out["LayerVersionArn"], {"LayerVersionArn": out["LayerVersionArn"]})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        layer, _, number = physical_id.rpartition(":")
        if number.isdigit():
            await d.call(
                "lambda", "delete_layer_version", {"LayerName": layer, "VersionNumber": int(number)}
            )


class LayerVersionPermission(Handler):
    """Accepted and remembered; Nimbus has one account, so sharing a layer changes nothing."""

    type = "AWS::Lambda::LayerVersionPermission"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        if not props.get("LayerVersionArn") or not props.get("Action"):
            raise AwsError(
                "ValidationError", f"{logical_id}: LayerVersionArn and Action are required."
            )
        return Applied(f"{props['LayerVersionArn']}#{d.generated_name(logical_id)}", {})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        return None


HANDLERS: list[Handler] = [LayerVersion(), LayerVersionPermission()]
