"""A small asyncio HTTP/1.1 keep-alive load client: one coroutine per connection, so the load
generator costs little CPU next to the servers on a 2-core machine."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def _connection(
    port: int, request: bytes, ok: Callable[[bytes], bool], until: float, lat: list[float]
) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while time.perf_counter() < until:
            began = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200") or not ok(body):
                raise RuntimeError(f"unexpected reply: {head[:40]!r} {body[:200]!r}")
            lat.append((time.perf_counter() - began) * 1000)
            done += 1
    finally:
        writer.close()
    return done


async def _load(
    port: int, request: bytes, ok: Callable[[bytes], bool], seconds: float, conns: int
) -> tuple[float, list[float]]:
    lat: list[float] = []
    began = time.perf_counter()
    until = began + seconds
    counts = await asyncio.gather(
        *(_connection(port, request, ok, until, lat) for _ in range(conns))
    )
    return sum(counts) / (time.perf_counter() - began), lat


def measure(
    port: int,
    method: str,
    path: str,
    seconds: float,
    conns: int,
    *,
    body: bytes = b"",
    content_type: str = "",
    ok: Callable[[bytes], bool] = lambda _: True,
) -> tuple[float, list[float]]:
    """(requests per second, latencies in ms) over ``seconds`` with ``conns`` connections."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: bench\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    if body or method != "GET":
        head += f"Content-Length: {len(body)}\r\n"
    request = (head + "\r\n").encode() + body
    return asyncio.run(_load(port, request, ok, seconds, conns))
