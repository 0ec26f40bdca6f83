"""Amazon SageMaker Runtime (botocore ``sagemaker-runtime``, rest-json): InvokeEndpoint."""

from __future__ import annotations

from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.base import Provider

Req = dict[str, Any]
Out = dict[str, Any]
PAYLOAD_LIMIT = 6 * 1024 * 1024


class SageMakerRuntimeProvider(Provider):
    service = "sagemaker-runtime"
    iam_prefix = "sagemaker"  # botocore signs runtime calls with the signing name "sagemaker"

    def iam_resources(self, operation: str, req: Req, ctx: RequestContext) -> list[str]:
        name = req.get("EndpointName")
        if not name:
            return ["*"]
        return [f"arn:aws:sagemaker:{ctx.region}:{self.env.account_id}:endpoint/{name.lower()}"]

    async def invoke_endpoint(self, req: Req, ctx: RequestContext) -> Out:
        body = req.get("Body") or b""
        if len(body) > PAYLOAD_LIMIT:
            # AWS's front answers 413 before the endpoint sees the request.
            raise AwsError(
                "ValidationError", f"HTTP content length exceeded {PAYLOAD_LIMIT} bytes.", 413
            )
        sagemaker = self.env.registry.get("sagemaker")
        result = await sagemaker.invoke_endpoint_direct(
            req["EndpointName"],
            body,
            req.get("ContentType") or "",
            req.get("Accept") or "",
            req.get("TargetVariant"),
            req.get("CustomAttributes"),
        )
        out: Out = {
            "Body": result.body,
            "ContentType": result.content_type,
            "InvokedProductionVariant": result.variant,
        }
        if result.custom_attributes is not None:
            out["CustomAttributes"] = result.custom_attributes
        return out
