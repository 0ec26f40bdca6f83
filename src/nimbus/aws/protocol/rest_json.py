"""The ``rest-json`` protocol (Lambda, API Gateway v2, Bedrock): REST routing and JSON bodies."""

from __future__ import annotations

import json
from typing import Any

from botocore.model import OperationModel, ServiceModel

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest, HttpResponse
from nimbus.aws.protocol import eventstream, native, rest
from nimbus.aws.protocol.base import json_bytes
from nimbus.aws.protocol.eventstream import EventStreamBody
from nimbus.aws.protocol.validate import validate


def _load(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise AwsError(
            "SerializationException", "The request body is not valid JSON.", 400
        ) from None


_VALIDATION_CODES: dict[str, str] = {}


def _validation_code(service: ServiceModel) -> str:
    """API Gateway answers constraint violations with its BadRequestException (cached: the
    shape-name list is long and this runs on every request)."""
    code = _VALIDATION_CODES.get(service.service_name)
    if code is None:
        found = "BadRequestException" in service.shape_names
        code = "BadRequestException" if found else "ValidationException"
        _VALIDATION_CODES[service.service_name] = code
    return code


class RestJsonProtocol(rest.RestRouting):
    name = "rest-json"

    async def parse(self, op: OperationModel, request: HttpRequest, found: Any) -> dict[str, Any]:
        params = rest.bind_request(op, request, found)
        shape = op.input_shape
        if shape is None:
            return params
        payload = rest.payload_member(shape)
        if payload is not None:
            member = shape.members[payload]
            if member.type_name == "blob" and member.serialization.get("streaming"):
                params[payload] = request.body
            else:
                body = await request.read()
                if member.type_name == "blob":
                    params[payload] = body
                elif member.type_name == "string":
                    params[payload] = body.decode("utf-8", "replace")
                elif body.strip():
                    params[payload] = native.decode(member, _load(body), payload)
        elif rest.body_members(shape):
            body = await request.read()
            if body.strip():
                params.update(native.decode(shape, _load(body)))
        validate(shape, params, _validation_code(op.service_model))
        return params

    def serialize(
        self, op: OperationModel, output: dict[str, Any], ctx: RequestContext
    ) -> HttpResponse:
        status, headers = rest.bind_response(op, output)
        headers.append(("x-amzn-requestid", ctx.request_id))
        headers.extend(ctx.response_headers.items())
        shape = op.output_shape
        body: Any = b""
        if shape is not None:
            payload = rest.payload_member(shape)
            if payload is not None:
                value = output.get(payload)
                member = shape.members[payload]
                if value is None:
                    body = b""
                elif member.serialization.get("eventstream"):
                    body = EventStreamBody(member, value)
                    headers.append(("content-type", eventstream.CONTENT_TYPE))
                elif member.type_name in ("blob", "string"):
                    body = value.encode() if isinstance(value, str) else value
                else:
                    encode = native.wire_encoder(member)
                    body = json_bytes(value if encode is None else encode(value))
                    headers.append(("content-type", "application/json"))
            else:
                members = rest.body_members(shape)
                doc = {k: v for k, v in output.items() if k in members and v is not None}
                encode = native.wire_encoder(shape)
                body = json_bytes(doc if encode is None else encode(doc))
                headers.append(("content-type", "application/json"))
        return HttpResponse(ctx.status or status or 200, headers, body)

    def error(self, service: ServiceModel, err: AwsError, request_id: str) -> HttpResponse:
        body = json_bytes({"message": err.message, "Message": err.message, **err.extra})
        headers = [
            ("content-type", "application/json"),
            ("x-amzn-errortype", err.code),
            ("x-amzn-requestid", request_id),
            *err.headers.items(),
        ]
        return HttpResponse(err.status, headers, body)
