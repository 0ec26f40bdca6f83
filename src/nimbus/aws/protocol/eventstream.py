"""AWS event streams (``application/vnd.amazon.eventstream``): framing of streaming outputs.

A message is a prelude (total length, headers length, CRC32 of those 8 bytes), the headers
(name length, name, value type, value), the payload and a CRC32 of everything before it.
A provider returns a streaming member as an (async) iterator of events shaped like what boto3
yields, ``{"contentBlockDelta": {...}}``; :class:`EventStreamBody` frames each one. An
:class:`AwsError` raised by the iterator mid-stream becomes an ``exception`` message
(``:exception-type`` is the stream's member for that error) that boto3 raises as
``EventStreamError``; any other failure ends the stream with an ``internalServerException``.
"""

from __future__ import annotations

import json
import logging
import struct
import uuid
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from datetime import datetime
from typing import Any

from botocore.model import Shape

from nimbus.aws.errors import AwsError
from nimbus.aws.protocol.base import _json_default, json_bytes

log = logging.getLogger("nimbus.eventstream")

CONTENT_TYPE = "application/vnd.amazon.eventstream"

# Header value types of the event-stream encoding.
_TRUE, _FALSE, _BYTE, _SHORT, _INT, _LONG, _BYTES, _STRING, _TIMESTAMP, _UUID = range(10)

# One encoder for every event: json.dumps(..., separators=...) builds a new one per call.
_JSON = json.JSONEncoder(separators=(",", ":"), default=_json_default)


def event_json(value: Any) -> bytes:
    return _JSON.encode(value).encode()


Events = AsyncIterable[dict[str, Any]] | Iterable[dict[str, Any]]
PayloadEncoder = Callable[[Any], bytes]


def _header_value(value: Any) -> bytes:
    if value is True:
        return bytes([_TRUE])
    if value is False:
        return bytes([_FALSE])
    if isinstance(value, int):
        return struct.pack(">Bq", _LONG, value)
    if isinstance(value, bytes | bytearray):
        return struct.pack(">BH", _BYTES, len(value)) + bytes(value)
    if isinstance(value, datetime):
        return struct.pack(">Bq", _TIMESTAMP, int(value.timestamp() * 1000))
    if isinstance(value, uuid.UUID):
        return bytes([_UUID]) + value.bytes
    data = str(value).encode()
    return struct.pack(">BH", _STRING, len(data)) + data


def encode_headers(headers: dict[str, Any]) -> bytes:
    out = bytearray()
    for name, value in headers.items():
        raw = name.encode()
        out += bytes([len(raw)]) + raw + _header_value(value)
    return bytes(out)


def encode_message(headers: bytes | dict[str, Any], payload: bytes) -> bytes:
    """One framed message; ``headers`` may be pre-encoded (the per-event-type fast path)."""
    head = headers if isinstance(headers, bytes) else encode_headers(headers)
    prelude = struct.pack(">II", 16 + len(head) + len(payload), len(head))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + head + payload
    return message + struct.pack(">I", zlib.crc32(message))


def exception_message(code: str, body: dict[str, Any]) -> bytes:
    """A modelled exception (``:exception-type`` names a member of the stream's shape)."""
    headers = {
        ":message-type": "exception",
        ":exception-type": code,
        ":content-type": "application/json",
    }
    return encode_message(headers, json_bytes(body))


def error_message(code: str, message: str) -> bytes:
    """An error the stream's shape does not model."""
    headers = {":message-type": "error", ":error-code": code, ":error-message": message}
    return encode_message(headers, b"")


class EventStreamBody:
    """A streaming response body: the provider's events in, framed messages out."""

    def __init__(
        self, shape: Shape, events: Events, encode_payload: PayloadEncoder = event_json
    ) -> None:
        self.shape = shape
        self.events = events
        self.encode_payload = encode_payload
        self._plain: dict[str, bytes] = {}  # event type -> headers, for all-JSON event shapes

    def encode_event(self, event_type: str, body: dict[str, Any]) -> bytes:
        head = self._plain.get(event_type)
        if head is not None:
            return encode_message(head, self.encode_payload(body))
        member = self.shape.members.get(event_type)  # type: ignore[attr-defined]
        if member is None:
            raise ValueError(f"{event_type} is not an event of {self.shape.name}")
        special = {
            name: sub
            for name, sub in member.members.items()
            if sub.serialization.get("eventheader") or sub.serialization.get("eventpayload")
        }
        headers: dict[str, Any] = {":event-type": event_type, ":message-type": "event"}
        if not special:
            headers[":content-type"] = "application/json"
            head = self._plain[event_type] = encode_headers(headers)
            return encode_message(head, self.encode_payload(body))
        payload: bytes | None = None
        content_type = "application/json"
        for name, sub in special.items():
            if name not in body:
                continue
            value = body[name]
            if sub.serialization.get("eventheader"):
                headers[name] = value
            elif isinstance(value, bytes | bytearray):
                payload, content_type = bytes(value), "application/octet-stream"
            elif isinstance(value, str):
                payload, content_type = value.encode(), "text/plain"
            else:
                payload = self.encode_payload(value)
        if payload is None:
            payload = self.encode_payload({k: v for k, v in body.items() if k not in special})
        headers[":content-type"] = content_type
        return encode_message(headers, payload)

    def encode_error(self, err: AwsError) -> bytes:
        member = err.code[:1].lower() + err.code[1:]
        if member in self.shape.members:  # type: ignore[attr-defined]
            return exception_message(member, {"message": err.message, **err.extra})
        return error_message(err.code, err.message)

    async def _frames(self) -> AsyncIterator[bytes]:
        try:
            if isinstance(self.events, AsyncIterable):
                async for event in self.events:
                    for event_type, body in event.items():
                        yield self.encode_event(event_type, body)
            else:
                for event in self.events:
                    for event_type, body in event.items():
                        yield self.encode_event(event_type, body)
        except AwsError as err:
            yield self.encode_error(err)
        except Exception:
            log.exception("a response stream failed")
            message = "Nimbus hit an internal error while streaming; see its log."
            yield self.encode_error(AwsError("InternalServerException", message, 500))

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._frames()

    async def close(self) -> None:
        closer = getattr(self.events, "aclose", None) or getattr(self.events, "close", None)
        if closer is not None:
            result = closer()
            if hasattr(result, "__await__"):
                await result
