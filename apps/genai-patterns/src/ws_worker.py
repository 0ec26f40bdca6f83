"""The worker behind the WebSocket routes, invoked asynchronously by ws_dispatch.

``ask`` (asynchronous request/response): Converse through the prompt layer, then one
``{"type": "answer", ...}`` message. ``stream`` (asynchronous streaming): ConverseStream through
the layer, a ``{"type": "delta", "seq": n, "text": ...}`` message per text delta as it arrives
(merged only when ``STREAM_COALESCE_MS`` > 0 and deltas come faster than that), then
``{"type": "done", ...}`` with the usage and, when the output guardrail changed the answer,
``replaced: true`` and the text to show instead. A refusal or failure is ``{"type": "error"}``.
A closed connection stops the work. Messages stay far below API Gateway's 128 KB: answers are
capped at 2,048 tokens.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from prompt_layer import ClientGone, Layer, LayerError, from_environment, parse_request
from ws_api import ConnectionApi


class Coalescer:
    """Posts text deltas in order; deltas within ``window_ms`` of the last post are merged."""

    def __init__(self, post: Callable[[dict], None], window_ms: float = 0.0,
                 perf: Callable[[], float] = time.perf_counter) -> None:  # fmt: skip
        self.post, self.window, self.perf = post, window_ms / 1000.0, perf
        self.pending: list[str] = []
        self.seq = 0
        self.last = float("-inf")

    def add(self, text: str) -> None:
        self.pending.append(text)
        if self.perf() - self.last >= self.window:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        text, self.pending = "".join(self.pending), []
        self.post({"type": "delta", "seq": self.seq, "text": text})
        self.seq += 1
        self.last = self.perf()


class Worker:
    def __init__(self, layer: Layer, api: ConnectionApi, window_ms: float = 0.0) -> None:
        self.layer, self.api, self.window_ms = layer, api, window_ms

    def handle(self, job: dict) -> dict:
        request_id, lang = job["requestId"], job.get("language", "vi")
        connection = job["connectionId"]

        def post(message: dict) -> None:
            message = {"requestId": request_id, **message}
            self.api.post(job["domainName"], job["stage"], connection, message)

        try:
            request = parse_request(job.get("body"), lang)
            if job["action"] == "stream":
                deltas = Coalescer(post, self.window_ms)
                outcome = self.layer.stream(request, "stream", connection, deltas.add, request_id)
                deltas.flush()
                post({"type": "done", **outcome.to_json(), "chunks": deltas.seq})
            else:
                outcome = self.layer.generate(request, "websocket", connection, request_id)
                post({"type": "answer", **outcome.to_json()})
        except ClientGone:
            print(f"{request_id}: the connection closed; stopped")
            return {"status": "gone"}
        except LayerError as refused:
            return self._fail(post, refused, lang)
        except Exception as exc:  # logged without the prompt
            print(f"{request_id} failed: {type(exc).__name__}: {exc}")
            return self._fail(post, LayerError(500, "internal"), lang)
        return {"status": "done"}

    @staticmethod
    def _fail(post: Callable[[dict], None], refused: LayerError, lang: str) -> dict:
        try:
            post({"type": "error", **refused.to_json(lang)})
        except ClientGone:
            return {"status": "gone"}
        return {"status": refused.key}


_worker: Worker | None = None


def lambda_handler(event, context):
    global _worker
    if _worker is None:
        import ws_api

        _worker = Worker(from_environment(), ws_api.from_boto3(),
                         float(os.environ.get("STREAM_COALESCE_MS", "0")))  # fmt: skip
    return _worker.handle(event)
