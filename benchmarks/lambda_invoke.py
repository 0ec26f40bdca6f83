"""Lambda invoke through boto3: warm p50/p99 and cold start, next to baselines in the same run.

Budget (ARCHITECTURE.md): warm invoke p50 <= 3 ms, cold start of a hello handler <= 150 ms.
Baselines: the same boto3 ``invoke`` answered by the null server (HTTP + boto3 cost alone) and a
direct in-process call of the handler.
Run: .venv/bin/python benchmarks/lambda_invoke.py [--n 2000] [--cold 20]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import re
import shutil
import statistics
import time
import zipfile
from collections.abc import Callable
from typing import Any

from _servers import start_nimbus, start_null

HELLO = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'hello'}\n"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"Service": "lambda.amazonaws.com"}}]}  # fmt: skip


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


def deploy(lam: Any, iam: Any) -> None:
    role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps(TRUST))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", HELLO)
    lam.create_function(FunctionName="hello", Runtime="python3.11", Role=role["Role"]["Arn"],
                        Handler="app.handler", Code={"ZipFile": buf.getvalue()})  # fmt: skip


def cold_starts(lam: Any, rounds: int) -> tuple[list[float], list[float]]:
    """Changing the configuration retires the environments: the next invoke is a cold start."""
    totals, inits = [], []
    for i in range(rounds):
        lam.update_function_configuration(
            FunctionName="hello", Environment={"Variables": {"ROUND": str(i)}}
        )
        began = time.perf_counter()
        reply = lam.invoke(FunctionName="hello", Payload=b"{}", LogType="Tail")
        totals.append((time.perf_counter() - began) * 1000)
        reply["Payload"].read()
        tail = base64.b64decode(reply["LogResult"]).decode()
        found = re.search(r"Init Duration: ([\d.]+) ms", tail)
        if found:
            inits.append(float(found.group(1)))
    return totals, inits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--cold", type=int, default=20)
    args = parser.parse_args()

    namespace: dict[str, Any] = {}
    exec(HELLO, namespace)  # the direct in-process baseline
    handler = namespace["handler"]
    direct = timed(args.n, lambda: json.dumps(handler(json.loads(b"{}"), None)).encode())

    nimbus, data = start_nimbus()
    null = start_null()
    try:
        lam = nimbus.client("lambda")
        deploy(lam, nimbus.client("iam"))
        null_lam = null.client("lambda")

        def warm() -> None:
            lam.invoke(FunctionName="hello", Payload=b"{}")["Payload"].read()

        def null_call() -> None:
            null_lam.invoke(FunctionName="hello", Payload=b"{}")["Payload"].read()

        timed(200, warm)
        timed(200, null_call)
        rounds = 5
        warm_s: list[float] = []
        null_s: list[float] = []
        for _ in range(rounds):  # interleaved so load drift hits both alike
            warm_s += timed(args.n // rounds, warm)
            null_s += timed(args.n // rounds, null_call)
        cold, inits = cold_starts(lam, args.cold)
    finally:
        nimbus.stop()
        null.stop()
        shutil.rmtree(data, ignore_errors=True)

    print(f"{'target':42} {'p50 ms':>8} {'p99 ms':>8}")
    rows = [
        ("direct in-process handler call", direct),
        ("null server, boto3 invoke", null_s),
        ("Nimbus warm invoke, boto3", warm_s),
        ("Nimbus cold start (invoke round trip)", cold),
        ("Nimbus cold start (REPORT Init Duration)", inits),
    ]
    for label, samples in rows:
        if samples:
            print(f"{label:42} {statistics.median(samples):8.3f} {pct(samples, 0.99):8.3f}")
    print(f"warm p50 budget 3 ms; cold start budget 150 ms; warm overhead over null server "
          f"{statistics.median(warm_s) - statistics.median(null_s):.3f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
