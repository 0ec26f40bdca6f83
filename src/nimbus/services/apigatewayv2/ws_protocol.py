"""uvicorn's WebSocket protocol with API Gateway's wire limits.

API Gateway accepts frames of at most 32 KB and messages of at most 128 KB; a larger one closes
the connection with 1009 "Message too big". It sends messages over 32 KB as 32 KB fragments and
negotiates no compression. ``nimbus up`` hands this class to uvicorn (``ws=``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.frames import CloseCode
from websockets.server import ServerProtocol

FRAME_LIMIT = 32 * 1024
MESSAGE_LIMIT = 128 * 1024
TOO_BIG = "Message too big"


class _LimitedServer(ServerProtocol):
    def fail(self, code: CloseCode | int, reason: str = "") -> None:
        # websockets explains the size in its reason; API Gateway's words are fixed.
        super().fail(code, TOO_BIG if code == CloseCode.MESSAGE_TOO_BIG else reason)

    def send_text(self, data: bytes, fin: bool = True) -> None:
        self._fragmented(super().send_text, data, fin)

    def send_binary(self, data: bytes, fin: bool = True) -> None:
        self._fragmented(super().send_binary, data, fin)

    def _fragmented(self, first: Any, data: bytes, fin: bool) -> None:
        if len(data) <= FRAME_LIMIT or not fin:
            first(data, fin)
            return
        view = memoryview(data)
        first(bytes(view[:FRAME_LIMIT]), False)
        for start in range(FRAME_LIMIT, len(data), FRAME_LIMIT):
            chunk = bytes(view[start : start + FRAME_LIMIT])
            self.send_continuation(chunk, start + FRAME_LIMIT >= len(data))


class ExecuteApiWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.conn = _LimitedServer(
            extensions=[],
            max_size=(MESSAGE_LIMIT, FRAME_LIMIT),
            logger=logging.getLogger("uvicorn.error"),
        )

    def shutdown(self) -> None:
        """Server shutdown: API Gateway ends connections with 1001 "Going away" (uvicorn
        would say 1012), and the app hears it so $disconnect runs."""
        if not self.handshake_complete or self.close_sent or self.initial_response:
            super().shutdown()
            return
        self.stop_keepalive()
        self.queue.put_nowait(
            {"type": "websocket.disconnect", "code": 1001, "reason": "Going away"}
        )
        self.conn.send_close(1001, "Going away")
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.transport.close()
