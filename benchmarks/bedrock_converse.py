"""Bedrock Converse / ConverseStream through boto3 on the built-in backend, next to a bare
Starlette app answering canned Converse responses in the same run.

Budget (issue 5): Nimbus overhead p50 <= 2 ms, where overhead = total boto3 call time minus the
backend time Nimbus measured (its ``x-nimbus-backend-us`` response header); ConverseStream's
first event within 2 ms of the backend's first token (``x-nimbus-first-token-ns``, wall clock,
against the client's wall clock when boto3 hands over the event). The null server shows what
boto3 + HTTP cost alone: the same calls answered by Starlette with canned bytes.
Run: .venv/bin/python benchmarks/bedrock_converse.py [--n 1000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from _servers import Server, free_port, start_nimbus

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "What is 17 * 23?"}]}]

# Canned answers of the same size as the built-in model's, from a bare Starlette app.
NULL_APP = """
import json, sys, time
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from nimbus.aws.protocol.eventstream import encode_message

TEXT = "x" * 250
CONVERSE = json.dumps({"output": {"message": {"role": "assistant", "content": [{"text": TEXT}]}},
    "stopReason": "end_turn", "usage": {"inputTokens": 9, "outputTokens": 48, "totalTokens": 57},
    "metrics": {"latencyMs": 0}}).encode()

def event(kind, body):
    return encode_message({":event-type": kind, ":content-type": "application/json",
                           ":message-type": "event"}, json.dumps(body).encode())

EVENTS = [event("messageStart", {"role": "assistant"})]
EVENTS += [event("contentBlockDelta", {"delta": {"text": " tok"}, "contentBlockIndex": 0})] * 48
EVENTS += [event("contentBlockStop", {"contentBlockIndex": 0}),
           event("messageStop", {"stopReason": "end_turn"}),
           event("metadata", {"usage": {"inputTokens": 9, "outputTokens": 48, "totalTokens": 57},
                              "metrics": {"latencyMs": 0}})]

async def converse(request):
    await request.body()
    return Response(CONVERSE, media_type="application/json")

async def converse_stream(request):
    await request.body()
    async def frames():
        for frame in EVENTS:
            yield frame
    headers = {"x-nimbus-first-token-ns": str(time.time_ns())}
    kind = "application/vnd.amazon.eventstream"
    return StreamingResponse(frames(), media_type=kind, headers=headers)

app = Starlette(routes=[Route("/model/{model}/converse", converse, methods=["POST"]),
                        Route("/model/{model}/converse-stream", converse_stream, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
            lifespan="off", access_log=False, log_level="warning")
"""


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def converse_samples(client: Any, n: int) -> tuple[list[float], list[float]]:
    """(total ms, backend ms) per call; backend 0 when the server reports none."""
    totals, backend = [], []
    for _ in range(n):
        began = time.perf_counter()
        reply = client.converse(modelId=MODEL, messages=MESSAGES)
        totals.append((time.perf_counter() - began) * 1000)
        backend.append(
            int(reply["ResponseMetadata"]["HTTPHeaders"].get("x-nimbus-backend-us", 0)) / 1000
        )
    return totals, backend


def stream_samples(client: Any, n: int) -> tuple[list[float], list[float], list[float]]:
    """(total ms, first event ms after the backend's first token, first token event ms)."""
    totals, first_event, first_token = [], [], []
    for _ in range(n):
        began = time.perf_counter()
        reply = client.converse_stream(modelId=MODEL, messages=MESSAGES)
        produced = int(reply["ResponseMetadata"]["HTTPHeaders"]["x-nimbus-first-token-ns"])
        event_at = token_at = None
        for event in reply["stream"]:
            now = time.time_ns()
            event_at = event_at or now
            if token_at is None and "contentBlockDelta" in event:
                token_at = now
        totals.append((time.perf_counter() - began) * 1000)
        first_event.append((event_at - produced) / 1e6)
        first_token.append((token_at - produced) / 1e6)
    return totals, first_event, first_token


def interleaved(
    rounds: int, runs: list[Callable[[], tuple[list[float], ...]]]
) -> list[list[list[float]]]:
    """Each run's sample lists, collected in alternating rounds so load drift hits all alike."""
    out: list[list[list[float]]] = [[] for _ in runs]
    for _ in range(rounds):
        for index, run in enumerate(runs):
            got = run()
            if not out[index]:
                out[index] = [[] for _ in got]
            for bucket, samples in zip(out[index], got, strict=True):
                bucket.extend(samples)
    return out


def row(label: str, samples: list[float]) -> None:
    print(f"{label:58} {statistics.median(samples):8.3f} {pct(samples, 0.99):8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    nimbus, data = start_nimbus()
    port = free_port()
    null = Server("null", [sys.executable, "-c", NULL_APP, str(port)], port, "")
    try:
        brt, null_brt = nimbus.client("bedrock-runtime"), null.client("bedrock-runtime")
        per = max(1, args.n // args.rounds)
        converse_samples(brt, 200)  # warm up both (imports, caches, connections)
        converse_samples(null_brt, 200)
        stream_samples(brt, 50)
        stream_samples(null_brt, 50)
        (n_total, n_backend), (null_total, _) = interleaved(
            args.rounds,
            [lambda: converse_samples(brt, per), lambda: converse_samples(null_brt, per)],
        )
        (s_total, s_event, s_token), (ns_total, ns_event, _) = interleaved(
            args.rounds,
            [lambda: stream_samples(brt, per // 2), lambda: stream_samples(null_brt, per // 2)],
        )
    finally:
        nimbus.stop()
        null.stop()
        shutil.rmtree(data, ignore_errors=True)

    overhead = [t - b for t, b in zip(n_total, n_backend, strict=True)]
    print(f"{'Converse, boto3, 1 connection':58} {'p50 ms':>8} {'p99 ms':>8}")
    row("null Starlette server, canned Converse JSON", null_total)
    row("Nimbus Converse, built-in backend (total)", n_total)
    row("  backend time measured by Nimbus (x-nimbus-backend-us)", n_backend)
    row("  Nimbus overhead = total - backend", overhead)
    print(f"{'ConverseStream, boto3, 1 connection':58} {'p50 ms':>8} {'p99 ms':>8}")
    row("null Starlette server, canned event stream (total)", ns_total)
    row("  null: first event after its 'first token' stamp", ns_event)
    row("Nimbus ConverseStream, built-in backend (total)", s_total)
    row("  first event after the backend's first token", s_event)
    row("  first token event after the backend's first token", s_token)
    over, null_p50 = statistics.median(overhead), statistics.median(null_total)
    print(
        f"Nimbus overhead p50 {over:.3f} ms (budget <= 2 ms): {over / 2:.2f} x budget; "
        f"Nimbus total / null server total p50 = {statistics.median(n_total) / null_p50:.2f}; "
        f"overhead beyond the null server p50 = {over - null_p50:.3f} ms"
    )
    first = statistics.median(s_event)
    print(
        f"ConverseStream first event p50 {first:.3f} ms after the first token (budget <= 2 ms): "
        f"{first / 2:.2f} x budget; null server {statistics.median(ns_event):.3f} ms"
    )


if __name__ == "__main__":
    main()
