"""Lambda proxy events (payload formats 1.0 and 2.0) and the mapping of Lambda results back
to HTTP responses, following the AWS documentation for HTTP APIs."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

# Bodies with these content types reach the function as text; others are base64-encoded.
_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml")
_TEXT_SUFFIXES = ("+json", "+xml")


@dataclass(slots=True)
class Invocation:
    """Everything about one execute-api request that the events are built from."""

    api_id: str
    account_id: str
    stage: str
    route_key: str
    resource_path: str  # "/items/{id}" (or "$default")
    method: str
    raw_path: str  # the path the client sent, stage prefix included, still percent-encoded
    route_path: str  # the path below the stage
    query_string: str
    headers: dict[str, str]  # lower-case names, repeats joined with ","
    body: bytes
    path_parameters: dict[str, str]
    stage_variables: dict[str, str] | None
    domain_name: str
    source_ip: str
    request_id: str
    epoch_ms: int
    authorizer: dict[str, Any] | None = None


def is_text(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith(_TEXT_TYPES) or kind.endswith(_TEXT_SUFFIXES)


def _body(inv: Invocation) -> tuple[str | None, bool]:
    if not inv.body:
        return None, False
    if is_text(inv.headers.get("content-type", "")):
        try:
            return inv.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(inv.body).decode("ascii"), True


_CLF_CACHE: list[Any] = [-1, ""]


def clf_time(epoch_ms: int) -> str:
    """Common-log-format time, as ``requestContext.time``: ``12/Mar/2020:19:03:58 +0000``.
    Cached per second: formatting is a visible share of building an event."""
    second = epoch_ms // 1000
    if _CLF_CACHE[0] != second:
        _CLF_CACHE[0] = second
        _CLF_CACHE[1] = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(second))
    return _CLF_CACHE[1]


def _domain_prefix(inv: Invocation) -> str:
    return inv.api_id


def event_v2(inv: Invocation) -> dict[str, Any]:
    headers = dict(inv.headers)
    cookie = headers.pop("cookie", None)
    http = {
        "method": inv.method,
        "path": inv.raw_path,
        "protocol": "HTTP/1.1",
        "sourceIp": inv.source_ip,
        "userAgent": headers.get("user-agent", ""),
    }
    context: dict[str, Any] = {
        "accountId": inv.account_id,
        "apiId": inv.api_id,
        "domainName": inv.domain_name,
        "domainPrefix": _domain_prefix(inv),
        "http": http,
        "requestId": inv.request_id,
        "routeKey": inv.route_key,
        "stage": inv.stage,
        "time": clf_time(inv.epoch_ms),
        "timeEpoch": inv.epoch_ms,
    }
    if inv.authorizer is not None:
        context["authorizer"] = inv.authorizer
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": inv.route_key,
        "rawPath": inv.raw_path,
        "rawQueryString": inv.query_string,
    }
    if cookie:
        event["cookies"] = [c.strip() for c in cookie.replace(",", ";").split(";") if c.strip()]
    event["headers"] = headers
    if inv.query_string:
        joined: dict[str, str] = {}
        for key, value in parse_qsl(inv.query_string, keep_blank_values=True):
            joined[key] = f"{joined[key]},{value}" if key in joined else value
        event["queryStringParameters"] = joined
    event["requestContext"] = context
    body, encoded = _body(inv)
    if body is not None:
        event["body"] = body
    if inv.path_parameters:
        event["pathParameters"] = inv.path_parameters
    event["isBase64Encoded"] = encoded
    if inv.stage_variables:
        event["stageVariables"] = inv.stage_variables
    return event


def event_v1(inv: Invocation) -> dict[str, Any]:
    multi_query: dict[str, list[str]] = {}
    for key, value in parse_qsl(inv.query_string, keep_blank_values=True):
        multi_query.setdefault(key, []).append(value)
    body, encoded = _body(inv)
    user_agent = inv.headers.get("user-agent")
    identity = {
        "accessKey": None,
        "accountId": None,
        "caller": None,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "principalOrgId": None,
        "sourceIp": inv.source_ip,
        "user": None,
        "userAgent": user_agent,
        "userArn": None,
    }
    context: dict[str, Any] = {
        "accountId": inv.account_id,
        "apiId": inv.api_id,
        "authorizer": inv.authorizer
        if inv.authorizer is not None
        else {"claims": None, "scopes": None},
        "domainName": inv.domain_name,
        "domainPrefix": _domain_prefix(inv),
        "extendedRequestId": inv.request_id,
        "httpMethod": inv.method,
        "identity": identity,
        "path": inv.raw_path,
        "protocol": "HTTP/1.1",
        "requestId": inv.request_id,
        "requestTime": clf_time(inv.epoch_ms),
        "requestTimeEpoch": inv.epoch_ms,
        "resourceId": None,  # as documented for HTTP APIs
        "resourcePath": inv.resource_path,
        "stage": inv.stage,
    }
    return {
        "version": "1.0",
        "resource": inv.resource_path,
        "path": inv.route_path,
        "httpMethod": inv.method,
        "headers": dict(inv.headers),
        "multiValueHeaders": {name: [value] for name, value in inv.headers.items()},
        "queryStringParameters": {k: v[0] for k, v in multi_query.items()} or None,  # as documented
        "multiValueQueryStringParameters": multi_query or None,
        "requestContext": context,
        "pathParameters": inv.path_parameters or None,
        "stageVariables": inv.stage_variables or None,
        "body": body,
        "isBase64Encoded": encoded,
    }


class BadLambdaResponse(Exception):
    """The function answered something API Gateway cannot turn into a response (500)."""


Mapped = tuple[int, list[tuple[str, str]], bytes]


def _decode_body(result: dict[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        body = json.dumps(body)
    if result.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except ValueError:
            raise BadLambdaResponse("body is not valid base64") from None
    return body.encode("utf-8")


def _status(result: dict[str, Any]) -> int:
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise BadLambdaResponse(f"statusCode {status!r} is not an HTTP status")
    return status


def _headers(result: dict[str, Any]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise BadLambdaResponse("headers must be an object")
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            headers.append((str(name), str(value)))
    seen = {name.lower() for name, _ in headers}
    for name, value in single.items():
        if str(name).lower() not in seen:
            headers.append((str(name), _header_text(value)))
    return headers


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def response_v2(payload: bytes) -> Mapped:
    """Payload format 2.0: a dict with ``statusCode`` is a response; any other JSON value is a
    200 ``application/json`` body of that value."""
    try:
        result = json.loads(payload) if payload else None
    except ValueError:
        raise BadLambdaResponse("the function did not return JSON") from None
    if not isinstance(result, dict) or "statusCode" not in result:
        # A bare string is the body itself; any other JSON value is sent as JSON.
        body = result.encode() if isinstance(result, str) else (payload or b"null")
        return 200, [("content-type", "application/json")], body
    status = _status(result)
    headers = _headers(result)
    for cookie in result.get("cookies") or []:
        headers.append(("set-cookie", str(cookie)))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    return status, headers, _decode_body(result)


def response_v1(payload: bytes) -> Mapped:
    """Payload format 1.0: ``statusCode`` is required."""
    try:
        result = json.loads(payload) if payload else None
    except ValueError:
        raise BadLambdaResponse("the function did not return JSON") from None
    if not isinstance(result, dict):
        raise BadLambdaResponse("a 1.0 response must be an object with statusCode")
    status = _status(result)
    headers = _headers(result)
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    return status, headers, _decode_body(result)
