"""What a guardrail and a prompt resource add to a Converse call, built-in backend.

Budget: guardrail evaluation (input + output) and prompt rendering add at most ~0.3 ms to a
Converse. Two measurements, each against plain Converse in the same run:
- in-process: the bedrock-runtime provider's ``converse`` awaited directly (no HTTP), so the
  difference is the guardrail/prompt work alone, in microseconds;
- boto3 against a live Nimbus: Nimbus overhead (total minus the backend time Nimbus reports in
  ``x-nimbus-backend-us``), rounds interleaved so load drift hits every variant alike. These
  rows also carry boto3's own work on the bigger requests and, on a busy 2-core machine, a few
  tenths of a millisecond of noise; the in-process rows are the ones that isolate the cost.
Texts are fresh on every call (nothing cached) except in the "same text" row; the history row
is compared with plain Converse on the same history.
The guardrail has a denied topic, words and profanity, PII (e-mail, phones, cards, addresses),
a regex and a prompt-attack filter; the prompt is a one-variable TEXT template, version 1.
Run: .venv/bin/python benchmarks/bedrock_guarded_converse.py [--n 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _servers import start_nimbus
from bedrock_guardrail import FULL

from nimbus.aws.context import Principal, RequestContext
from nimbus.services.registry import ServiceRegistry

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
PROMPT_VARIANT = {
    "name": "main",
    "templateType": "TEXT",
    "modelId": MODEL,
    "templateConfiguration": {"text": {"text": "Repeat after me: {{note}}, mail lan@example.com"}},
}


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def _history() -> list[dict[str, Any]]:
    """Eight earlier turns, which a chat sends again with every new question."""
    turns = []
    for n in range(8):
        role = "user" if n % 2 == 0 else "assistant"
        turns.append({"role": role, "content": [{"text": f"Turn {n}: delivery times to Hà Nội?"}]})
    return turns


def requests(gid: str, prompt_arn: str, i: int) -> dict[str, dict[str, Any]]:
    """Each variant's request number ``i``: a fresh text each time (nothing cached) except in
    the repeated-text row, so the rows show the full cost of scanning new text."""
    fresh = f"Repeat after me: note {i} for lan@example.com, 17 * 23"
    guard = {"guardrailIdentifier": gid, "guardrailVersion": "1"}
    variables = {"note": {"text": f"note {i}"}}

    def ask(text: str) -> list[dict[str, Any]]:
        return [{"role": "user", "content": [{"text": text}]}]

    return {
        "plain Converse": {"modelId": MODEL, "messages": ask(fresh)},
        "with guardrail (version 1)": {
            "modelId": MODEL,
            "messages": ask(fresh),
            "guardrailConfig": guard,
        },
        "with guardrail, the same text every call": {
            "modelId": MODEL,
            "messages": ask("Repeat after me: the same note for lan@example.com"),
            "guardrailConfig": guard,
        },
        "plain, 8 earlier turns + a new one": {
            "modelId": MODEL,
            "messages": [*_history(), *ask(fresh)],
        },
        "with guardrail, 8 earlier turns + a new one": {
            "modelId": MODEL,
            "messages": [*_history(), *ask(fresh)],
            "guardrailConfig": guard,
        },
        "with prompt version ARN": {"modelId": prompt_arn, "promptVariables": variables},
        "prompt + guardrail, trace on": {
            "modelId": prompt_arn,
            "promptVariables": variables,
            "guardrailConfig": {**guard, "trace": "enabled"},
        },
    }


def setup(bedrock: Any, agent: Any) -> tuple[str, str]:
    """A guardrail version and a prompt version, made through whatever clients are given."""
    gid = bedrock.create_guardrail(
        name="bench", blockedInputMessaging="b", blockedOutputsMessaging="b", **FULL
    )["guardrailId"]
    bedrock.create_guardrail_version(guardrailIdentifier=gid)
    prompt = agent.create_prompt(name="bench", variants=[PROMPT_VARIANT])
    return gid, agent.create_prompt_version(promptIdentifier=prompt["id"])["arn"]


class _Local:
    """Provider calls shaped like the boto3 client calls ``setup`` makes."""

    def __init__(self, provider: Any, ctx: RequestContext) -> None:
        self.provider, self.ctx = provider, ctx

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return lambda **req: getattr(self.provider, name)(req, self.ctx)


def in_process(n: int) -> dict[str, list[float]]:
    data = Path(tempfile.mkdtemp(prefix="nimbus-bench-"))
    registry = ServiceRegistry(data, "us-east-1", "000000000000", "http://127.0.0.1:1")
    principal = Principal(arn="arn:aws:iam::000000000000:root", account_id="000000000000")

    def ctx() -> RequestContext:
        return RequestContext(service="bedrock-runtime", operation="Converse",
                              region="us-east-1", account_id="000000000000", request_id="r",
                              principal=principal, base_url="http://127.0.0.1:1")  # fmt: skip

    try:
        gid, arn = setup(
            _Local(registry.get("bedrock"), ctx()), _Local(registry.get("bedrock-agent"), ctx())
        )
        runtime = registry.get("bedrock-runtime")

        counter = itertools.count()

        async def measure(label: str, count: int) -> list[float]:
            samples = []
            for _ in range(count):
                req = requests(gid, arn, next(counter))[label]
                began = time.perf_counter()
                await runtime.converse(req, ctx())
                samples.append((time.perf_counter() - began) * 1e6)
            return samples

        async def run_all() -> dict[str, list[float]]:
            labels = list(requests(gid, arn, 0))
            out: dict[str, list[float]] = {label: [] for label in labels}
            for label in labels:
                await measure(label, 200)
            for _ in range(5):
                for label in labels:
                    out[label] += await measure(label, n // 5)
            return out

        return asyncio.run(run_all())
    finally:
        registry.close()
        shutil.rmtree(data, ignore_errors=True)


def over_boto3(n: int) -> dict[str, list[float]]:
    nimbus, data = start_nimbus()
    try:
        gid, arn = setup(nimbus.client("bedrock"), nimbus.client("bedrock-agent"))
        client = nimbus.client("bedrock-runtime")

        counter = itertools.count()

        def overhead(label: str, count: int) -> list[float]:
            samples = []
            for _ in range(count):
                req = requests(gid, arn, next(counter))[label]
                began = time.perf_counter()
                reply = client.converse(**req)
                total = (time.perf_counter() - began) * 1000
                backend = int(reply["ResponseMetadata"]["HTTPHeaders"]["x-nimbus-backend-us"])
                samples.append(total - backend / 1000)
            return samples

        labels = list(requests(gid, arn, 0))
        out: dict[str, list[float]] = {label: [] for label in labels}
        for label in labels:
            overhead(label, 200)
        for _ in range(5):
            for label in labels:
                out[label] += overhead(label, n // 5)
        return out
    finally:
        nimbus.stop()
        shutil.rmtree(data, ignore_errors=True)


def baseline(label: str) -> str:
    """The plain row a variant is compared with (the same conversation, no guardrail/prompt)."""
    return "plain, 8 earlier turns + a new one" if "earlier turns" in label else "plain Converse"


def additions(samples: dict[str, list[float]]) -> dict[str, float]:
    return {
        label: statistics.median(values) - statistics.median(samples[baseline(label)])
        for label, values in samples.items()
    }


def report(title: str, unit: str, samples: dict[str, list[float]], scale: float) -> None:
    added_by = additions(samples)
    print(f"{title:48} {'p50 ' + unit:>9} {'p99 ' + unit:>9} {'+p50 ms':>9}")
    for label, values in samples.items():
        p50 = statistics.median(values)
        added = added_by[label] / scale
        print(f"  {label:46} {p50:9.1f} {pct(values, 0.99):9.1f} {added:9.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    local = in_process(args.n)
    remote = over_boto3(args.n)
    report("in-process provider.converse", "us", local, 1000)
    report("boto3 Converse, Nimbus overhead", "ms", remote, 1)
    worst = max(additions(local).values())
    print(f"largest in-process addition p50: {worst / 1000:.3f} ms (budget ~0.3 ms): "
          f"{worst / 300:.2f} x budget")  # fmt: skip


if __name__ == "__main__":
    main()
