"""The HTTP request and response as the wire front sees them (independent of the ASGI server)."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from nimbus.aws.errors import AwsError
from nimbus.aws.streams import BodyStream

# Non-streaming request bodies are read whole; anything larger is refused with 413.
MAX_BODY = 32 * 1024 * 1024

Body = bytes | Iterable[bytes] | AsyncIterable[bytes]


@dataclass(slots=True)
class HttpRequest:
    method: str
    path: str  # still percent-encoded
    query_string: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ","
    body: BodyStream
    host: str = ""
    client_ip: str = ""
    _body: bytes | None = None
    _query: dict[str, list[str]] | None = None

    @property
    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            self._query = parse_qs(self.query_string, keep_blank_values=True)
        return self._query

    async def read(self, limit: int = MAX_BODY) -> bytes:
        if self._body is None:
            length = self.body.content_length
            if length is not None and length > limit:
                raise AwsError(
                    "RequestEntityTooLarge",
                    f"The request body is {length} bytes; the limit is {limit} bytes.",
                    413,
                )
            chunks: list[bytes] = []
            size = 0
            async for chunk in self.body:
                size += len(chunk)
                if size > limit:
                    raise AwsError(
                        "RequestEntityTooLarge",
                        f"The request body is larger than the limit of {limit} bytes.",
                        413,
                    )
                chunks.append(chunk)
            body = b"".join(chunks)
            if "gzip" in self.headers.get("content-encoding", ""):
                body = _gunzip(body, limit)
            self._body = body
        return self._body


def _gunzip(body: bytes, limit: int) -> bytes:
    """Request compression (CloudWatch PutMetricData): bounded, so a zip bomb is a 413."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise AwsError("SerializationException", "The gzip request body is corrupt.", 400) from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise AwsError(
            "RequestEntityTooLarge",
            f"The request body inflates to more than the limit of {limit} bytes.",
            413,
        )
    return data


@dataclass(slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: Body = b""
