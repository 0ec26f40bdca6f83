"""The ``smithy-rpc-v2-cbor`` protocol: POST /service/{S}/operation/{Op} with CBOR bodies."""

from __future__ import annotations

from typing import Any

import cbor2
from botocore.model import OperationModel, ServiceModel

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest, HttpResponse
from nimbus.aws.protocol import native
from nimbus.aws.protocol.base import query_compatible
from nimbus.aws.protocol.validate import validate

_HEADERS = [("content-type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]


def _clean(value: Any) -> Any:
    """Drop None members: CBOR has null but botocore would surface it as a value."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


class CborProtocol:
    name = "smithy-rpc-v2-cbor"

    async def operation(
        self, service: ServiceModel, request: HttpRequest
    ) -> tuple[OperationModel, Any]:
        op_name = request.path.rstrip("/").rpartition("/operation/")[2]
        if op_name not in service.operation_names:
            raise AwsError(
                "UnknownOperationException",
                f"Unknown operation '{op_name}' for {service.service_name}.",
                404,
            )
        return service.operation_model(op_name), None

    async def parse(self, op: OperationModel, request: HttpRequest, found: Any) -> dict[str, Any]:
        raw = await request.read()
        shape = op.input_shape
        if shape is None:
            return {}
        if raw:
            try:
                data = cbor2.loads(raw)
            except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError) as exc:
                raise AwsError(
                    "SerializationException", f"The request body is not valid CBOR ({exc}).", 400
                ) from None
        else:
            data = {}
        params = native.decode(shape, data, blobs_base64=False)
        validate(shape, params, "ValidationException")
        return params

    def serialize(
        self, op: OperationModel, output: dict[str, Any], ctx: RequestContext
    ) -> HttpResponse:
        body = cbor2.dumps(_clean(output), datetime_as_timestamp=True, timezone=None)
        headers = [*_HEADERS, ("x-amzn-requestid", ctx.request_id), *ctx.response_headers.items()]
        return HttpResponse(ctx.status or 200, headers, body)

    def error(self, service: ServiceModel, err: AwsError, request_id: str) -> HttpResponse:
        namespace = service.metadata.get("targetPrefix") or service.service_name
        body = {"__type": f"{namespace}#{err.code}", "message": err.message, **err.extra}
        headers = [*_HEADERS, ("x-amzn-requestid", request_id)]
        if query_compatible(service):
            fault = "Sender" if err.sender_fault else "Receiver"
            headers.append(("x-amzn-query-error", f"{err.code};{fault}"))
        return HttpResponse(err.status, headers, cbor2.dumps(_clean(body)))
