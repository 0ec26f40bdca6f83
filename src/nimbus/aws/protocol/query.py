"""The ``query`` protocol (IAM, STS): form-encoded ``Action=...`` requests, XML responses."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from botocore.model import OperationModel, ServiceModel, Shape

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest, HttpResponse
from nimbus.aws.protocol import xml
from nimbus.aws.protocol.rest import parse_text
from nimbus.aws.protocol.validate import validate


def _namespace(service: ServiceModel) -> str:
    return service.metadata.get("xmlNamespace") or (
        f"https://{service.endpoint_prefix}.amazonaws.com/doc/{service.api_version}/"
    )


def _decode(shape: Shape, form: dict[str, str], prefix: str) -> Any:
    kind = shape.type_name
    if kind == "structure":
        result: dict[str, Any] = {}
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            key = (
                f"{prefix}.{member.serialization.get('name', name)}"
                if prefix
                else (member.serialization.get("name", name))
            )
            value = _decode(member, form, key)
            if value is not None:
                result[name] = value
        return result if result or not prefix else None
    if kind == "list":
        member = shape.member  # type: ignore[attr-defined]
        if shape.serialization.get("flattened"):
            base = prefix
        else:
            base = f"{prefix}.{member.serialization.get('name', 'member')}"
        items = []
        index = 1
        while True:
            item = _decode(member, form, f"{base}.{index}")
            if item is None:
                break
            items.append(item)
            index += 1
        if not items and prefix in form:  # "Names=" means an empty list
            return []
        return items or None
    if kind == "map":
        key_shape, value_shape = shape.key, shape.value  # type: ignore[attr-defined]
        base = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        key_name = key_shape.serialization.get("name", "key")
        value_name = value_shape.serialization.get("name", "value")
        mapping: dict[str, Any] = {}
        index = 1
        while f"{base}.{index}.{key_name}" in form:
            mapping[form[f"{base}.{index}.{key_name}"]] = _decode(
                value_shape, form, f"{base}.{index}.{value_name}"
            )
            index += 1
        return mapping or None
    text = form.get(prefix)
    if text is None:
        return None
    return parse_text(shape, text, prefix, "ValidationError")


class QueryProtocol:
    name = "query"

    def _form(self, request_body: bytes, query_string: str) -> dict[str, str]:
        try:
            text = request_body.decode("utf-8")
        except UnicodeDecodeError:
            raise AwsError(
                "MalformedQueryString", "The request body is not valid UTF-8.", 400
            ) from None
        return dict(parse_qsl(query_string, keep_blank_values=True)) | dict(
            parse_qsl(text, keep_blank_values=True)
        )

    async def operation(
        self, service: ServiceModel, request: HttpRequest
    ) -> tuple[OperationModel, dict[str, str]]:
        form = self._form(await request.read(), request.query_string)
        action = form.get("Action", "")
        if action not in service.operation_names:
            raise AwsError(
                "InvalidAction",
                f"The action {action or '(none)'} is not valid for this web service.",
                400,
            )
        return service.operation_model(action), form

    async def parse(self, op: OperationModel, request: HttpRequest, found: Any) -> dict[str, Any]:
        shape = op.input_shape
        if shape is None:
            return {}
        params = _decode(shape, found, "") or {}
        validate(shape, params, "ValidationError")
        return params

    def serialize(
        self, op: OperationModel, output: dict[str, Any], ctx: RequestContext
    ) -> HttpResponse:
        name = op.name
        out = [f'<{name}Response xmlns="{_namespace(op.service_model)}">']
        shape = op.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
            out.append(f"<{wrapper}>")
            xml.encode_members(shape, output, out, "iso8601")
            out.append(f"</{wrapper}>")
        out.append(f"<ResponseMetadata><RequestId>{ctx.request_id}</RequestId></ResponseMetadata>")
        out.append(f"</{name}Response>")
        headers = [("content-type", "text/xml"), ("x-amzn-requestid", ctx.request_id)]
        headers.extend(ctx.response_headers.items())
        return HttpResponse(ctx.status or 200, headers, "".join(out).encode())

    def error(self, service: ServiceModel, err: AwsError, request_id: str) -> HttpResponse:
        kind = "Sender" if err.sender_fault else "Receiver"
        out = [f'<ErrorResponse xmlns="{_namespace(service)}"><Error><Type>{kind}</Type>']
        out.append(
            f"<Code>{xml._escape(err.code)}</Code><Message>{xml._escape(err.message)}</Message>"
        )
        out.append(f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        headers = [("content-type", "text/xml"), ("x-amzn-requestid", request_id)]
        return HttpResponse(err.status, headers, "".join(out).encode())
