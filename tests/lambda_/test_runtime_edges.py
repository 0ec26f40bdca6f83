"""In-process edges of the runtime: a caller that gives up, S3 events behind other targets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time

from .conftest import TRUST, zip_code

SLOW = """import time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return "ok"
"""


def _function(registry, ctx, name: str) -> None:
    role = registry.get("iam").create_role(
        {"RoleName": f"{name}-role", "AssumeRolePolicyDocument": json.dumps(TRUST)}, ctx
    )["Role"]["Arn"]
    create = registry.get("lambda").create_function(
        {"FunctionName": name, "Runtime": "python3.11", "Role": role, "Handler": "app.handler",
         "Code": {"ZipFile": zip_code(SLOW)}, "Timeout": 30},
        ctx,
    )  # fmt: skip
    asyncio.run(create)


def test_cancelled_invoke_frees_its_environment(registry, ctx):
    _function(registry, ctx, "slow")
    lam = registry.get("lambda")
    runtime = lam.engine.runtime

    async def scenario() -> tuple[int | None, int, bytes]:
        await lam.invoke_function("slow", b"{}")  # a warm environment exists
        worker = runtime.pools["slow"].idle[0]
        task = asyncio.ensure_future(lam.invoke_function("slow", b'{"sleep": 20}'))
        for _ in range(200):  # until the handler runs in that environment
            if worker.busy:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        returncode = await asyncio.wait_for(worker.proc.wait(), 10)
        assert not os.path.exists(f"/proc/{worker.proc.pid}")  # killed, not left running
        in_flight = runtime.pools["slow"].in_flight
        again = await lam.invoke_function("slow", b"{}")
        lam.invoker.stop()
        await runtime.aclose()
        return returncode, in_flight, again.payload

    returncode, in_flight, payload = asyncio.run(scenario())
    # Ended by a signal; asyncio reports 255 when another child watcher reaped it first.
    assert returncode is not None and (returncode < 0 or returncode == 255)
    assert in_flight == 0
    assert payload == b'"ok"'


def test_s3_events_for_lambda_are_not_starved_by_other_targets(registry, ctx):
    _function(registry, ctx, "sink")
    s3 = registry.get("s3").engine
    lam = registry.get("lambda")
    rows = [("b", "arn:aws:sqs:us-east-1:000000000000:q", "queue", "{}")] * 150
    rows += [("b", lam.engine.arn("sink"), "lambda", json.dumps({"Records": [{"n": i}]}))
             for i in range(130)]  # fmt: skip
    with s3.tx() as db:
        db.executemany(
            "INSERT INTO outbox (bucket, target_arn, target_type, event, created)"
            " VALUES (?, ?, ?, ?, ?)",
            [(*row, time.time()) for row in rows],
        )
    moved = lam.invoker.deliver_s3_events()
    assert moved == 130
    queued = lam.engine.store.due(time.time() + 1, 500, set())
    assert sorted(json.loads(q.payload)["Records"][0]["n"] for q in queued) == list(range(130))
    assert s3.pending_notifications(500, target_type="lambda") == []
    assert len(s3.pending_notifications(500)) == 150  # nobody consumes queue targets yet


def test_a_runtime_other_than_the_interpreter_is_reported_once(registry, ctx, caplog):
    import sys

    other = "python3.13" if sys.version_info[:2] != (3, 13) else "python3.12"
    role = registry.get("iam").create_role(
        {"RoleName": "rt-role", "AssumeRolePolicyDocument": json.dumps(TRUST)}, ctx
    )["Role"]["Arn"]
    lam = registry.get("lambda")
    with caplog.at_level("WARNING", logger="nimbus.lambda"):
        for name in ("rt-a", "rt-b"):
            create = lam.create_function(
                {"FunctionName": name, "Runtime": other, "Role": role, "Handler": "app.handler",
                 "Code": {"ZipFile": zip_code(SLOW)}},
                ctx,
            )  # fmt: skip
            asyncio.run(create)
    told = [r.getMessage() for r in caplog.records if other in r.getMessage()]
    assert len(told) == 1
    assert f"python{sys.version_info.major}.{sys.version_info.minor}" in told[0]
