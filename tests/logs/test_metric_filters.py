"""Metric filters turn matching log events into CloudWatch metrics."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from support import Call

from nimbus.services.registry import ServiceRegistry


def minute_start() -> tuple[int, datetime]:
    start = datetime.fromtimestamp(int(time.time()) // 60 * 60 - 120, tz=UTC)
    return int(start.timestamp() * 1000), start


def sums(metrics: Call, namespace: str, name: str, start: datetime, **kw: Any) -> list[float]:
    points = metrics(
        "get_metric_statistics",
        Namespace=namespace,
        MetricName=name,
        StartTime=start,
        EndTime=start + timedelta(minutes=5),
        Period=300,
        Statistics=["Sum"],
        **kw,
    )["Datapoints"]
    return [p["Sum"] for p in points]


def test_count_and_value_filters_publish_metrics(logs: Call, metrics: Call) -> None:
    logs("create_log_group", logGroupName="/aws/lambda/api")
    logs("create_log_stream", logGroupName="/aws/lambda/api", logStreamName="s")
    logs(
        "put_metric_filter",
        logGroupName="/aws/lambda/api",
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=[
            {"metricName": "ErrorCount", "metricNamespace": "Api", "metricValue": "1"}
        ],
    )
    logs(
        "put_metric_filter",
        logGroupName="/aws/lambda/api",
        filterName="latency",
        filterPattern="{ $.latency > 0 }",
        metricTransformations=[
            {
                "metricName": "Latency",
                "metricNamespace": "Api",
                "metricValue": "$.latency",
                "unit": "Milliseconds",
                "dimensions": {"Route": "$.route"},
            }
        ],
    )
    ts, start = minute_start()
    lines = ["ERROR boom", "INFO fine", "ERROR again"]
    lines += [json.dumps({"latency": v, "route": "/predict"}) for v in (12, 30)]
    logs(
        "put_log_events",
        logGroupName="/aws/lambda/api",
        logStreamName="s",
        logEvents=[{"timestamp": ts + i, "message": m} for i, m in enumerate(lines)],
    )
    assert sums(metrics, "Api", "ErrorCount", start) == [2.0]
    route = [{"Name": "Route", "Value": "/predict"}]
    assert sums(metrics, "Api", "Latency", start, Dimensions=route) == [42.0]
    (group,) = logs("describe_log_groups")["logGroups"]
    assert group["metricFilterCount"] == 2
    described = logs("describe_metric_filters", logGroupName="/aws/lambda/api")["metricFilters"]
    assert [f["filterName"] for f in described] == ["errors", "latency"]
    logs("delete_metric_filter", logGroupName="/aws/lambda/api", filterName="errors")
    err = logs.error("delete_metric_filter", logGroupName="/aws/lambda/api", filterName="errors")
    assert err.code == "ResourceNotFoundException"


def test_default_value_and_append_path(
    registry: ServiceRegistry, logs: Call, metrics: Call
) -> None:
    registry.get("logs").append("/svc", "s", [(int(time.time() * 1000), "hello")])
    logs(
        "put_metric_filter",
        logGroupName="/svc",
        filterName="timeouts",
        filterPattern='"Task timed out"',
        metricTransformations=[
            {
                "metricName": "Timeouts",
                "metricNamespace": "Svc",
                "metricValue": "1",
                "defaultValue": 0.0,
            }
        ],
    )
    ts, start = minute_start()
    registry.get("logs").append("/svc", "s", [(ts, "all good")])
    registry.get("logs").append("/svc", "s", [(ts + 1, "Task timed out after 3.00 seconds")])
    points = metrics(
        "get_metric_statistics",
        Namespace="Svc",
        MetricName="Timeouts",
        StartTime=start,
        EndTime=start + timedelta(minutes=5),
        Period=300,
        Statistics=["Sum", "SampleCount"],
    )["Datapoints"]
    assert [(p["Sum"], p["SampleCount"]) for p in points] == [(1.0, 2.0)]


def test_test_metric_filter_reports_extracted_fields(logs: Call) -> None:
    out = logs(
        "test_metric_filter",
        filterPattern="[ip, user, status = 5*, bytes]",
        logEventMessages=["1.2.3.4 bob 503 120", "1.2.3.4 amy 200 99", "bad"],
    )
    (match,) = out["matches"]
    assert match["eventNumber"] == 1
    assert match["extractedValues"] == {
        "$ip": "1.2.3.4",
        "$user": "bob",
        "$status": "503",
        "$bytes": "120",
    }
    err = logs.error("test_metric_filter", filterPattern="{ $.a = ", logEventMessages=["x"])
    assert err.code == "InvalidParameterException"
