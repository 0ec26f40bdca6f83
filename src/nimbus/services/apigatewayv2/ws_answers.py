"""How integration answers become what a WebSocket client sees: a refused or accepted
handshake for $connect, and the frame a two-way route sends back."""

from __future__ import annotations

import base64
import json
from http import HTTPStatus
from typing import Any


class Refused(Exception):
    """The handshake is answered with this HTTP status and body instead of an upgrade."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


_KNOWN_STATUSES = frozenset(int(s) for s in HTTPStatus)


def as_json(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


def refused(status: int, text: str) -> Refused:
    return Refused(status, as_json({"message": text}))


def mock_connect(integration: dict[str, Any]) -> None:
    """A MOCK $connect answers the statusCode of its request template (200 without one)."""
    templates = integration.get("RequestTemplates") or {}
    template = templates.get("$default") or templates.get("application/json") or ""
    try:
        status = int(json.loads(template).get("statusCode", 200)) if template else 200
    except (ValueError, AttributeError, TypeError, RecursionError):
        status = 200
    if not 200 <= status < 300:
        raise Refused(status, b"")


def connect_answer(payload: bytes, accept: dict[str, Any]) -> dict[str, Any]:
    """A $connect function's answer: a non-2xx statusCode refuses the handshake with that
    status; its headers (Sec-WebSocket-Protocol) go to the client on success."""
    try:
        result = json.loads(payload) if payload else None
    except (ValueError, RecursionError):
        result = None
    if not isinstance(result, dict) or result.get("statusCode") is None:
        return accept
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        raise refused(500, "Internal server error") from None
    body = result.get("body")
    if not 200 <= status < 300:
        text = body if isinstance(body, str) else ("" if body is None else json.dumps(body))
        # Only statuses HTTP names: uvicorn needs a reason phrase for the refusal it sends.
        known = status in _KNOWN_STATUSES and status >= 400
        raise Refused(status if known else 500, text.encode())
    headers = result.get("headers") if isinstance(result.get("headers"), dict) else {}
    extra: list[tuple[bytes, bytes]] = []
    for name, value in headers.items():
        if str(name).lower() == "sec-websocket-protocol":
            accept["subprotocol"] = str(value)
        else:
            extra.append((str(name).lower().encode("latin-1"), str(value).encode("latin-1")))
    if extra:
        accept["headers"] = extra
    return accept


def reply_body(payload: bytes) -> bytes | None:
    """What a two-way route sends back: the proxy answer's ``body``, else the whole answer."""
    try:
        result = json.loads(payload) if payload else None
    except (ValueError, RecursionError):
        return payload
    if result is None:
        return None
    if isinstance(result, dict) and "statusCode" in result:
        body = result.get("body")
        if body is None:
            return None
        if not isinstance(body, str):
            return json.dumps(body).encode()
        if result.get("isBase64Encoded"):
            try:
                return base64.b64decode(body)
            except ValueError:
                return body.encode()
        return body.encode()
    if isinstance(result, str):
        return result.encode()
    return payload
