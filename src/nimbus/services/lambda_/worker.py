"""One execution environment: a ``bootstrap.py`` subprocess and the socket the server talks on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any

from nimbus.services.children import kill_group, reap

BOOTSTRAP = str(Path(__file__).with_name("bootstrap.py"))
_HEAD = struct.Struct(">II")
_READY_TIMEOUT_S = 30.0  # an import that hangs longer than this is a broken init


class WorkerDied(Exception):
    """The worker exited (crash, os._exit, out of memory) or closed its socket mid-invoke."""

    def __init__(self, returncode: int | None) -> None:
        super().__init__(f"worker exited with {returncode}")
        self.returncode = returncode


def exit_reason(returncode: int | None) -> str:
    """The words AWS uses after "Runtime exited with error: "."""
    if returncode is None:
        return "signal: killed"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            return f"signal: {-returncode}"
        words = {"SIGKILL": "killed", "SIGSEGV": "segmentation fault", "SIGABRT": "aborted"}
        return f"signal: {words.get(name, name.lower())}"
    if returncode == 137:  # our out-of-memory exit mirrors the kernel's OOM kill
        return "signal: killed"
    return f"exit status {returncode}"


class Worker:
    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        generation: tuple[Any, ...],
        log_stream: str,
    ) -> None:
        self.proc = proc
        self.reader = reader
        self.writer = writer
        self.generation = generation
        self.log_stream = log_stream
        self.started = time.monotonic()
        self.busy = False
        self.dead = False
        self.stray: list[str] = []  # fd-level output (C code, crash messages)
        self._pump = asyncio.ensure_future(self._read_output())

    @classmethod
    async def start(
        cls, env: dict[str, str], cwd: str, generation: tuple[Any, ...], log_stream: str
    ) -> tuple[Worker, dict[str, Any]]:
        """Spawn and wait for the bootstrap's ready frame (the cold start)."""
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                BOOTSTRAP,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                pass_fds=(child.fileno(),),
                env={**env, "NIMBUS_LAMBDA_FD": str(child.fileno())},
                cwd=cwd,
                start_new_session=True,  # a handler's own children die with its group
            )
        finally:
            child.close()
        reader, writer = await asyncio.open_unix_connection(sock=parent)
        worker = cls(proc, reader, writer, generation, log_stream)
        try:
            async with asyncio.timeout(_READY_TIMEOUT_S):
                ready, _ = await worker._receive()
        except (TimeoutError, WorkerDied):
            returncode = await worker.kill()
            raise WorkerDied(returncode) from None
        if "error" in ready:
            await worker.kill()
        return worker, ready

    async def _read_output(self) -> None:
        assert self.proc.stdout is not None
        with contextlib.suppress(Exception):
            async for line in self.proc.stdout:
                self.stray.append(line.decode("utf-8", "replace"))

    def take_stray(self) -> str:
        text = "".join(self.stray)
        self.stray.clear()
        return text

    async def _receive(self) -> tuple[dict[str, Any], bytes]:
        try:
            hlen, blen = _HEAD.unpack(await self.reader.readexactly(_HEAD.size))
            head = json.loads(await self.reader.readexactly(hlen))
            body = await self.reader.readexactly(blen) if blen else b""
        except (asyncio.IncompleteReadError, ConnectionError):
            self.dead = True
            raise WorkerDied(await self._exit_code()) from None
        return head, body

    async def invoke(self, head: dict[str, Any], body: bytes) -> tuple[dict[str, Any], bytes]:
        data = json.dumps(head).encode()
        self.writer.write(_HEAD.pack(len(data), len(body)) + data + body)
        return await self._receive()

    async def _exit_code(self) -> int | None:
        try:
            async with asyncio.timeout(2.0):
                return await self.proc.wait()
        except TimeoutError:
            return await self.kill()

    async def kill(self) -> int | None:
        """Kill the worker (and its process group) and collect its last output."""
        self.kill_now()
        return await reap(self.proc, self._pump)

    def kill_now(self) -> None:
        """Synchronous kill, for shutdown."""
        self.dead = True
        kill_group(self.proc, self.writer)
