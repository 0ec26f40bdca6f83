"""Live WebSocket connections of every WebSocket API, as the @connections API sees them.

Connections live in memory only: a connection cannot outlive the server process that holds its
socket, so after a restart every old connection id is gone (GoneException), as on AWS.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import string
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Send = Callable[[dict[str, Any]], Awaitable[None]]
# A client that has not read its socket for this long (the send buffer stays full) is treated
# as gone, so that a post never holds the posting function hostage.
STALLED_S = 10.0
_ID_ALPHABET = string.ascii_letters + string.digits

# Close reasons API Gateway reports to $disconnect when the client gave none.
REASONS = {
    1000: "Connection Closed Normally",
    1001: "Going away",
    1005: "Client-side close frame status not set",
    1006: "Connection closed abnormally",
    1009: "Message too big",
}


class Gone(Exception):
    """The connection is closed, closing, or never existed."""


@dataclass(eq=False, slots=True)
class Connection:
    connection_id: str
    api_id: str
    stage: str
    domain_name: str
    host: str
    source_ip: str
    user_agent: str
    connected_at: float  # epoch seconds
    send: Send
    authorizer: dict[str, Any] | None = None
    last_active: float = 0.0
    started: float = field(default_factory=time.monotonic)
    idle_since: float = field(default_factory=time.monotonic)
    closing: bool = False
    timer: asyncio.TimerHandle | None = None

    def touch(self) -> None:
        self.last_active = time.time()
        self.idle_since = time.monotonic()

    async def post(self, data: bytes) -> None:
        """Send one message: text when it is UTF-8 (what browsers expect), else binary."""
        if self.closing:
            raise Gone(self.connection_id)
        try:
            message = {"type": "websocket.send", "text": data.decode()}
        except UnicodeDecodeError:
            message = {"type": "websocket.send", "bytes": data}
        try:
            async with asyncio.timeout(STALLED_S):
                await self.send(message)
        except (TimeoutError, OSError, RuntimeError):
            # Gone, or stalled: then the server's keepalive ping, unanswered, ends it.
            self.closing = True
            raise Gone(self.connection_id) from None
        self.touch()

    async def close(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        # Already gone: the disconnect reaches the connection's task anyway.
        with contextlib.suppress(OSError, RuntimeError):
            await self.send({"type": "websocket.close", "code": code, "reason": reason})


class Connections:
    def __init__(self) -> None:
        self.live: dict[str, Connection] = {}

    def new_id(self) -> str:
        """Shaped like AWS's connection ids (``L0SM9cOFvHcCIhw=``), unguessable."""
        while True:
            found = "".join(secrets.choice(_ID_ALPHABET) for _ in range(15)) + "="
            if found not in self.live:
                return found

    def add(self, conn: Connection) -> None:
        self.live[conn.connection_id] = conn

    def remove(self, conn: Connection) -> None:
        if self.live.get(conn.connection_id) is conn:
            del self.live[conn.connection_id]
        if conn.timer is not None:
            conn.timer.cancel()
            conn.timer = None

    def get(self, connection_id: str) -> Connection | None:
        conn = self.live.get(connection_id)
        return None if conn is None or conn.closing else conn

    def close_all(self) -> None:
        for conn in list(self.live.values()):
            if conn.timer is not None:
                conn.timer.cancel()
        self.live.clear()
