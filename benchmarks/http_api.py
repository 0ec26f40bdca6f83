"""HTTP API -> Lambda hello at 16 connections, next to a bare hello app in the same run.

Budget (ARCHITECTURE.md): >= 30 % of a bare Starlette hello app's throughput. Starlette is not
installed here, so the baseline is a bare ASGI hello app on the same stack Nimbus serves with
(uvicorn + httptools + uvloop); that is at least as fast as Starlette, so the ratio is strict.
The client is a small asyncio HTTP/1.1 keep-alive client (one coroutine per connection) so the
load generator costs little CPU next to the servers on a 2-core machine.
Run: .venv/bin/python benchmarks/http_api.py [--seconds 5] [--rounds 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import shutil
import statistics
import sys
import time
import zipfile

from _servers import Server, free_port, start_nimbus

HELLO = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'hello'}\n"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"Service": "lambda.amazonaws.com"}}]}  # fmt: skip

HELLO_APP = """
import uvicorn

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})

uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), loop="uvloop",
            http="httptools", lifespan="off", access_log=False, log_level="warning")
"""


async def _connection(port: int, path: str, host: str, until: float, lat: list[float]) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bench\r\n\r\n".encode()
    done = 0
    try:
        while time.perf_counter() < until:
            began = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200") or body != b"hello":
                raise RuntimeError(f"unexpected reply: {head[:40]!r} {body[:80]!r}")
            lat.append((time.perf_counter() - began) * 1000)
            done += 1
    finally:
        writer.close()
    return done


async def _load(port: int, path: str, host: str, seconds: float, conns: int) -> tuple[float, list]:
    lat: list[float] = []
    began = time.perf_counter()
    until = began + seconds
    counts = await asyncio.gather(
        *(_connection(port, path, host, until, lat) for _ in range(conns))
    )
    return sum(counts) / (time.perf_counter() - began), lat


def measure(port: int, path: str, seconds: float, conns: int) -> tuple[float, list[float]]:
    return asyncio.run(_load(port, path, f"127.0.0.1:{port}", seconds, conns))


def deploy(nimbus: Server) -> str:
    iam, lam, v2 = nimbus.client("iam"), nimbus.client("lambda"), nimbus.client("apigatewayv2")
    role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps(TRUST))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", HELLO)
    fn = lam.create_function(
        FunctionName="hello",
        Runtime="python3.11",
        Handler="app.handler",
        Role=role["Role"]["Arn"],
        Code={"ZipFile": buf.getvalue()},
    )
    api = v2.create_api(Name="bench", ProtocolType="HTTP", Target=fn["FunctionArn"])
    return f"/_api/{api['ApiId']}/hello"


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    port = free_port()
    hello = Server("hello", [sys.executable, "-c", HELLO_APP, str(port)], port, "")
    nimbus, data = start_nimbus()
    try:
        path = deploy(nimbus)
        measure(nimbus.port, path, 1.0, args.connections)  # warm the Lambda workers
        measure(hello.port, "/", 1.0, args.connections)
        results: dict[str, list[float]] = {"hello": [], "nimbus": []}
        latencies: dict[str, list[float]] = {"hello": [], "nimbus": []}
        # Interleaved rounds: load drift on the machine hits both targets alike.
        for _ in range(args.rounds):
            for name, target_port, target_path in (
                ("hello", hello.port, "/"),
                ("nimbus", nimbus.port, path),
            ):
                rps, lat = measure(target_port, target_path, args.seconds, args.connections)
                results[name].append(rps)
                latencies[name].extend(lat)
        print(f"{args.connections} connections, {args.rounds} x {args.seconds:.0f} s per target")
        print(f"{'target':<34}{'req/s (median)':>16}{'p50 ms':>9}{'p99 ms':>9}")
        labels = {"hello": "bare ASGI hello (uvicorn)", "nimbus": "HTTP API -> Lambda hello"}
        for name in ("hello", "nimbus"):
            rps = statistics.median(results[name])
            lat = latencies[name]
            print(f"{labels[name]:<34}{rps:>16.0f}{pct(lat, 0.5):>9.2f}{pct(lat, 0.99):>9.2f}")
        ratio = statistics.median(results["nimbus"]) / statistics.median(results["hello"])
        print(f"ratio: {ratio:.1%} of the bare hello app (budget >= 30 % of bare Starlette)")
    finally:
        nimbus.stop()
        hello.stop()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
