"""Execution environments per function: warm reuse, concurrency, timeouts, faults, logs."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.lambda_.code import folder_fingerprint
from nimbus.services.lambda_.store import FunctionRecord
from nimbus.services.lambda_.telemetry import Telemetry, throttle_metrics
from nimbus.services.lambda_.worker import Worker, WorkerDied, exit_reason

# Memory rule: RLIMIT_AS = MemorySize + 256 MB. The headroom covers the interpreter and
# mapped libraries (python + boto3 with two clients maps ~60 MB) and thread stacks, so a
# handler can allocate roughly its MemorySize before MemoryError ends the environment.
MEMORY_HEADROOM_MB = 256
IDLE_LIFETIME_S = 600.0  # idle environments are reclaimed like AWS does (minutes)
MAX_AGE_S = 3000.0  # before the role credentials (1 h) expire
TAIL_BYTES = 4096
RESERVED_ENV = frozenset(
    [
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    ]
)


@dataclass(slots=True)
class InvokeResult:
    """What an invocation returns (for the wire front, API Gateway and S3 triggers)."""

    status_code: int
    payload: bytes
    function_error: str | None = None
    log_tail: str | None = None  # base64 of the last 4 KB of the invocation's log
    executed_version: str = "$LATEST"


@dataclass
class Pool:
    idle: list[Worker] = field(default_factory=list)
    in_flight: int = 0
    fingerprint: tuple[int, int] = (0, 0)


def throttled(reason: str) -> AwsError:
    return AwsError(
        "TooManyRequestsException",
        "Rate Exceeded.",
        429,
        extra={"Reason": reason, "Type": "User"},
    )


def _iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Runtime:
    def __init__(self, registry: Any, region: str, base_url: str) -> None:
        self.registry = registry
        self.region = region
        self.base_url = base_url
        self.telemetry = Telemetry(registry)
        self.pools: dict[str, Pool] = {}
        self.account_limit = int(os.environ.get("NIMBUS_LAMBDA_CONCURRENCY_LIMIT", "50"))
        self.reserved_total = 0
        self.unreserved_in_flight = 0
        self.total_in_flight = 0

    # -- environments -------------------------------------------------------------------------
    def _env(self, rec: FunctionRecord, stream: str) -> dict[str, str]:
        cfg = rec.config
        memory = int(cfg.get("MemorySize", 128))
        name = rec.name
        session = name if len(name) >= 2 else f"{name}-lambda"
        creds = self.registry.get("iam").issue_role_credentials(cfg["Role"], session[:64])
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "1",
            "MALLOC_ARENA_MAX": "2",  # per-thread malloc arenas would eat the address space
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }
        env.update((cfg.get("Environment") or {}).get("Variables") or {})
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_VERSION": rec.version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": stream,
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{cfg.get('Runtime', 'python3')}",
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_ENDPOINT_URL": self.base_url,
                "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                "AWS_SESSION_TOKEN": creds["SessionToken"],
                "LAMBDA_TASK_ROOT": rec.code_path,
                "LAMBDA_RUNTIME_DIR": os.path.dirname(sys.executable),
                "_HANDLER": cfg["Handler"],
                "NIMBUS_LAMBDA_MEMORY_LIMIT_BYTES": str((memory + MEMORY_HEADROOM_MB) << 20),
                "NIMBUS_LAMBDA_LAYERS": os.pathsep.join(cfg.get("_LayerPaths") or []),
            }
        )
        return env

    def _generation(self, rec: FunctionRecord, pool: Pool) -> tuple[Any, ...]:
        if rec.local:
            # Local folders: an edited .py file means fresh environments on the next invoke.
            pool.fingerprint = folder_fingerprint(rec.code_path)
        return (rec.code_sha, rec.revision, pool.fingerprint)

    def _take_idle(self, pool: Pool, generation: tuple[Any, ...]) -> Worker | None:
        now = time.monotonic()
        while pool.idle:
            worker = pool.idle.pop()
            fresh = now - worker.started < MAX_AGE_S
            if worker.generation == generation and not worker.dead and fresh:
                return worker
            worker.kill_now()
        return None

    def retire(self, name: str) -> None:
        """Stop idle environments of a function (code or configuration changed, deleted)."""
        pool = self.pools.get(name)
        if pool is not None:
            for worker in pool.idle:
                worker.kill_now()
            pool.idle.clear()

    def reap(self) -> None:
        now = time.monotonic()
        for pool in self.pools.values():
            keep = []
            for worker in pool.idle:
                if now - worker.started > MAX_AGE_S or worker.dead:
                    worker.kill_now()
                else:
                    keep.append(worker)
            pool.idle = keep

    async def aclose(self) -> None:
        """Stop every idle environment and wait for the processes (tests, orderly shutdown)."""
        workers = [w for pool in self.pools.values() for w in pool.idle]
        for pool in self.pools.values():
            pool.idle.clear()
        for worker in workers:
            await worker.kill()

    def close(self) -> None:
        for pool in self.pools.values():
            for worker in pool.idle:
                worker.kill_now()
            pool.idle.clear()
        self.telemetry.flush()

    # -- concurrency --------------------------------------------------------------------------
    def _admit(self, rec: FunctionRecord, pool: Pool) -> None:
        if rec.concurrency is not None:
            # Reserved concurrency is the function's, shared by $LATEST and its versions.
            mine = (p for k, p in self.pools.items() if k.split(":")[0] == rec.name)
            if sum(p.in_flight for p in mine) >= rec.concurrency:
                self.telemetry.metrics(throttle_metrics(rec.name))
                raise throttled("ReservedFunctionConcurrentInvocationLimitExceeded")
        elif self.unreserved_in_flight >= self.account_limit - self.reserved_total:
            self.telemetry.metrics(throttle_metrics(rec.name))
            raise throttled("ConcurrentInvocationLimitExceeded")
        pool.in_flight += 1
        self.total_in_flight += 1
        if rec.concurrency is None:
            self.unreserved_in_flight += 1

    def _release(self, rec: FunctionRecord, pool: Pool) -> None:
        pool.in_flight -= 1
        self.total_in_flight -= 1
        if rec.concurrency is None:
            self.unreserved_in_flight -= 1

    # -- invoke -------------------------------------------------------------------------------
    async def invoke(
        self,
        rec: FunctionRecord,
        arn: str,
        payload: bytes,
        *,
        request_id: str | None = None,
        want_tail: bool = False,
        client_context: Any = None,
    ) -> InvokeResult:
        pool = self.pools.get(rec.pool_key)
        if pool is None:
            pool = self.pools[rec.pool_key] = Pool()
        self._admit(rec, pool)
        try:
            return await self._run(rec, pool, arn, payload, request_id or str(uuid.uuid4()),
                                   want_tail, client_context)  # fmt: skip
        finally:
            self._release(rec, pool)

    async def _run(
        self,
        rec: FunctionRecord,
        pool: Pool,
        arn: str,
        payload: bytes,
        request_id: str,
        want_tail: bool,
        client_context: Any,
    ) -> InvokeResult:
        began_wall = time.time()
        generation = self._generation(rec, pool)
        worker = self._take_idle(pool, generation)
        lines: list[str] = [f"START RequestId: {request_id} Version: {rec.version}"]
        init_ms: float | None = None
        timeout_s = float(rec.config.get("Timeout", 3))
        memory = int(rec.config.get("MemorySize", 128))
        error: dict[str, Any] | None = None
        body = b""
        duration_ms = 0.0
        max_rss = 0
        if worker is None:
            stream = self._new_stream(rec.version)
            try:
                worker, ready = await Worker.start(
                    self._env(rec, stream), rec.code_path, generation, stream
                )
            except WorkerDied as died:
                err = self._exit_error(request_id, died.returncode)
                return self._finish(rec, arn, None, lines, request_id, began_wall, 0.0, 0, None,
                                    err, want_tail)  # fmt: skip
            init_ms = float(ready.get("init_ms", 0.0))
            _add_output(lines, ready.get("logs", ""))
            if "error" in ready:
                _add_output(lines, worker.take_stray())
                err = ready["error"]
                lines.append(f"[ERROR] {err['errorType']}: {err['errorMessage']}")
                return self._finish(rec, arn, worker, lines, request_id, began_wall, 0.0, 0,
                                    init_ms, err, want_tail)  # fmt: skip
        head = {
            "id": request_id,
            "deadline_ms": began_wall * 1000 + timeout_s * 1000,
            "arn": arn,
            "client_context": client_context,
        }
        worker.busy = True
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout_s):
                reply, body = await worker.invoke(head, payload)
        except TimeoutError:
            await worker.kill()
            duration_ms = timeout_s * 1000
            _add_output(lines, worker.take_stray())
            message = f"Task timed out after {timeout_s:.2f} seconds"
            lines.append(f"{_iso_now()} {request_id} {message}")
            error = {"errorType": "Sandbox.Timedout",
                     "errorMessage": f"RequestId: {request_id} Error: {message}"}  # fmt: skip
        except asyncio.CancelledError:
            # The caller gave up mid-invoke: the environment's state is unknown, so it goes.
            worker.kill_now()
            raise
        except WorkerDied as died:
            await worker.kill()
            duration_ms = (time.perf_counter() - started) * 1000
            _add_output(lines, worker.take_stray())
            error = self._exit_error(request_id, died.returncode)
            lines.append(f"{request_id} Error: {error['errorMessage'].split('Error: ', 1)[1]}")
        else:
            worker.busy = False
            duration_ms = float(reply.get("duration_ms", 0.0))
            max_rss = int(reply.get("max_rss_mb", 0))
            _add_output(lines, worker.take_stray())
            _add_output(lines, reply.get("logs", ""))
            if not reply.get("ok"):
                error = reply["error"]
            pool.idle.append(worker)
        return self._finish(rec, arn, worker, lines, request_id, began_wall, duration_ms,
                            max_rss or memory // 4, init_ms, error, want_tail, body)  # fmt: skip

    def _exit_error(self, request_id: str, returncode: int | None) -> dict[str, Any]:
        reason = exit_reason(returncode)
        kind = "Runtime.OutOfMemory" if returncode == 137 else "Runtime.ExitError"
        return {
            "errorType": kind,
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {reason}",
        }

    def _new_stream(self, version: str = "$LATEST") -> str:
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        return f"{day}/[{version}]{uuid.uuid4().hex}"

    def _finish(
        self,
        rec: FunctionRecord,
        arn: str,
        worker: Worker | None,
        lines: list[str],
        request_id: str,
        began_wall: float,
        duration_ms: float,
        max_rss: int,
        init_ms: float | None,
        error: dict[str, Any] | None,
        want_tail: bool,
        body: bytes = b"",
    ) -> InvokeResult:
        memory = int(rec.config.get("MemorySize", 128))
        lines.append(f"END RequestId: {request_id}")
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {max(1, math.ceil(duration_ms))} ms\tMemory Size: {memory} MB\t"
            f"Max Memory Used: {max_rss} MB\t"
        )
        if init_ms is not None:
            report += f"Init Duration: {init_ms:.2f} ms\t"
        lines.append(report)
        stream = worker.log_stream if worker is not None else self._new_stream()
        ts = int(began_wall * 1000)
        self.telemetry.log_events(f"/aws/lambda/{rec.name}", stream, [(ts, line) for line in lines])
        self.telemetry.invocation(rec.name, duration_ms, error is not None, self.total_in_flight)
        tail = None
        if want_tail:
            text = ("\n".join(lines) + "\n").encode()
            tail = base64.b64encode(text[-TAIL_BYTES:]).decode()
        if error is not None:
            return InvokeResult(200, json.dumps(error).encode(), "Unhandled", tail)
        return InvokeResult(200, body, None, tail)


def _add_output(lines: list[str], text: str) -> None:
    if text:
        lines.extend(text.rstrip("\n").split("\n"))
