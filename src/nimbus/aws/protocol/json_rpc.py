"""The ``json`` protocol: POST /, ``X-Amz-Target: Prefix.Operation``, JSON 1.0/1.1 bodies."""

from __future__ import annotations

import json
from typing import Any

from botocore.model import OperationModel, ServiceModel

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest, HttpResponse
from nimbus.aws.protocol import native
from nimbus.aws.protocol.base import json_bytes, query_compatible
from nimbus.aws.protocol.validate import validate


def json_error(
    service: ServiceModel, err: AwsError, request_id: str, content_type: str
) -> HttpResponse:
    prefix = service.metadata.get("targetPrefix", "")
    namespace = _error_namespace(service) if prefix else ""
    body: dict[str, Any] = {"__type": f"{namespace}#{err.code}" if namespace else err.code}
    body["message"] = err.message
    body.update(err.extra)
    headers = [("content-type", content_type), ("x-amzn-requestid", request_id)]
    if query_compatible(service):
        headers.append(
            ("x-amzn-query-error", f"{err.code};{'Sender' if err.sender_fault else 'Receiver'}")
        )
    headers.extend(err.headers.items())
    return HttpResponse(err.status, headers, json_bytes(body))


def _error_namespace(service: ServiceModel) -> str:
    # DynamoDB answers "com.amazonaws.dynamodb.v20120810#Code"; botocore keeps what follows '#'.
    version = service.api_version.replace("-", "")
    return f"com.amazonaws.{service.endpoint_prefix}.v{version}"


class JsonProtocol:
    name = "json"

    async def operation(
        self, service: ServiceModel, request: HttpRequest
    ) -> tuple[OperationModel, Any]:
        target = request.headers.get("x-amz-target", "")
        _, _, op_name = target.rpartition(".")
        if op_name not in service.operation_names:
            raise AwsError(
                "UnknownOperationException",
                f"Unknown operation '{target}': X-Amz-Target must name a "
                f"{service.service_name} operation.",
                400,
            )
        return service.operation_model(op_name), None

    async def parse(self, op: OperationModel, request: HttpRequest, found: Any) -> dict[str, Any]:
        raw = await request.read()
        if not raw.strip():
            data: Any = {}
        else:
            try:
                data = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise AwsError(
                    "SerializationException",
                    "The request body is not valid JSON.",
                    400,
                ) from None
        shape = op.input_shape
        if shape is None:
            return {}
        params = native.decode(shape, data)
        validate(shape, params, "ValidationException")
        return params

    def serialize(
        self, op: OperationModel, output: dict[str, Any], ctx: RequestContext
    ) -> HttpResponse:
        version = op.service_model.metadata.get("jsonVersion", "1.0")
        headers = [
            ("content-type", f"application/x-amz-json-{version}"),
            ("x-amzn-requestid", ctx.request_id),
        ]
        headers.extend(ctx.response_headers.items())
        return HttpResponse(ctx.status or 200, headers, json_bytes(output))

    def error(self, service: ServiceModel, err: AwsError, request_id: str) -> HttpResponse:
        version = service.metadata.get("jsonVersion", "1.0")
        return json_error(service, err, request_id, f"application/x-amz-json-{version}")
