"""CloudWatch Logs operations against a real SQLite database in a temp dir."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from support import Call

from nimbus.services.registry import ServiceRegistry


def now_ms() -> int:
    return int(time.time() * 1000)


def put(logs: Call, group: str, stream: str, events: list[tuple[int, str]]) -> dict[str, Any]:
    return logs(
        "put_log_events",
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": ts, "message": m} for ts, m in events],
    )


@pytest.fixture
def stream(logs: Call) -> tuple[str, str]:
    logs("create_log_group", logGroupName="/app/api")
    logs("create_log_stream", logGroupName="/app/api", logStreamName="s1")
    return "/app/api", "s1"


def test_log_group_lifecycle_and_errors(logs: Call) -> None:
    logs("create_log_group", logGroupName="/aws/lambda/fn", tags={"team": "ml"})
    err = logs.error("create_log_group", logGroupName="/aws/lambda/fn")
    assert err.code == "ResourceAlreadyExistsException"
    assert logs.error("create_log_group", logGroupName="bad name!").code == (
        "InvalidParameterException"
    )
    (group,) = logs("describe_log_groups")["logGroups"]
    assert group["logGroupName"] == "/aws/lambda/fn"
    assert group["arn"] == "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn:*"
    assert group["storedBytes"] == 0 and "retentionInDays" not in group
    assert logs("list_tags_log_group", logGroupName="/aws/lambda/fn")["tags"] == {"team": "ml"}
    logs("delete_log_group", logGroupName="/aws/lambda/fn")
    err = logs.error("delete_log_group", logGroupName="/aws/lambda/fn")
    assert (err.code, err.message) == (
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )


def test_describe_log_groups_prefix_pattern_and_paging(logs: Call) -> None:
    for name in ["/a/one", "/a/two", "/b/one", "/a/three", "/c/ONE"]:
        logs("create_log_group", logGroupName=name)
    names = [
        g["logGroupName"]
        for g in logs("describe_log_groups", logGroupNamePrefix="/a/")["logGroups"]
    ]
    assert names == ["/a/one", "/a/three", "/a/two"]
    by_pattern = logs("describe_log_groups", logGroupNamePattern="one")["logGroups"]
    assert [g["logGroupName"] for g in by_pattern] == ["/a/one", "/b/one", "/c/ONE"]
    err = logs.error("describe_log_groups", logGroupNamePrefix="/a", logGroupNamePattern="x")
    assert err.code == "InvalidParameterException"
    seen, token = [], None
    while True:
        page = logs("describe_log_groups", limit=2, **({"nextToken": token} if token else {}))
        seen += [g["logGroupName"] for g in page["logGroups"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == sorted(seen) and len(seen) == 5


def test_put_log_events_requires_existing_group_and_stream(logs: Call) -> None:
    err = logs.error(
        "put_log_events",
        logGroupName="nope",
        logStreamName="s",
        logEvents=[{"timestamp": now_ms(), "message": "x"}],
    )
    assert err.message == "The specified log group does not exist."
    logs("create_log_group", logGroupName="g")
    err = logs.error(
        "put_log_events",
        logGroupName="g",
        logStreamName="s",
        logEvents=[{"timestamp": now_ms(), "message": "x"}],
    )
    assert (err.code, err.message) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )


def test_put_log_events_validates_batch(logs: Call, stream: tuple[str, str]) -> None:
    t = now_ms()
    err = logs.error(
        "put_log_events",
        logGroupName=stream[0],
        logStreamName=stream[1],
        logEvents=[{"timestamp": t, "message": "b"}, {"timestamp": t - 1, "message": "a"}],
    )
    assert err.code == "InvalidParameterException" and "chronological" in err.message
    too_many = [{"timestamp": t, "message": "x"}] * 10_001
    err = logs.error(
        "put_log_events", logGroupName=stream[0], logStreamName=stream[1], logEvents=too_many
    )
    assert err.code == "InvalidParameterException"
    too_big = [{"timestamp": t, "message": "x" * 300_000}] * 4
    err = logs.error(
        "put_log_events", logGroupName=stream[0], logStreamName=stream[1], logEvents=too_big
    )
    assert err.code == "InvalidParameterException" and "too large" in err.message


def test_too_old_and_too_new_events_are_rejected_not_stored(
    logs: Call, stream: tuple[str, str]
) -> None:
    t = now_ms()
    day = 86_400_000
    # Rejected events do not count towards the 24-hour span limit.
    out = put(logs, *stream, [(t - 20 * day, "old"), (t - 15 * day, "old2"), (t - 1000, "ok")])
    assert out["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1}
    out = put(logs, *stream, [(t, "ok2"), (t + 3 * 3_600_000, "future")])
    assert out["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    got = logs("get_log_events", logGroupName=stream[0], logStreamName=stream[1])
    assert [e["message"] for e in got["events"]] == ["ok", "ok2"]
    err = logs.error(
        "put_log_events",
        logGroupName=stream[0],
        logStreamName=stream[1],
        logEvents=[{"timestamp": t - 2 * day, "message": "a"}, {"timestamp": t, "message": "b"}],
    )
    assert err.code == "InvalidParameterException" and "24 hours" in err.message


def test_get_log_events_paging_forward_backward_and_tailing(
    logs: Call, stream: tuple[str, str]
) -> None:
    t = now_ms() - 10_000
    put(logs, *stream, [(t + i, f"m{i}") for i in range(25)])
    req = {"logGroupName": stream[0], "logStreamName": stream[1], "limit": 10}
    # Default: the newest events, oldest first.
    tail = logs("get_log_events", **req)
    assert [e["message"] for e in tail["events"]] == [f"m{i}" for i in range(15, 25)]
    back = logs("get_log_events", **req, nextToken=tail["nextBackwardToken"])
    assert [e["message"] for e in back["events"]] == [f"m{i}" for i in range(5, 15)]
    # From the head, forward tokens walk everything exactly once.
    seen: list[str] = []
    page = logs("get_log_events", **req, startFromHead=True)
    while page["events"]:
        seen += [e["message"] for e in page["events"]]
        token = page["nextForwardToken"]
        page = logs("get_log_events", **req, nextToken=token)
    assert seen == [f"m{i}" for i in range(25)]
    # At the end the same token comes back, and it picks up new events (tailing).
    assert page["nextForwardToken"] == token
    put(logs, *stream, [(t + 100, "late")])
    page = logs("get_log_events", **req, nextToken=token)
    assert [e["message"] for e in page["events"]] == ["late"]
    assert page["events"][0]["ingestionTime"] >= t
    err = logs.error("get_log_events", **req, nextToken="garbage")
    assert err.code == "InvalidParameterException"


def test_get_log_events_time_window(logs: Call, stream: tuple[str, str]) -> None:
    t = now_ms() - 10_000
    put(logs, *stream, [(t + i * 1000, f"m{i}") for i in range(5)])
    got = logs(
        "get_log_events",
        logGroupName=stream[0],
        logStreamName=stream[1],
        startTime=t + 1000,
        endTime=t + 3000,
        startFromHead=True,
    )
    # startTime inclusive, endTime exclusive.
    assert [e["message"] for e in got["events"]] == ["m1", "m2"]


def test_describe_log_streams_reports_event_times_and_orders(logs: Call) -> None:
    logs("create_log_group", logGroupName="g")
    t = now_ms() - 60_000
    for name, offset in [("b", 30_000), ("a", 10_000), ("c", 20_000)]:
        logs("create_log_stream", logGroupName="g", logStreamName=name)
        put(logs, "g", name, [(t + offset, "first"), (t + offset + 5, "second")])
    logs("create_log_stream", logGroupName="g", logStreamName="empty")
    streams = logs("describe_log_streams", logGroupName="g")["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["a", "b", "c", "empty"]
    a = streams[0]
    assert a["firstEventTimestamp"] == t + 10_000 and a["lastEventTimestamp"] == t + 10_005
    assert a["lastIngestionTime"] >= t and a["storedBytes"] > 0
    assert "firstEventTimestamp" not in streams[3]
    newest = logs(
        "describe_log_streams", logGroupName="g", orderBy="LastEventTime", descending=True
    )["logStreams"]
    assert [s["logStreamName"] for s in newest] == ["b", "c", "a", "empty"]
    err = logs.error(
        "describe_log_streams", logGroupName="g", orderBy="LastEventTime", logStreamNamePrefix="a"
    )
    assert err.code == "InvalidParameterException"
    page = logs("describe_log_streams", logGroupName="g", limit=3)
    assert len(page["logStreams"]) == 3
    rest = logs("describe_log_streams", logGroupName="g", nextToken=page["nextToken"])
    assert [s["logStreamName"] for s in rest["logStreams"]] == ["empty"]
    group = logs("describe_log_groups")["logGroups"][0]
    assert group["storedBytes"] == sum(s["storedBytes"] for s in streams)


def test_filter_log_events_across_streams(logs: Call) -> None:
    logs("create_log_group", logGroupName="g")
    t = now_ms() - 60_000
    for name in ["web-1", "web-2", "worker"]:
        logs("create_log_stream", logGroupName="g", logStreamName=name)
    put(logs, "g", "web-1", [(t + 1, "ERROR a"), (t + 4, "INFO b")])
    put(logs, "g", "web-2", [(t + 2, "ERROR c"), (t + 5, '{"level": "ERROR", "ms": 900}')])
    put(logs, "g", "worker", [(t + 3, "ERROR d")])
    got = logs("filter_log_events", logGroupName="g", filterPattern="ERROR")
    assert [e["message"] for e in got["events"]] == [
        "ERROR a",
        "ERROR c",
        "ERROR d",
        '{"level": "ERROR", "ms": 900}',
    ]
    first = got["events"][0]
    assert first["logStreamName"] == "web-1" and first["eventId"] and first["ingestionTime"]
    only_web = logs("filter_log_events", logGroupName="g", logStreamNamePrefix="web-")
    assert {e["logStreamName"] for e in only_web["events"]} == {"web-1", "web-2"}
    named = logs("filter_log_events", logGroupName="g", logStreamNames=["worker"])
    assert [e["message"] for e in named["events"]] == ["ERROR d"]
    json_hits = logs("filter_log_events", logGroupName="g", filterPattern="{ $.ms > 500 }")
    assert len(json_hits["events"]) == 1
    window = logs("filter_log_events", logGroupName="g", startTime=t + 2, endTime=t + 4)
    assert [e["message"] for e in window["events"]] == ["ERROR c", "ERROR d"]
    err = logs.error("filter_log_events", logGroupName="g", filterPattern="{ $.x = }")
    assert err.code == "InvalidParameterException" and "Invalid filter pattern" in err.message
    # Paging with limit visits every match once.
    seen, token = [], None
    while True:
        extra = {"nextToken": token} if token else {}
        page = logs("filter_log_events", logGroupName="g", filterPattern="ERROR", limit=2, **extra)
        seen += [e["eventId"] for e in page["events"]]
        token = page.get("nextToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) == 4


def test_retention_hides_and_sweeps_expired_events(
    logs: Call, stream: tuple[str, str], registry: ServiceRegistry
) -> None:
    t = now_ms()
    day = 86_400_000
    put(logs, *stream, [(t - 3 * day, "three days old")])
    put(logs, *stream, [(t - 1000, "fresh")])
    err = logs.error("put_retention_policy", logGroupName=stream[0], retentionInDays=2)
    assert err.code == "InvalidParameterException"
    logs("put_retention_policy", logGroupName=stream[0], retentionInDays=1)
    assert logs("describe_log_groups")["logGroups"][0]["retentionInDays"] == 1
    got = logs("filter_log_events", logGroupName=stream[0])
    assert [e["message"] for e in got["events"]] == ["fresh"]
    engine = registry.get("logs").engine
    assert engine.db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
    (described,) = logs("describe_log_streams", logGroupName=stream[0])["logStreams"]
    assert described["storedBytes"] == len("fresh") + 26
    assert described["firstEventTimestamp"] == t - 1000
    logs("delete_retention_policy", logGroupName=stream[0])
    assert "retentionInDays" not in logs("describe_log_groups")["logGroups"][0]


def test_tag_resource_by_arn(logs: Call) -> None:
    logs("create_log_group", logGroupName="g")
    arn = logs("describe_log_groups")["logGroups"][0]["logGroupArn"]
    logs("tag_resource", resourceArn=arn, tags={"a": "1", "b": "2"})
    logs("untag_resource", resourceArn=arn, tagKeys=["a"])
    assert logs("list_tags_for_resource", resourceArn=arn)["tags"] == {"b": "2"}


def test_append_creates_group_and_stream_and_follow_sees_new_events(
    registry: ServiceRegistry, logs: Call
) -> None:
    provider = registry.get("logs")
    t = now_ms()
    provider.append("/aws/lambda/fn", "2026/01/01/[$LATEST]abc", [(t + 1, "b"), (t, "a")])
    got = logs(
        "get_log_events",
        logGroupName="/aws/lambda/fn",
        logStreamName="2026/01/01/[$LATEST]abc",
        startFromHead=True,
    )
    assert [e["message"] for e in got["events"]] == ["a", "b"]

    stop = threading.Event()
    seen: list[str] = []

    def reader() -> None:
        for event in provider.follow("/aws/lambda/fn", poll_interval=0.01, stop=stop):
            seen.append(event.message)
            if len(seen) == 2:
                stop.set()

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.05)
    provider.append("/aws/lambda/fn", "other", [(t + 5, "c")])
    provider.append("/aws/lambda/fn", "other", [(t + 6, "d")])
    thread.join(5)
    stop.set()
    assert seen == ["c", "d"]  # follow starts at new events, not history
    history = provider.read("/aws/lambda/fn", filter_pattern="?a ?d")
    assert [e.message for e in history] == ["a", "d"]


def test_events_survive_reopening_the_database(
    stream: tuple[str, str], logs: Call, registry: ServiceRegistry
) -> None:
    put(logs, *stream, [(now_ms(), "durable")])
    registry.close()
    again = ServiceRegistry(registry.data_dir, "us-east-1", "000000000000", "http://x")
    try:
        provider = again.get("logs")
        assert [e.message for e in provider.read(stream[0])] == ["durable"]
    finally:
        again.close()


def test_iam_resources_match_the_lambda_basic_execution_policy(
    registry: ServiceRegistry, ctx: Any
) -> None:
    provider = registry.get("logs")
    prefix = "arn:aws:logs:us-east-1:000000000000:log-group:"
    put_req = {"logGroupName": "/aws/lambda/fn", "logStreamName": "2026/01/01/[$LATEST]a"}
    assert provider.iam_resources("PutLogEvents", put_req, ctx) == [
        f"{prefix}/aws/lambda/fn:log-stream:2026/01/01/[$LATEST]a"
    ]
    create = {"logGroupName": "/aws/lambda/fn"}
    assert provider.iam_resources("CreateLogGroup", create, ctx) == [f"{prefix}/aws/lambda/fn:*"]
    assert provider.iam_resources("DescribeLogGroups", {}, ctx) == [f"{prefix}*"]


def test_reversed_time_window_is_rejected(logs: Call, stream: tuple[str, str]) -> None:
    for op, extra in [("filter_log_events", {}), ("get_log_events", {"logStreamName": "s1"})]:
        err = logs.error(op, logGroupName=stream[0], startTime=2000, endTime=1000, **extra)
        assert err.code == "InvalidParameterException"


def test_append_truncates_oversized_lines_at_the_event_limit(
    registry: ServiceRegistry,
) -> None:
    provider = registry.get("logs")
    huge = "é" * 600_000  # 1.2 MB of UTF-8
    provider.append("/big", "s", [(now_ms(), huge)])
    (event,) = provider.read("/big")
    assert len(event.message.encode()) <= 1_048_576 - 26
    assert event.message == huge[: len(event.message)]  # cut on a character boundary
