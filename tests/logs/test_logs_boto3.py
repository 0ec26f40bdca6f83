"""boto3 CloudWatch Logs calls against a live Nimbus server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from support import unique

Aws = Callable[..., Any]


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def group(aws: Aws) -> str:
    name = unique("/nimbus/test")
    aws("logs").create_log_group(logGroupName=name)
    return name


def put(client: Any, group: str, stream: str, events: list[tuple[int, str]], **kw: Any) -> Any:
    return client.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": ts, "message": m} for ts, m in events],
        **kw,
    )


def test_write_and_read_a_stream(aws: Aws, group: str) -> None:
    logs = aws("logs")
    logs.create_log_stream(logGroupName=group, logStreamName="app")
    t = now_ms() - 5000
    # Sequence tokens are accepted and ignored, as on AWS today.
    put(logs, group, "app", [(t + i, f"line {i}") for i in range(30)], sequenceToken="bogus")
    page = logs.get_log_events(logGroupName=group, logStreamName="app", limit=20)
    assert [e["message"] for e in page["events"]] == [f"line {i}" for i in range(10, 30)]
    older = logs.get_log_events(
        logGroupName=group, logStreamName="app", limit=20, nextToken=page["nextBackwardToken"]
    )
    assert [e["message"] for e in older["events"]] == [f"line {i}" for i in range(10)]
    (stream,) = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert stream["firstEventTimestamp"] == t and stream["lastEventTimestamp"] == t + 29
    (described,) = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert described["storedBytes"] > 0 and described["arn"].endswith(f"log-group:{group}:*")


def test_errors_have_aws_codes(aws: Aws, group: str) -> None:
    logs = aws("logs")
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as info:
        put(logs, group, "missing-stream", [(now_ms(), "x")])
    assert info.value.response["Error"]["Message"] == "The specified log stream does not exist."
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    with pytest.raises(logs.exceptions.InvalidParameterException):
        put(logs, group, "s", [(now_ms(), "later"), (now_ms() - 1000, "earlier")])
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.filter_log_events(logGroupName=group, filterPattern='{ $.a = "x" ')
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.put_retention_policy(logGroupName=group, retentionInDays=2)
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.describe_log_streams(logGroupName=unique("/nope"))


def test_filter_log_events_with_patterns_and_paginator(aws: Aws, group: str) -> None:
    logs = aws("logs")
    t = now_ms() - 60_000
    for stream in ("api-1", "api-2", "worker"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    put(
        logs,
        group,
        "api-1",
        [
            (
                t + i * 10,
                json.dumps({"level": "ERROR" if i % 3 == 0 else "INFO", "latency": i * 10}),
            )
            for i in range(30)
        ],
    )
    put(logs, group, "api-2", [(t + 1, "10.0.0.1 GET /predict 503 1200")])
    put(logs, group, "worker", [(t + 2, "ERROR worker crashed")])
    paginator = logs.get_paginator("filter_log_events")
    errors = [
        e
        for page in paginator.paginate(
            logGroupName=group,
            filterPattern='{ $.level = "ERROR" && $.latency > 100 }',
            PaginationConfig={"PageSize": 3},
        )
        for e in page["events"]
    ]
    assert [json.loads(e["message"])["latency"] for e in errors] == [120, 150, 180, 210, 240, 270]
    assert {e["logStreamName"] for e in errors} == {"api-1"}
    delimited = logs.filter_log_events(
        logGroupName=group, filterPattern="[ip, method, path, status = 5*, bytes > 1000]"
    )["events"]
    assert [e["logStreamName"] for e in delimited] == ["api-2"]
    text = logs.filter_log_events(
        logGroupName=group, filterPattern="ERROR -worker", logStreamNamePrefix="work"
    )["events"]
    assert text == []


def test_describe_log_groups_paginator(aws: Aws) -> None:
    logs = aws("logs")
    prefix = unique("/nimbus/page")
    for i in range(7):
        logs.create_log_group(logGroupName=f"{prefix}/{i}")
    pages = logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix=prefix, PaginationConfig={"PageSize": 3}
    )
    names = [g["logGroupName"] for page in pages for g in page["logGroups"]]
    assert names == [f"{prefix}/{i}" for i in range(7)]


def nearest_rank(values: list[float], p: float) -> float:
    """Nearest-rank percentile computed independently of Nimbus (CloudWatch's definition)."""
    ordered = sorted(values)
    needed = Fraction(str(p)) / 100 * len(ordered)
    return next(v for v in ordered if sum(1 for x in ordered if x <= v) >= needed)


def test_emf_lines_become_cloudwatch_metrics(aws: Aws, group: str) -> None:
    logs, cloudwatch = aws("logs"), aws("cloudwatch")
    namespace = unique("EmfApp")
    logs.create_log_stream(logGroupName=group, logStreamName="fn")
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    ts = int(start.timestamp() * 1000) + 1000
    latencies = [float((i * 37) % 101) for i in range(200)]
    lines = []
    for i in range(0, 200, 10):
        doc = {
            "_aws": {
                "Timestamp": ts,
                "CloudWatchMetrics": [
                    {
                        "Namespace": namespace,
                        "Dimensions": [["Service"]],
                        "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}],
                    }
                ],
            },
            "Service": "digits",
            "Latency": latencies[i : i + 10],
        }
        lines.append((ts, json.dumps(doc)))
    put(logs, group, "fn", lines)
    listed = cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
    assert listed == [
        {
            "Namespace": namespace,
            "MetricName": "Latency",
            "Dimensions": [{"Name": "Service", "Value": "digits"}],
        }
    ]
    out = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName="Latency",
        Dimensions=[{"Name": "Service", "Value": "digits"}],
        StartTime=start,
        EndTime=start + timedelta(minutes=5),
        Period=60,
        ExtendedStatistics=["p50", "p90", "p99"],
    )
    (point,) = out["Datapoints"]
    assert point["Unit"] == "Milliseconds"
    assert point["ExtendedStatistics"] == {
        "p50": nearest_rank(latencies, 50),
        "p90": nearest_rank(latencies, 90),
        "p99": nearest_rank(latencies, 99),
    }
    stats = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName="Latency",
        Dimensions=[{"Name": "Service", "Value": "digits"}],
        StartTime=start,
        EndTime=start + timedelta(minutes=5),
        Period=60,
        Statistics=["SampleCount", "Maximum"],
    )["Datapoints"][0]
    assert (stats["SampleCount"], stats["Maximum"]) == (200, max(latencies))


def test_acknowledged_writes_survive_kill_9(fresh_nimbus: Any) -> None:
    logs = fresh_nimbus.client("logs")
    cloudwatch = fresh_nimbus.client("cloudwatch")
    logs.create_log_group(logGroupName="durable")
    logs.create_log_stream(logGroupName="durable", logStreamName="s")
    put(logs, "durable", "s", [(now_ms(), "acknowledged")])
    cloudwatch.put_metric_data(Namespace="Durable", MetricData=[{"MetricName": "m", "Value": 7}])
    fresh_nimbus.kill9()
    fresh_nimbus.start()
    logs = fresh_nimbus.client("logs")
    events = logs.get_log_events(logGroupName="durable", logStreamName="s")["events"]
    assert [e["message"] for e in events] == ["acknowledged"]
    metrics = fresh_nimbus.client("cloudwatch").list_metrics(Namespace="Durable")["Metrics"]
    assert [m["MetricName"] for m in metrics] == ["m"]


def test_follow_via_api_streams_new_events(aws: Aws, group: str) -> None:
    from nimbus.services.logs.tail import follow_via_api

    logs = aws("logs")
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    t = now_ms()
    put(logs, group, "s", [(t - 60_000, "too old to show"), (t - 1000, "recent")])
    stop = threading.Event()
    seen: list[str] = []

    def reader() -> None:
        for event in follow_via_api(logs, group, since_ms=t - 5000, poll_interval=0.05, stop=stop):
            seen.append(event["message"])
            if len(seen) == 3:
                stop.set()

    thread = threading.Thread(target=reader)
    thread.start()
    time.sleep(0.2)
    # Two events at the same millisecond: both shown, each once.
    put(logs, group, "s", [(t + 10, "new 1"), (t + 10, "new 2")])
    thread.join(10)
    stop.set()
    assert seen == ["recent", "new 1", "new 2"]


def test_insights_query_over_the_api(aws: Aws, group: str) -> None:
    logs = aws("logs")
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    t = now_ms() - 10_000
    put(logs, group, "s", [(t + i, json.dumps({"ms": i * 5, "ok": i % 2 == 0})) for i in range(10)])
    now_s = int(time.time())
    query_id = logs.start_query(
        logGroupName=group,
        startTime=now_s - 600,
        endTime=now_s + 60,
        queryString="stats count(*) as n, pct(ms, 90) as p90 by ok | sort ok",
    )["queryId"]
    out = logs.get_query_results(queryId=query_id)
    assert out["status"] == "Complete"
    rows = [{f["field"]: f["value"] for f in row} for row in out["results"]]
    assert rows == [
        {"ok": "false", "n": "5", "p90": "45"},
        {"ok": "true", "n": "5", "p90": "40"},
    ]
    assert out["statistics"]["recordsScanned"] == 10
    with pytest.raises(logs.exceptions.MalformedQueryException):
        logs.start_query(logGroupName=group, startTime=0, endTime=1, queryString="nonsense x")


def test_metric_filter_counts_errors_over_the_api(aws: Aws, group: str) -> None:
    logs, cloudwatch = aws("logs"), aws("cloudwatch")
    namespace = unique("Filtered")
    logs.put_metric_filter(
        logGroupName=group,
        filterName="errors",
        filterPattern="?ERROR ?Exception",
        metricTransformations=[
            {"metricName": "Errors", "metricNamespace": namespace, "metricValue": "1"}
        ],
    )
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    ts = int(start.timestamp() * 1000) + 500
    lines = ["ERROR one", "ok", "ValueError Exception raised", "fine", "ERROR two"]
    put(logs, group, "s", [(ts + i, m) for i, m in enumerate(lines)])
    points = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName="Errors",
        StartTime=start,
        EndTime=start + timedelta(minutes=2),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    assert [p["Sum"] for p in points] == [3.0]
    (described,) = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert described["filterPattern"] == "?ERROR ?Exception"
