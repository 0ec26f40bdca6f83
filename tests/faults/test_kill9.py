"""kill -9 during a concurrent write load loses no acknowledged write, and nothing half-written."""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

WRITERS = 3
LOAD_SECONDS = 2.0


def body_for(key: str) -> bytes:
    # Large enough to span several socket reads, and self-describing so a torn object shows.
    seed = hashlib.sha256(key.encode()).digest()
    return seed * (64 * 1024 // len(seed))


def test_kill9_loses_no_acknowledged_write(fresh_nimbus) -> None:
    s3 = fresh_nimbus.client("s3")
    ddb = fresh_nimbus.client("dynamodb")
    logs = fresh_nimbus.client("logs")
    s3.create_bucket(Bucket="durable")
    ddb.create_table(
        TableName="durable",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    logs.create_log_group(logGroupName="durable")
    for w in range(WRITERS):
        logs.create_log_stream(logGroupName="durable", logStreamName=f"w{w}")

    acked_objects: list[str] = []
    acked_items: list[str] = []
    acked_events: dict[str, list[str]] = {f"w{w}": [] for w in range(WRITERS)}
    stop = threading.Event()

    def writer(w: int) -> None:
        s3w, ddbw, logsw = (fresh_nimbus.client(n) for n in ("s3", "dynamodb", "logs"))
        i = 0
        while not stop.is_set():
            key = f"w{w}/obj-{i}"
            try:
                s3w.put_object(Bucket="durable", Key=key, Body=body_for(key))
                acked_objects.append(key)
                ddbw.put_item(TableName="durable", Item={"pk": {"S": key}, "n": {"N": str(i)}})
                acked_items.append(key)
                message = f"event {key}"
                logsw.put_log_events(
                    logGroupName="durable",
                    logStreamName=f"w{w}",
                    logEvents=[{"timestamp": int(time.time() * 1000), "message": message}],
                )
                acked_events[f"w{w}"].append(message)
            except (BotoCoreError, ClientError, OSError):
                return  # the server died under us: whatever was not acknowledged may be lost
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    time.sleep(LOAD_SECONDS)
    fresh_nimbus.kill9()
    stop.set()
    for t in threads:
        t.join(30)
    assert acked_objects and acked_items, "the load acknowledged nothing before the kill"

    fresh_nimbus.start()
    s3, ddb, logs = (fresh_nimbus.client(n) for n in ("s3", "dynamodb", "logs"))
    for key in acked_objects:
        assert s3.get_object(Bucket="durable", Key=key)["Body"].read() == body_for(key), key
    for key in acked_items:
        assert "Item" in ddb.get_item(TableName="durable", Key={"pk": {"S": key}}), key
    for stream, messages in acked_events.items():
        found = {e["message"] for e in _all_events(logs, stream)}
        missing = [m for m in messages if m not in found]
        assert not missing, f"{stream} lost acknowledged events: {missing[:3]}"
    # No torn object: everything listed (acknowledged or not) is whole.
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket="durable"):
        for obj in page.get("Contents", []):
            data = s3.get_object(Bucket="durable", Key=obj["Key"])["Body"].read()
            assert data == body_for(obj["Key"]), f"half-written object visible: {obj['Key']}"


def _all_events(logs: Any, stream: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "logGroupName": "durable",
        "logStreamName": stream,
        "startFromHead": True,
    }
    while True:
        page = logs.get_log_events(**kwargs)
        events.extend(page["events"])
        if not page["events"] or page["nextForwardToken"] == kwargs.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextForwardToken"]
