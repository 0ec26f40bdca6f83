"""API Gateway's WebSocket limits: 128 KB messages, 32 KB frames, the idle timeout, the
maximum connection duration, and $disconnect on every way a connection ends."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import NimbusServer
from websockets.exceptions import ConnectionClosed

from .conftest import WAIT_S, ProbeApi, deploy_probe, open_ws, recv_json


def _closed(ws: Any) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        while True:
            ws.recv(timeout=WAIT_S)
    assert info.value.rcvd is not None
    return info.value.rcvd.code, info.value.rcvd.reason


def _disconnect(probe: ProbeApi, connection_id: str) -> dict[str, Any]:
    def done(events: list[dict[str, Any]]) -> bool:
        return any(e["requestContext"]["eventType"] == "DISCONNECT" for e in events)

    events = probe.events(connection_id, done)
    ends = [e for e in events if e["requestContext"]["eventType"] == "DISCONNECT"]
    assert len(ends) == 1, events
    return ends[0]["requestContext"]


def test_message_too_big(probe: ProbeApi) -> None:
    with open_ws(probe.url) as ws:
        me = recv_json_after(ws, {"action": "who"})["context"]["connectionId"]
        # 100 KB in 16 KB fragments is within both limits.
        chunks = ["y" * (16 * 1024)] * 6 + ['"}']
        ws.send(iter(['{"action": "big", "data": "', *chunks]))
        assert recv_json(ws)["routeKey"] == "$default"
        ws.send(iter(["z" * (30 * 1024)] * 5))  # 150 KB: over the message limit
        assert _closed(ws) == (1009, "Message too big")
    assert _disconnect(probe, me)["disconnectStatusCode"] == 1009


def test_frame_too_big(bare_api: tuple[str, str, str]) -> None:
    _, url, _ = bare_api
    with open_ws(url) as ws:
        ws.send("x" * (32 * 1024 + 1))  # one frame over 32 KB
        assert _closed(ws) == (1009, "Message too big")


def recv_json_after(ws: Any, message: dict[str, Any]) -> Any:
    ws.send(json.dumps(message))
    return recv_json(ws)


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProbeApi]:
    """A server of its own whose idle timeout is 3 s and maximum connection duration 6 s."""
    server = NimbusServer(
        tmp_path_factory.mktemp("ws-limits") / "data",
        env={"NIMBUS_WS_IDLE_TIMEOUT_S": "3", "NIMBUS_WS_MAX_DURATION_S": "6"},
    )
    server.start()
    yield deploy_probe(server)
    server.stop()


def test_idle_timeout(quick: ProbeApi) -> None:
    with open_ws(quick.url) as ws:
        me = recv_json_after(ws, {"action": "who"})["context"]["connectionId"]
        assert _closed(ws) == (1001, "Going away")
    ctx = _disconnect(quick, me)
    assert (ctx["disconnectStatusCode"], ctx["disconnectReason"]) == (1001, "Going away")


def test_maximum_duration(quick: ProbeApi) -> None:
    with open_ws(quick.url) as ws:
        me = recv_json_after(ws, {"action": "who"})["context"]["connectionId"]
        # Activity keeps the idle timer away; the 6 s maximum still ends the connection.
        deadline = time.monotonic() + WAIT_S
        with pytest.raises(ConnectionClosed) as info:
            while time.monotonic() < deadline:
                recv_json_after(ws, {"action": "again"})
                time.sleep(0.5)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001
    assert _disconnect(quick, me)["disconnectStatusCode"] == 1001


def test_disconnect_on_server_shutdown(tmp_path: Path) -> None:
    server = NimbusServer(tmp_path / "data")
    server.start()
    try:
        probe = deploy_probe(server)
        with open_ws(probe.url) as ws:
            me = recv_json_after(ws, {"action": "who"})["context"]["connectionId"]
            server.stop()  # SIGTERM: a graceful shutdown
            assert _closed(ws) == (1001, "Going away")
        server.start()  # the table is on disk; the $disconnect record is there
        assert _disconnect(probe, me)["disconnectStatusCode"] == 1001
    finally:
        server.stop()
