"""The server's side of one model host: a ``model_server.py`` subprocess and its socket.

Requests are multiplexed on one socketpair (each carries an id), so a variant serves
concurrent invocations without a process per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nimbus.services.children import kill_group, reap

SERVER = str(Path(__file__).with_name("model_server.py"))
_HEAD = struct.Struct(">II")
LOAD_TIMEOUT_S = float(os.environ.get("NIMBUS_SAGEMAKER_LOAD_TIMEOUT", "300"))


class HostDied(Exception):
    """The host process exited (a crash in native code, os._exit) while requests waited."""


class LoadFailed(Exception):
    """The model did not load; the message is the endpoint's FailureReason."""


class ModelHost:
    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_log: Callable[[str], None],
    ) -> None:
        self.proc = proc
        self.reader = reader
        self.writer = writer
        self.on_log = on_log
        self.in_flight = 0
        self.dead = False
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[tuple[dict[str, Any], bytes]]] = {}
        self._ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pump = asyncio.ensure_future(self._read_output())
        self._replies = asyncio.ensure_future(self._read_replies())

    @classmethod
    async def start(cls, env: dict[str, str], cwd: str, on_log: Callable[[str], None]) -> ModelHost:
        """Spawn the host and wait until its model has loaded (raises LoadFailed)."""
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                SERVER,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                pass_fds=(child.fileno(),),
                env={**env, "NIMBUS_SM_FD": str(child.fileno())},
                cwd=cwd,
                start_new_session=True,  # the model's own children die with its group
            )
        finally:
            child.close()
        reader, writer = await asyncio.open_unix_connection(sock=parent, limit=2**24)
        host = cls(proc, reader, writer, on_log)
        try:
            async with asyncio.timeout(LOAD_TIMEOUT_S):
                ready = await host._ready
        except TimeoutError:
            await host.stop()
            raise LoadFailed(f"The model did not load within {LOAD_TIMEOUT_S:.0f} s.") from None
        except asyncio.CancelledError:  # the endpoint was deleted while its model loaded
            host.stop_now()
            raise
        except HostDied:
            code = await host.stop()
            raise LoadFailed(f"The model server exited with code {code} while loading.") from None
        if "error" in ready:
            await host.stop()
            raise LoadFailed(f"The model failed to load: {ready['error']}")
        return host

    async def _read_output(self) -> None:
        assert self.proc.stdout is not None
        with contextlib.suppress(Exception):
            async for line in self.proc.stdout:
                self.on_log(line.decode("utf-8", "replace").rstrip("\n"))

    async def _read_replies(self) -> None:
        try:
            while True:
                hlen, blen = _HEAD.unpack(await self.reader.readexactly(_HEAD.size))
                head = json.loads(await self.reader.readexactly(hlen))
                body = await self.reader.readexactly(blen) if blen else b""
                if head.get("ready"):
                    self._ready.set_result(head)
                    continue
                waiter = self._pending.pop(head["id"], None)
                if waiter is not None and not waiter.done():
                    waiter.set_result((head, body))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        self.dead = True
        failure = HostDied("the model server exited")
        if not self._ready.done():
            self._ready.set_exception(failure)
        for waiter in self._pending.values():
            if not waiter.done():
                waiter.set_exception(failure)
        self._pending.clear()

    async def invoke(
        self,
        content_type: str,
        accept: str,
        body: bytes,
        timeout: float,
        custom_attributes: str | None = None,
    ) -> tuple[dict[str, Any], bytes]:
        """(reply head, body); raises TimeoutError or HostDied."""
        if self.dead:
            raise HostDied("the model server exited")
        rid = next(self._ids)
        waiter: asyncio.Future[tuple[dict[str, Any], bytes]] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending[rid] = waiter
        request: dict[str, Any] = {"id": rid, "ct": content_type, "accept": accept}
        if custom_attributes is not None:
            request["ca"] = custom_attributes
        data = json.dumps(request).encode()
        self.writer.write(_HEAD.pack(len(data), len(body)) + data + body)
        self.in_flight += 1
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        finally:
            self.in_flight -= 1
            self._pending.pop(rid, None)

    async def drain(self, limit_s: float) -> None:
        """Wait (up to ``limit_s``) until requests already sent here have been answered."""
        deadline = time.monotonic() + limit_s
        while self.in_flight and not self.dead and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def stop(self) -> int | None:
        self.stop_now()
        return await reap(self.proc, self._pump)

    def stop_now(self) -> None:
        """Synchronous kill, for shutdown."""
        self.dead = True
        kill_group(self.proc, self.writer)
