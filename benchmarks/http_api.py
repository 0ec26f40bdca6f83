"""HTTP API -> Lambda hello at 16 connections, next to a bare hello app in the same run.

Budget (ARCHITECTURE.md): >= 30 % of a bare Starlette hello app's throughput. Baselines on the
same stack Nimbus serves with (uvicorn + httptools + uvloop): a Starlette app with one route (the
budget's baseline) and a raw ASGI hello app (the ceiling of that stack).
The client is a small asyncio HTTP/1.1 keep-alive client (one coroutine per connection) so the
load generator costs little CPU next to the servers on a 2-core machine.
Run: .venv/bin/python benchmarks/http_api.py [--seconds 5] [--rounds 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import sys
import zipfile

import _load as load
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

STARLETTE_APP = """
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

async def hello(request):
    return PlainTextResponse("hello")

app = Starlette(routes=[Route("/", hello)])
uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), loop="uvloop",
            http="httptools", lifespan="off", access_log=False, log_level="warning")
"""


def measure(port: int, path: str, seconds: float, conns: int) -> tuple[float, list[float]]:
    return load.measure(port, "GET", path, seconds, conns, ok=lambda body: body == b"hello")


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

    hello_port, starlette_port = free_port(), free_port()
    hello = Server("hello", [sys.executable, "-c", HELLO_APP, str(hello_port)], hello_port, "")
    starlette = Server(
        "starlette", [sys.executable, "-c", STARLETTE_APP, str(starlette_port)], starlette_port, ""
    )
    nimbus, data = start_nimbus()
    try:
        path = deploy(nimbus)
        targets = {
            "starlette": (starlette.port, "/"),
            "hello": (hello.port, "/"),
            "nimbus": (nimbus.port, path),
        }
        for target_port, target_path in targets.values():  # warms the Lambda workers too
            measure(target_port, target_path, 1.0, args.connections)
        results: dict[str, list[float]] = {name: [] for name in targets}
        latencies: dict[str, list[float]] = {name: [] for name in targets}
        # Interleaved rounds: load drift on the machine hits every target alike.
        for _ in range(args.rounds):
            for name, (target_port, target_path) in targets.items():
                rps, lat = measure(target_port, target_path, args.seconds, args.connections)
                results[name].append(rps)
                latencies[name].extend(lat)
        print(f"{args.connections} connections, {args.rounds} x {args.seconds:.0f} s per target")
        print(f"{'target':<34}{'req/s (median)':>16}{'p50 ms':>9}{'p99 ms':>9}")
        labels = {
            "starlette": "bare Starlette hello (uvicorn)",
            "hello": "raw ASGI hello (uvicorn)",
            "nimbus": "HTTP API -> Lambda hello",
        }
        for name, label in labels.items():
            rps = statistics.median(results[name])
            lat = latencies[name]
            print(f"{label:<34}{rps:>16.0f}{pct(lat, 0.5):>9.2f}{pct(lat, 0.99):>9.2f}")
        nimbus_rps = statistics.median(results["nimbus"])
        for name in ("starlette", "hello"):
            ratio = nimbus_rps / statistics.median(results[name])
            print(f"ratio to {labels[name]}: {ratio:.1%}")
        print("budget: >= 30 % of bare Starlette")
    finally:
        nimbus.stop()
        hello.stop()
        starlette.stop()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
