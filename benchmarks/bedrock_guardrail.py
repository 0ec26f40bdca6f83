"""Bedrock ApplyGuardrail through boto3, next to baselines measured in the same run.

Rows: the engine alone in-process (``evaluate_guardrail``), the null server answering the same
boto3 ``apply_guardrail`` (HTTP + boto3 cost alone), Nimbus with a guardrail that has no policy
(the wire front and lookup only) and Nimbus with a full guardrail (denied topics, words and
profanity, PII incl. Vietnamese phones, a custom regex, a content filter).
Run: .venv/bin/python benchmarks/bedrock_guardrail.py [--n 2000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _servers import start_nimbus, start_null

from nimbus.services.registry import ServiceRegistry

PROMPT = "Hi, my email is lan@example.com and my phone is 0912 345 678. Should I buy stocks?"
LONG = (PROMPT + " Tôi muốn hỏi về đơn hàng ORD-123456 giao tới 123 Nguyễn Huệ, Quận 1. ") * 12
FULL = {
    "topicPolicyConfig": {"topicsConfig": [{
        "name": "Investment Advice", "type": "DENY",
        "definition": "Personalized recommendations about investing in stocks, bonds or crypto.",
        "examples": ["Should I buy Tesla stock?", "Tôi nên đầu tư vào cổ phiếu nào?"]}]},
    "wordPolicyConfig": {"wordsConfig": [{"text": "CompetitorX"}],
                         "managedWordListsConfig": [{"type": "PROFANITY"}]},
    "sensitiveInformationPolicyConfig": {
        "piiEntitiesConfig": [{"type": t, "action": "ANONYMIZE"}
                              for t in ("EMAIL", "PHONE", "CREDIT_DEBIT_CARD_NUMBER", "ADDRESS")],
        "regexesConfig": [{"name": "ORDER_ID", "pattern": r"ORD-\d{6}", "action": "ANONYMIZE"}]},
    "contentPolicyConfig": {"filtersConfig": [
        {"type": "PROMPT_ATTACK", "inputStrength": "HIGH", "outputStrength": "NONE"}]},
}  # fmt: skip


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def timed(n: int, call: Callable[[], Any]) -> list[float]:
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def create(client: Any, name: str, **policies: Any) -> str:
    return client.create_guardrail(
        name=name, blockedInputMessaging="blocked", blockedOutputsMessaging="blocked", **policies
    )["guardrailId"]


def in_process(n: int) -> dict[str, list[float]]:
    data = Path(tempfile.mkdtemp(prefix="nimbus-bench-"))
    registry = ServiceRegistry(data, "us-east-1", "000000000000", "http://127.0.0.1:1")
    try:
        bedrock = registry.get("bedrock")
        gid = create_local(bedrock)
        out = {}
        for label, text in (("short prompt", PROMPT), (f"{len(LONG)}-char text", LONG)):
            content = [{"text": {"text": text}}]

            def run(c: list[dict] = content) -> Any:
                return bedrock.evaluate_guardrail(gid, "DRAFT", "INPUT", c)

            timed(200, run)
            out[label] = timed(n, run)
        return out
    finally:
        registry.close()
        shutil.rmtree(data, ignore_errors=True)


def create_local(bedrock: Any) -> str:
    req = {"name": "bench", "blockedInputMessaging": "b", "blockedOutputsMessaging": "b", **FULL}
    return bedrock.guardrails.create(req)["guardrailId"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    engine = in_process(args.n)
    nimbus, data = start_nimbus()
    null = start_null()
    try:
        control = nimbus.client("bedrock")
        empty, full = create(control, "empty"), create(control, "full", **FULL)
        rt, null_rt = nimbus.client("bedrock-runtime"), null.client("bedrock-runtime")
        content = [{"text": {"text": PROMPT}}]

        def call(client: Any, gid: str) -> Callable[[], Any]:
            return lambda: client.apply_guardrail(
                guardrailIdentifier=gid, guardrailVersion="DRAFT", source="INPUT", content=content
            )

        targets = {"null server, boto3 apply_guardrail": call(null_rt, empty),
                   "Nimbus, guardrail without policies": call(rt, empty),
                   "Nimbus, full guardrail": call(rt, full)}  # fmt: skip
        samples: dict[str, list[float]] = {label: [] for label in targets}
        for fn in targets.values():
            timed(200, fn)
        rounds = 5
        for _ in range(rounds):  # interleaved so load drift hits every target alike
            for label, fn in targets.items():
                samples[label] += timed(args.n // rounds, fn)
    finally:
        nimbus.stop()
        null.stop()
        shutil.rmtree(data, ignore_errors=True)

    print(f"{'target':46} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for label, values in engine.items():
        p50 = statistics.median(values)
        print(f"{'engine in-process, ' + label:46} {p50:8.3f} {pct(values, 0.99):8.3f} "
              f"{1000 / p50:8.0f}")  # fmt: skip
    for label, values in samples.items():
        p50 = statistics.median(values)
        print(f"{label:46} {p50:8.3f} {pct(values, 0.99):8.3f} {1000 / p50:8.0f}")
    base = statistics.median(samples["null server, boto3 apply_guardrail"])
    for label in ("Nimbus, guardrail without policies", "Nimbus, full guardrail"):
        print(f"{label} / null server p50: {statistics.median(samples[label]) / base:.2f}x")


if __name__ == "__main__":
    main()
