"""boto3 PutItem/GetItem, sequential, small items: Nimbus vs a null server vs moto_server.

Budget (ARCHITECTURE.md): Nimbus <= 1.3 x the null server's time, >= 3 x faster than moto.
Run: .venv/bin/python benchmarks/dynamodb_items.py [--n 2000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from collections.abc import Callable
from typing import Any

from _servers import Server, start_moto, start_nimbus, start_null

TABLE = "bench"


def create_table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def timed(first: int, n: int, call: Callable[[int], Any]) -> list[float]:
    samples = []
    for i in range(first, first + n):
        began = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def operations(server: Server, needs_table: bool) -> dict[str, Callable[[int], Any]]:
    client = server.client("dynamodb")
    if needs_table:
        create_table(client)

    def put(i: int) -> None:
        client.put_item(
            TableName=TABLE,
            Item={"pk": {"S": f"user-{i}"}, "name": {"S": "Ada"}, "score": {"N": str(i)}},
        )

    def get(i: int) -> None:
        client.get_item(TableName=TABLE, Key={"pk": {"S": f"user-{i}"}})

    return {"PutItem": put, "GetItem": get}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    nimbus, data = start_nimbus()
    null = start_null()
    moto = start_moto()
    try:
        targets = {"null": operations(null, False), "nimbus": operations(nimbus, True)}
        if moto is not None:
            targets["moto"] = operations(moto, True)
        for ops in targets.values():  # warm connection pools, caches and code paths
            for call in ops.values():
                for i in range(200):
                    call(i)
        # Interleave the targets in rounds so that drift in machine load hits all of them alike.
        results: dict[str, dict[str, list[float]]] = {
            name: {"PutItem": [], "GetItem": []} for name in targets
        }
        per_round = max(1, args.n // args.rounds)
        for r in range(args.rounds):
            for name, ops in targets.items():
                for op, call in ops.items():
                    results[name][op] += timed(r * per_round, per_round, call)
    finally:
        for server in (nimbus, null, moto):
            if server is not None:
                server.stop()
        shutil.rmtree(data, ignore_errors=True)
    print(f"boto3 DynamoDB, sequential, n={args.n} per operation (ms per call)")
    print(f"{'op':8} {'server':7} {'mean':>7} {'p50':>7} {'p99':>7}")
    for op in ("PutItem", "GetItem"):
        for name, ops in results.items():
            s = sorted(ops[op])
            p99 = s[int(len(s) * 0.99) - 1]
            print(
                f"{op:8} {name:7} {statistics.mean(s):7.3f} {statistics.median(s):7.3f} {p99:7.3f}"
            )
        nim = statistics.median(results["nimbus"][op])
        ratio = nim / statistics.median(results["null"][op])
        line = f"{op}: nimbus/null = {ratio:.2f}x (budget <= 1.3)"
        if "moto" in results:
            line += (
                f", moto/nimbus = {statistics.median(results['moto'][op]) / nim:.2f}x (budget >= 3)"
            )
        print(line)


if __name__ == "__main__":
    main()
