"""Child processes the services run (Lambda workers, SageMaker model hosts): ending them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from typing import Any


def kill_group(proc: asyncio.subprocess.Process, writer: asyncio.StreamWriter | None) -> None:
    """SIGKILL the child's whole process group (its own children too) and close our socket."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    if writer is not None:
        with contextlib.suppress(Exception):
            writer.close()


async def reap(proc: asyncio.subprocess.Process, pump: Any, timeout: float = 2.0) -> int | None:
    """Wait (bounded) for a killed child to exit and for its output reader to finish."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await proc.wait()
            await pump
    return proc.returncode
