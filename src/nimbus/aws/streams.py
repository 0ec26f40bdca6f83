"""Request bodies read as they arrive, including the ``aws-chunked`` content encoding."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from nimbus.aws.errors import AwsError

Receive = Callable[[], Awaitable[dict]]


class BodyStream:
    """The raw request body as an async iterator of byte chunks.

    With ``aws-chunked`` encoding the chunk framing is removed and the trailing headers
    (``x-amz-checksum-crc32`` and friends) land in :attr:`trailers` once the body is consumed.
    :attr:`decoded_length` is ``x-amz-decoded-content-length`` (or Content-Length) when known.
    """

    def __init__(
        self,
        receive: Receive,
        *,
        content_length: int | None,
        aws_chunked: bool = False,
        decoded_length: int | None = None,
        initial: bytes = b"",
        more: bool = True,
    ) -> None:
        self._receive = receive
        self._initial = initial
        self._more = more
        self._aws_chunked = aws_chunked
        self.content_length = content_length
        self.decoded_length = decoded_length if aws_chunked else content_length
        self.trailers: dict[str, str] = {}
        self._consumed = False

    async def _raw(self) -> AsyncIterator[bytes]:
        if self._initial:
            yield self._initial
        more = self._more
        while more:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise AwsError("IncompleteBody", "The request body ended early.", 400)
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
            if chunk:
                yield chunk

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._consumed:
            raise RuntimeError("body already consumed")
        self._consumed = True
        if self._aws_chunked:
            return self._dechunk()
        return self._raw()

    @property
    def consumed(self) -> bool:
        return self._consumed

    async def drain(self, limit: int) -> bool:
        """Discard up to ``limit`` bytes of a body nobody read (a refused upload) so the
        keep-alive connection stays in step; False when more was left (close the connection)."""
        if self._consumed:
            return True
        self._consumed = True
        seen = 0
        try:
            async for chunk in self._raw():
                seen += len(chunk)
                if seen > limit:
                    return False
        except AwsError:
            return False
        return True

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self])

    async def _dechunk(self) -> AsyncIterator[bytes]:
        """Decode ``aws-chunked``: ``size-hex[;sig]CRLF data CRLF`` ... ``0`` then trailers."""
        buf = bytearray()
        raw = self._raw()

        async def fill() -> bool:
            try:
                buf.extend(await raw.__anext__())
                return True
            except StopAsyncIteration:
                return False

        async def line() -> bytes:
            while True:
                idx = buf.find(b"\r\n")
                if idx >= 0:
                    out = bytes(buf[:idx])
                    del buf[: idx + 2]
                    return out
                if len(buf) > 4096 or not await fill():
                    raise AwsError("IncompleteBody", "Malformed aws-chunked body.", 400)

        while True:
            header = await line()
            size_hex = header.split(b";", 1)[0].strip()
            try:
                size = int(size_hex, 16)
            except ValueError:
                raise AwsError("InvalidRequest", "Malformed aws-chunked chunk size.", 400) from None
            if size == 0:
                break
            remaining = size
            while remaining:
                if not buf and not await fill():
                    raise AwsError("IncompleteBody", "The aws-chunked body ended early.", 400)
                take = min(remaining, len(buf))
                yield bytes(buf[:take])
                del buf[:take]
                remaining -= take
            if await line() != b"":
                raise AwsError("InvalidRequest", "Malformed aws-chunked chunk terminator.", 400)
        # Trailers until an empty line (or end of body).
        while True:
            if b"\r\n" not in buf and not await fill():
                rest = bytes(buf).strip()
                if rest:
                    self._add_trailer(rest)
                break
            if b"\r\n" not in buf:
                continue
            text = await line()
            if not text:
                break
            self._add_trailer(text)

    def _add_trailer(self, text: bytes) -> None:
        name, sep, value = text.decode("latin-1").partition(":")
        if sep and not name.lower().startswith("x-amz-trailer-signature"):
            self.trailers[name.strip().lower()] = value.strip()
