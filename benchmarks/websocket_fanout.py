"""WebSocket fan-out: one server holds N concurrent WebSocket connections and each receives C
chunks posted through the @connections API, as a streaming function posts them.

Budget (issue 5): 1,000 connections x 200 chunks, chunk delivery p99 <= 50 ms, resident memory
reported. Delivery latency is post time (the HTTP request leaves the poster) -> the client
receives the frame; posters and clients share one process and one monotonic clock.

Nimbus: a WebSocket API stage; every chunk is a SigV4-signed PostToConnection to
``/_api/{apiId}/{stage}/@connections/{id}`` by a role session allowed
``execute-api:ManageConnections`` (so IAM is evaluated per post, as for a function's role).
Baseline in the same run, on the same stack (uvicorn + httptools + uvloop + websockets): a bare
Starlette app whose ``POST /@connections/{id}`` sends the body to that WebSocket.
Posts are paced at --rate per second in total, round-robin over the connections, by --posters
keep-alive HTTP connections; both servers hold their connections at once and take turns in
--rounds rounds, so load drift on the machine hits both alike. Server memory is VmRSS from
/proc before and after connecting.
Run: .venv/bin/python benchmarks/websocket_fanout.py [--connections 1000] [--chunks 200]
     [--rate 2000] [--posters 32] [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from _servers import Server, free_port, start_nimbus
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from websockets.asyncio.client import ClientConnection, connect

BASELINE_APP = """
import itertools
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

sockets = {}
ids = itertools.count()

async def connection(websocket: WebSocket):
    await websocket.accept()
    me = f"c{next(ids)}="
    sockets[me] = websocket
    await websocket.send_text(me)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        sockets.pop(me, None)

async def post(request):
    websocket = sockets.get(request.path_params["id"])
    if websocket is None:
        return Response(status_code=410)
    await websocket.send_text((await request.body()).decode())
    return Response(status_code=200)

app = Starlette(routes=[WebSocketRoute("/ws", connection),
                        Route("/@connections/{id}", post, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), loop="uvloop",
            http="httptools", ws="websockets-sansio", ws_per_message_deflate=False,
            lifespan="off", access_log=False, log_level="warning")
"""
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"AWS": "arn:aws:iam::000000000000:root"}}]}  # fmt: skip
FILLER = "token " * 12  # a chunk of streamed text, ~100 bytes with its header


@dataclass
class Target:
    """One server under test: where clients connect and how a post for a connection looks."""

    name: str
    server: Server
    ws_url: str
    post_path: str  # path prefix; the connection id follows
    headers: dict[str, str] = field(default_factory=dict)  # extra request headers (signature)


@dataclass
class Run:
    latencies_ms: list[float] = field(default_factory=list)
    posted: int = 0
    failed: int = 0
    seconds: float = 0.0
    connect_s: float = 0.0
    rss_idle_mb: float = 0.0
    rss_connected_mb: float = 0.0
    rss_after_mb: float = 0.0
    server_cpu_s: float = 0.0  # the server's user + system CPU time during the fan-out


def cpu_seconds(server: Server) -> float:
    fields = Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


# -- Nimbus setup ------------------------------------------------------------------------------
def nimbus_target(server: Server) -> Target:
    v2, iam, sts = server.client("apigatewayv2"), server.client("iam"), server.client("sts")
    api = v2.create_api(
        Name="fanout", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    v2.create_stage(ApiId=api["ApiId"], StageName="live")
    role = iam.create_role(RoleName="streamer", AssumeRolePolicyDocument=json.dumps(TRUST))
    arn = f"arn:aws:execute-api:us-east-1:*:{api['ApiId']}/live/POST/@connections/*"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "execute-api:ManageConnections",
                "Resource": arn,
            }
        ],
    }
    iam.put_role_policy(RoleName="streamer", PolicyName="ws", PolicyDocument=json.dumps(policy))
    creds = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="streamer")["Credentials"]
    path = f"/_api/{api['ApiId']}/live/@connections/"
    # One SigV4 signature made as botocore makes it; Nimbus reads the signer's access key (and
    # so the role session) from it, which is what a post costs the server.
    request = AWSRequest(method="POST", url=f"{server.endpoint}{path}x", data=b"x")
    SigV4Auth(
        Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
        "execute-api",
        "us-east-1",
    ).add_auth(request)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
    return Target("nimbus", server, f"{api['ApiEndpoint']}/live", path, headers)


def baseline_target() -> Target:
    port = free_port()
    server = Server("baseline", [sys.executable, "-c", BASELINE_APP, str(port)], port, "")
    return Target("baseline", server, f"ws://127.0.0.1:{port}/ws", "/@connections/")


# -- the clients --------------------------------------------------------------------------------
async def open_clients(target: Target, count: int) -> list[tuple[ClientConnection, str]]:
    async def one() -> tuple[ClientConnection, str]:
        ws = await connect(target.ws_url, ping_interval=None, compression=None, max_size=2**20)
        if target.name == "nimbus":  # no route matches: the answer names the connection
            await ws.send('{"action": "whoami"}')
            me = json.loads(await ws.recv())["connectionId"]
        else:
            me = str(await ws.recv())
        return ws, me

    clients: list[tuple[ClientConnection, str]] = []
    for start in range(0, count, 50):  # in batches: the servers' accept queues stay short
        clients += await asyncio.gather(*(one() for _ in range(start, min(count, start + 50))))
    return clients


async def receive(ws: ClientConnection, chunks: int, run: Run) -> None:
    clock = time.monotonic_ns
    for _ in range(chunks):
        message = await ws.recv()
        sent = int(message[: message.index("|")])
        run.latencies_ms.append((clock() - sent) / 1e6)


async def poster(target: Target, jobs: asyncio.Queue[str | None], run: Run) -> None:
    port = target.server.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    extra = "".join(f"{k}: {v}\r\n" for k, v in target.headers.items())
    head = f"Host: 127.0.0.1:{port}\r\nUser-Agent: bench\r\n{extra}"
    clock = time.monotonic_ns
    try:
        while (conn_id := await jobs.get()) is not None:
            body = f"{clock()}|{FILLER}".encode()
            writer.write(
                f"POST {target.post_path}{conn_id} HTTP/1.1\r\n{head}"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            reply = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in reply.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            run.posted += 1
            if not reply.startswith(b"HTTP/1.1 200"):
                run.failed += 1
    finally:
        writer.close()


async def connect_all(target: Target, count: int, run: Run) -> list[tuple[ClientConnection, str]]:
    run.rss_idle_mb = target.server.rss_mb()
    began = time.perf_counter()
    clients = await open_clients(target, count)
    run.connect_s = time.perf_counter() - began
    run.rss_connected_mb = target.server.rss_mb()
    return clients


async def fan_out(
    target: Target,
    clients: list[tuple[ClientConnection, str]],
    chunks: int,
    args: argparse.Namespace,
    run: Run,
) -> None:
    """Post ``chunks`` chunks to every connection, paced at ``args.rate`` in total."""
    jobs: asyncio.Queue[str | None] = asyncio.Queue()
    receivers = [asyncio.ensure_future(receive(ws, chunks, run)) for ws, _ in clients]
    workers = [asyncio.ensure_future(poster(target, jobs, run)) for _ in range(args.posters)]
    ids = [me for _, me in clients]
    cpu_before = cpu_seconds(target.server)
    began = time.perf_counter()
    total = len(ids) * chunks
    scheduled = 0
    while scheduled < total:  # paced: post k is due at began + k / rate
        due = min(total, int((time.perf_counter() - began) * args.rate) + 1)
        while scheduled < due:
            jobs.put_nowait(ids[scheduled % len(ids)])
            scheduled += 1
        await asyncio.sleep(0.005)
    for _ in workers:
        jobs.put_nowait(None)
    await asyncio.gather(*workers)
    await asyncio.wait_for(asyncio.gather(*receivers), timeout=120)
    run.seconds += time.perf_counter() - began
    run.server_cpu_s += cpu_seconds(target.server) - cpu_before
    run.rss_after_mb = target.server.rss_mb()


async def measure(targets: dict[str, Target], args: argparse.Namespace) -> dict[str, Run]:
    runs = {name: Run() for name in targets}
    clients = {
        name: await connect_all(t, args.connections, runs[name]) for name, t in targets.items()
    }
    # The measuring client keeps its own collector out of the figures: its connections are
    # frozen out of collections and it collects nothing while it measures.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        # Interleaved rounds: load drift on the machine hits every target alike.
        per_round = [args.chunks // args.rounds] * args.rounds
        per_round[-1] += args.chunks - sum(per_round)
        for chunks in per_round:
            for name, target in targets.items():
                await fan_out(target, clients[name], chunks, args, runs[name])
    finally:
        gc.enable()
        gc.unfreeze()
    for held in clients.values():
        await asyncio.gather(*(ws.close() for ws, _ in held))
    return runs


def report(runs: dict[str, Run], args: argparse.Namespace) -> None:
    print(
        f"{args.connections} connections x {args.chunks} chunks, posts paced at "
        f"{args.rate:.0f}/s by {args.posters} keep-alive posters, {args.rounds} interleaved rounds"
    )
    print(
        f"{'target':<10}{'posts/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'connect s':>11}"
        f"{'RSS idle':>10}{'connected':>11}{'after':>8}{'KB/conn':>9}{'CPU us/post':>13}"
    )
    for name, run in runs.items():
        lat = run.latencies_ms
        per_conn = (run.rss_connected_mb - run.rss_idle_mb) * 1024 / args.connections
        print(
            f"{name:<10}{run.posted / run.seconds:>9.0f}{pct(lat, 0.5):>9.2f}{pct(lat, 0.99):>9.2f}"
            f"{max(lat):>9.1f}{run.connect_s:>11.2f}{run.rss_idle_mb:>8.0f}MB"
            f"{run.rss_connected_mb:>9.0f}MB{run.rss_after_mb:>6.0f}MB{per_conn:>9.1f}"
            f"{run.server_cpu_s * 1e6 / max(run.posted, 1):>13.0f}"
        )
        if run.failed:
            print(f"  {name}: {run.failed} posts failed")
    nimbus, base = runs["nimbus"], runs["baseline"]
    for label, p in (("p50", 0.5), ("p99", 0.99)):
        ratio = pct(nimbus.latencies_ms, p) / pct(base.latencies_ms, p)
        print(f"{label} latency ratio nimbus/baseline: {ratio:.2f}")
    growth = (nimbus.rss_connected_mb - nimbus.rss_idle_mb) / max(
        base.rss_connected_mb - base.rss_idle_mb, 0.1
    )
    print(f"memory per connection ratio nimbus/baseline: {growth:.2f}")
    verdict = "within" if pct(nimbus.latencies_ms, 0.99) <= 50 else "OVER"
    print(f"budget: chunk delivery p99 <= 50 ms -> nimbus {verdict} budget")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--rate", type=float, default=2000.0, help="posts per second, in total")
    parser.add_argument("--posters", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    # Each side holds a socket per connection; children inherit the raised limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 4 * args.connections + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    import uvloop

    nimbus, data = start_nimbus()
    baseline = baseline_target()
    try:
        targets = {"nimbus": nimbus_target(nimbus), "baseline": baseline}
        runs = uvloop.run(measure(targets, args))
        report(runs, args)
    finally:
        nimbus.stop()
        baseline.server.stop()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
