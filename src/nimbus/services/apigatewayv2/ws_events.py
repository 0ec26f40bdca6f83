"""Lambda events of WebSocket APIs ($connect, messages, $disconnect, the $connect authorizer),
shaped and ordered as API Gateway sends them."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from nimbus.services.apigatewayv2.connections import Connection
from nimbus.services.apigatewayv2.events import clf_time

# Hop-by-hop headers of the upgrade request that API Gateway does not pass on.
_DROPPED = frozenset({"connection", "upgrade"})


def header_name(name: str) -> str:
    """API Gateway passes header names as the client wrote them; the ASGI server hands them over
    lower-cased, so they are restored to the spelling browsers send (``Sec-WebSocket-Key``)."""
    parts = [p.capitalize() for p in name.split("-")]
    return "-".join("WebSocket" if p == "Websocket" else p for p in parts)


@dataclass(slots=True)
class Handshake:
    """The opening HTTP request of a connection: headers as the client wrote them."""

    headers: list[tuple[str, str]]
    query_string: str
    port: str

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


def _context(
    conn: Connection,
    route_key: str,
    event_type: str,
    request_id: str,
    now_ms: int,
    first: dict[str, Any] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {"routeKey": route_key, **(first or {})}
    if conn.authorizer is not None:
        context["authorizer"] = conn.authorizer
    context.update(
        {
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": clf_time(now_ms),
            "messageDirection": "IN",
        }
    )
    if reason is not None:
        context["disconnectReason"] = reason
    identity = {"sourceIp": conn.source_ip}
    if conn.user_agent:
        identity = {"userAgent": conn.user_agent, **identity}
    context.update(
        {
            "stage": conn.stage,
            "connectedAt": int(conn.connected_at * 1000),
            "requestTimeEpoch": now_ms,
            "identity": identity,
            "requestId": request_id,
            "domainName": conn.domain_name,
            "connectionId": conn.connection_id,
            "apiId": conn.api_id,
        }
    )
    return context


def _request_parts(conn: Connection, hs: Handshake) -> dict[str, Any]:
    headers: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for raw, value in hs.headers:
        if raw.lower() in _DROPPED:
            continue
        name = header_name(raw)
        headers[name] = f"{headers[name]},{value}" if name in headers else value
        multi.setdefault(name, []).append(value)
    lower = {name.lower() for name in headers}
    for name, value in (
        ("X-Forwarded-For", conn.source_ip),
        ("X-Forwarded-Port", hs.port),
        ("X-Forwarded-Proto", "http"),
    ):
        if name.lower() not in lower:
            headers[name] = value
            multi[name] = [value]
    parts: dict[str, Any] = {"headers": headers, "multiValueHeaders": multi}
    pairs = parse_qsl(hs.query_string, keep_blank_values=True)
    if pairs:
        multi_query: dict[str, list[str]] = {}
        for key, value in pairs:
            multi_query.setdefault(key, []).append(value)
        parts["queryStringParameters"] = {k: v[-1] for k, v in multi_query.items()}
        parts["multiValueQueryStringParameters"] = multi_query
    return parts


def connect_event(
    conn: Connection,
    hs: Handshake,
    request_id: str,
    now_ms: int,
    stage_variables: dict[str, str] | None,
) -> dict[str, Any]:
    event = _request_parts(conn, hs)
    event["requestContext"] = _context(conn, "$connect", "CONNECT", request_id, now_ms)
    if stage_variables:
        event["stageVariables"] = stage_variables
    event["isBase64Encoded"] = False
    return event


def authorizer_event(
    conn: Connection,
    hs: Handshake,
    request_id: str,
    now_ms: int,
    method_arn: str,
    stage_variables: dict[str, str] | None,
) -> dict[str, Any]:
    parts = _request_parts(conn, hs)
    return {
        "type": "REQUEST",
        "methodArn": method_arn,
        **parts,
        "stageVariables": stage_variables or {},
        "requestContext": _context(conn, "$connect", "CONNECT", request_id, now_ms),
    }


def message_event(
    conn: Connection,
    route_key: str,
    body: str | bytes,
    request_id: str,
    message_id: str,
    now_ms: int,
    stage_variables: dict[str, str] | None,
) -> dict[str, Any]:
    first = {"messageId": message_id}
    event: dict[str, Any] = {
        "requestContext": _context(conn, route_key, "MESSAGE", request_id, now_ms, first)
    }
    if isinstance(body, bytes):
        event["body"] = base64.b64encode(body).decode("ascii")
        encoded = True
    else:
        event["body"] = body
        encoded = False
    if stage_variables:
        event["stageVariables"] = stage_variables
    event["isBase64Encoded"] = encoded
    return event


def disconnect_event(
    conn: Connection,
    code: int,
    reason: str,
    request_id: str,
    now_ms: int,
    stage_variables: dict[str, str] | None,
) -> dict[str, Any]:
    # What API Gateway sends on $disconnect: the connection's host and three empty headers.
    headers = {"Host": conn.host, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
    first = {"disconnectStatusCode": code}
    event: dict[str, Any] = {
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "requestContext": _context(
            conn, "$disconnect", "DISCONNECT", request_id, now_ms, first, reason
        ),
    }
    if stage_variables:
        event["stageVariables"] = stage_variables
    event["isBase64Encoded"] = False
    return event
