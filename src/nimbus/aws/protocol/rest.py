"""URI, query-string and header bindings shared by the rest-json and rest-xml protocols."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from botocore.model import OperationModel, ServiceModel, Shape

from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest
from nimbus.aws.protocol.timestamps import format_timestamp, to_datetime


@dataclass(slots=True)
class _Route:
    operation: OperationModel
    method: str
    pattern: re.Pattern[str]
    literal_query: dict[str, str | None]
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    literal_chars: int
    current: bool  # not deprecated: S3's PutBucketLifecycle shares its URI with the newer op
    # URI label per regex group: labels like "resource-arn" aren't valid group names.
    labels: tuple[str, ...]


def _compile(op: OperationModel) -> _Route:
    uri = op.http["requestUri"]
    path, _, query = uri.partition("?")
    literal_query: dict[str, str | None] = {}
    for part in filter(None, query.split("&")):
        key, sep, value = part.partition("=")
        literal_query[key] = value if sep else None
    regex = ""
    literal_chars = 0
    labels: list[str] = []
    for token in re.split(r"(\{[^}]+\})", path):
        if token.startswith("{"):
            name = token[1:-1]
            greedy = name.endswith("+")
            labels.append(name.rstrip("+"))
            regex += "(.+)" if greedy else "([^/]+)"
        else:
            regex += re.escape(token)
            literal_chars += len(token)
    if not regex.endswith(".+)"):
        regex = regex.rstrip("/") + "/?"
    shape = op.input_shape
    required_query: list[str] = []
    required_headers: list[str] = []
    if shape is not None:
        for name in shape.required_members:
            member = shape.members[name]
            where = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if where == "querystring":
                required_query.append(wire)
            elif where == "header":
                required_headers.append(wire.lower())
    return _Route(
        operation=op,
        method=op.http["method"],
        pattern=re.compile(f"^{regex}$"),
        literal_query=literal_query,
        required_query=tuple(required_query),
        required_headers=tuple(required_headers),
        literal_chars=literal_chars,
        current=not op.deprecated,
        labels=tuple(labels),
    )


class RestRouter:
    """Finds the operation a REST request addresses: method, path template, query and headers."""

    def __init__(self, service: ServiceModel) -> None:
        self.service = service
        self.routes = [_compile(service.operation_model(n)) for n in service.operation_names]

    def match(self, request: HttpRequest) -> tuple[OperationModel, dict[str, str]]:
        best: tuple[tuple[int, int, bool], _Route, dict[str, str]] | None = None
        query = request.query
        for route in self.routes:
            if route.method != request.method:
                continue
            found = route.pattern.match(request.path)
            if found is None:
                continue
            if any(
                key not in query or (want is not None and want not in query[key])
                for key, want in route.literal_query.items()
            ):
                continue
            if any(key not in query for key in route.required_query):
                continue
            if any(name not in request.headers for name in route.required_headers):
                continue
            score = (
                len(route.literal_query) + len(route.required_query) + len(route.required_headers),
                route.literal_chars,
                route.current,
            )
            if best is None or score > best[0]:
                best = (score, route, dict(zip(route.labels, found.groups(), strict=True)))
        if best is None:
            raise AwsError(
                "UnknownOperationException",
                f"No {self.service.service_name} operation matches "
                f"{request.method} {request.path}.",
                404,
            )
        return best[1].operation, best[2]


def decode_label(raw: str) -> str:
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise AwsError(
            "InvalidURI", "Couldn't parse the specified URI: it is not valid UTF-8.", 400
        ) from None


def parse_text(shape: Shape, text: str, where: str, code: str = "InvalidArgument") -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
        if kind == "boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if kind == "timestamp":
            return to_datetime(text)
        if kind == "blob":
            return base64.b64decode(text)
    except (ValueError, TypeError, OverflowError):
        raise AwsError(
            code, f"The value '{text[:64]}' of {where} is not a valid {kind}.", 400
        ) from None
    if kind == "string" and shape.serialization.get("jsonvalue"):
        try:
            return json.loads(base64.b64decode(text))
        except ValueError:
            raise AwsError(code, f"{where} is not base64-encoded JSON.", 400) from None
    return text


def bind_request(op: OperationModel, request: HttpRequest, labels: dict[str, str]) -> dict:
    """Members bound to the URI, the query string and headers. The body is the caller's."""
    shape = op.input_shape
    params: dict[str, Any] = {}
    if shape is None:
        return params
    bound_query: set[str] = set()
    query_map: str | None = None
    for name, member in shape.members.items():
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "uri":
            raw = labels.get(wire)
            if raw is not None:
                params[name] = parse_text(member, decode_label(raw), f"the URI label {wire}")
        elif where == "querystring":
            if member.type_name == "map":
                query_map = name
                continue
            values = request.query.get(wire)
            if values is None:
                continue
            bound_query.add(wire)
            if member.type_name == "list":
                params[name] = [parse_text(member.member, v, wire) for v in values]  # type: ignore[attr-defined]
            else:
                params[name] = parse_text(member, values[0], f"the query parameter {wire}")
        elif where == "header":
            value = request.headers.get(wire.lower())
            if value is None:
                continue
            if member.type_name == "list":
                params[name] = [
                    parse_text(member.member, v.strip(), wire)  # type: ignore[attr-defined]
                    for v in value.split(",")
                ]
            else:
                params[name] = parse_text(member, value, f"the header {wire}")
        elif where == "headers":
            prefix = wire.lower()
            found = {
                k[len(prefix) :]: v for k, v in request.headers.items() if k.startswith(prefix)
            }
            if found:
                params[name] = found
    if query_map is not None:
        rest = {k: v for k, v in parse_qsl(request.query_string) if k not in bound_query}
        if rest:
            params[query_map] = rest
    return params


def bind_response(
    op: OperationModel, output: dict[str, Any]
) -> tuple[int | None, list[tuple[str, str]]]:
    """The status code and headers that output members bound to them carry."""
    shape = op.output_shape
    headers: list[tuple[str, str]] = []
    status: int | None = None
    if shape is None:
        return status, headers
    for name, member in shape.members.items():
        value = output.get(name)
        if value is None:
            continue
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "statusCode":
            status = int(value)
        elif where == "header":
            headers.append((wire, _header_text(member, value)))
        elif where == "headers":
            headers.extend((wire + key, str(item)) for key, item in value.items())
    return status, headers


def _header_text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "timestamp":
        return str(format_timestamp(value, shape.serialization.get("timestampFormat", "rfc822")))
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "list":
        return ",".join(str(v) for v in value)
    if kind == "blob":
        return base64.b64encode(value).decode()
    if kind == "string" and shape.serialization.get("jsonvalue"):
        return base64.b64encode(json.dumps(value).encode()).decode()
    return str(value)


def payload_member(op_shape: Shape | None) -> str | None:
    return op_shape.serialization.get("payload") if op_shape is not None else None


def body_members(shape: Shape) -> dict[str, Shape]:
    return {
        name: member
        for name, member in shape.members.items()  # type: ignore[attr-defined]
        if member.serialization.get("location") is None
    }


class RestRouting:
    """What rest-json and rest-xml share: one compiled router per service."""

    def __init__(self) -> None:
        self._routers: dict[str, RestRouter] = {}

    async def operation(
        self, service: ServiceModel, request: HttpRequest
    ) -> tuple[OperationModel, dict[str, str]]:
        router = self._routers.get(service.service_name)
        if router is None:
            router = self._routers[service.service_name] = RestRouter(service)
        return router.match(request)
