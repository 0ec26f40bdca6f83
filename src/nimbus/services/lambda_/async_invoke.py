"""Asynchronous invocation: a durable queue, retries with backoff, destinations, S3 events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import AwsError
from nimbus.services.lambda_.store import QueuedInvoke

if TYPE_CHECKING:
    from nimbus.services.lambda_.engine import LambdaEngine

log = logging.getLogger("nimbus.lambda")

DEFAULT_RETRIES = 2
S3_POLL_S = 0.25
THROTTLE_DELAY_S = 1.0


def retry_base_seconds() -> float:
    """AWS waits about a minute, then two; tests shorten it with the environment variable."""
    return float(os.environ.get("NIMBUS_LAMBDA_RETRY_BASE_SECONDS", "60"))


class AsyncInvoker:
    def __init__(self, engine: LambdaEngine) -> None:
        self.engine = engine
        self.store = engine.store
        self._wake = asyncio.Event()
        self._running: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._s3_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.ensure_future(self._deliver_forever())
            self._s3_task = asyncio.ensure_future(self._poll_s3_forever())

    def stop(self) -> None:
        for task in (self._loop_task, self._s3_task, *self._tasks):
            if task is not None:
                task.cancel()

    def enqueue(self, function: str, payload: bytes, request_id: str) -> None:
        """Durable before the caller's 202: the row is committed when this returns."""
        self.store.enqueue(function, payload, request_id)
        self._wake.set()

    # -- delivery -----------------------------------------------------------------------------
    async def _deliver_forever(self) -> None:
        while True:
            try:
                self.engine.runtime.reap()
                due = self.store.due(time.time(), 16, self._running)
                for item in due:
                    self._running.add(item.id)
                    task = asyncio.ensure_future(self._deliver(item))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                wait = 1.0
                upcoming = self.store.next_due()
                if upcoming is not None and not due:
                    wait = min(max(upcoming - time.time(), 0.01), 1.0)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait if not due else 0.01):
                        await self._wake.wait()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("async invocation loop")
                await asyncio.sleep(1.0)

    async def _deliver(self, item: QueuedInvoke) -> None:
        try:
            await self._attempt(item)
        except Exception:
            log.exception("async invocation %s", item.id)
        finally:
            self._running.discard(item.id)
            self._wake.set()

    async def _attempt(self, item: QueuedInvoke) -> None:
        try:
            rec = self.engine.function(item.function)
        except AwsError:
            self.store.finish(item.id)  # the function is gone: AWS drops its events too
            return
        try:
            result = await self.engine.runtime.invoke(
                rec, self.engine.arn(rec.name), item.payload, request_id=item.request_id
            )
        except AwsError as err:
            if err.code == "TooManyRequestsException":
                self.store.retry_later(item.id, item.attempts, THROTTLE_DELAY_S)
                return
            raise
        if result.function_error is None:
            self.store.finish(item.id)
            return
        attempts = item.attempts + 1
        config = rec.event_config or {}
        retries = config.get("MaximumRetryAttempts", DEFAULT_RETRIES)
        if attempts <= retries:
            self.store.retry_later(item.id, attempts, retry_base_seconds() * attempts)
            return
        self._fail(rec, item, attempts, result.payload, result.function_error)
        self.store.finish(item.id)

    def _fail(self, rec: Any, item: QueuedInvoke, attempts: int, response: bytes,
              function_error: str) -> None:  # fmt: skip
        """Retries exhausted: the OnFailure destination, else the dead-letter queue."""
        try:
            request_payload: Any = json.loads(item.payload) if item.payload else None
        except ValueError:
            request_payload = item.payload.decode("utf-8", "replace")
        try:
            response_payload: Any = json.loads(response)
        except ValueError:
            response_payload = response.decode("utf-8", "replace")
        destination = ((rec.event_config or {}).get("DestinationConfig") or {}).get("OnFailure")
        target = (destination or {}).get("Destination")
        if target:
            record = {
                "version": "1.0",
                "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "requestContext": {
                    "requestId": item.request_id,
                    "functionArn": f"{self.engine.arn(rec.name)}:$LATEST",
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": attempts,
                },
                "requestPayload": request_payload,
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": function_error,
                },
                "responsePayload": response_payload,
            }
            delivered = self._to_lambda(target, record)
            self.store.record_failure("destination", target, rec.name, record, delivered)
            return
        dlq = (rec.config.get("DeadLetterConfig") or {}).get("TargetArn")
        if dlq:
            error = response_payload if isinstance(response_payload, dict) else {}
            message = {
                "Body": request_payload,
                "MessageAttributes": {
                    "RequestID": item.request_id,
                    "ErrorCode": "200",
                    "ErrorMessage": str(error.get("errorMessage", "")),
                },
            }
            self.store.record_failure("dlq", dlq, rec.name, message, False)

    def _to_lambda(self, target: str, record: dict[str, Any]) -> bool:
        """Only Lambda destinations can be delivered today; others are recorded."""
        if ":lambda:" not in target:
            return False
        try:
            rec = self.engine.function(target)
        except AwsError:
            return False
        self.enqueue(rec.name, json.dumps(record).encode(), _request_id())
        return True

    # -- S3 event notifications ---------------------------------------------------------------
    async def _poll_s3_forever(self) -> None:
        while True:
            try:
                await asyncio.sleep(S3_POLL_S)
                self.deliver_s3_events()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("S3 notification delivery")
                await asyncio.sleep(1.0)

    def deliver_s3_events(self) -> int:
        """Move S3's pending Lambda events into our durable queue (at least once)."""
        s3 = self.engine.registry.get("s3").engine
        moved = 0
        while True:  # a burst of uploads is drained in one poll, 100 events per transaction
            pending = s3.pending_notifications(100, target_type="lambda")
            moved += self._enqueue_s3(s3, pending)
            if len(pending) < 100:
                return moved

    def _enqueue_s3(self, s3: Any, pending: list[dict[str, Any]]) -> int:
        done = []
        for note in pending:
            try:
                rec = self.engine.function(note["target_arn"])
            except AwsError:
                log.warning("S3 event for missing function %s dropped", note["target_arn"])
            else:
                self.enqueue(rec.name, json.dumps(note["event"]).encode(), _request_id())
            done.append(note["id"])
        s3.mark_delivered(done)
        return len(done)


def _request_id() -> str:
    import uuid

    return str(uuid.uuid4())
