"""boto3 CloudWatch metric calls (CBOR on the wire with boto3 1.44) against a live server."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

Aws = Callable[..., Any]


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def minute_ago(n: int) -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=n)


def error_code(fn: Callable[..., Any], **kw: Any) -> str:
    with pytest.raises(ClientError) as info:
        fn(**kw)
    return info.value.response["Error"]["Code"]


def test_put_and_get_statistics(aws: Aws) -> None:
    cw = aws("cloudwatch")
    ns = unique("App")
    start = minute_ago(3)
    dims = [{"Name": "Endpoint", "Value": "digits"}]
    cw.put_metric_data(
        Namespace=ns,
        MetricData=[
            {
                "MetricName": "Latency",
                "Dimensions": dims,
                "Timestamp": start + timedelta(seconds=5),
                "Values": [10, 20, 30],
                "Counts": [1, 2, 1],
                "Unit": "Milliseconds",
            },
            {
                "MetricName": "Latency",
                "Dimensions": dims,
                "Timestamp": start + timedelta(seconds=65),
                "StatisticValues": {"SampleCount": 2, "Sum": 50, "Minimum": 20, "Maximum": 30},
                "Unit": "Milliseconds",
            },
        ],
    )
    out = cw.get_metric_statistics(
        Namespace=ns,
        MetricName="Latency",
        Dimensions=dims,
        StartTime=start,
        EndTime=start + timedelta(minutes=3),
        Period=60,
        Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"],
    )
    assert out["Label"] == "Latency"
    points = sorted(out["Datapoints"], key=lambda p: p["Timestamp"])
    assert [p["Timestamp"] for p in points] == [start, start + timedelta(minutes=1)]
    assert points[0] == {
        "Timestamp": start,
        "SampleCount": 4.0,
        "Sum": 80.0,
        "Average": 20.0,
        "Minimum": 10.0,
        "Maximum": 30.0,
        "Unit": "Milliseconds",
    }
    assert points[1]["Average"] == 25.0
    p = cw.get_metric_statistics(
        Namespace=ns,
        MetricName="Latency",
        Dimensions=dims,
        StartTime=start,
        EndTime=start + timedelta(minutes=1),
        Period=60,
        ExtendedStatistics=["p50", "p99"],
    )["Datapoints"][0]["ExtendedStatistics"]
    assert p == {"p50": 20.0, "p99": 30.0}


def test_validation_errors_use_cloudwatch_codes(aws: Aws) -> None:
    cw = aws("cloudwatch")
    put = cw.put_metric_data
    assert error_code(
        put, Namespace="AWS/Lambda", MetricData=[{"MetricName": "m", "Value": 1}]
    ) == ("InvalidParameterValue")
    assert (
        error_code(
            put, Namespace="App", MetricData=[{"MetricName": "m", "Value": 1, "Values": [2]}]
        )
        == "InvalidParameterCombination"
    )
    assert error_code(put, Namespace="App", MetricData=[{"MetricName": "m"}]) == "MissingParameter"
    start = minute_ago(10)
    assert (
        error_code(
            cw.get_metric_statistics,
            Namespace="App",
            MetricName="m",
            StartTime=start,
            EndTime=start + timedelta(minutes=5),
            Period=61,
            Statistics=["Sum"],
        )
        == "InvalidParameterValue"
    )
    assert (
        error_code(
            cw.get_metric_statistics,
            Namespace="App",
            MetricName="m",
            StartTime=start,
            EndTime=start + timedelta(minutes=5),
            Period=60,
        )
        == "MissingParameter"
    )


def test_list_metrics_paginator_and_filters(aws: Aws) -> None:
    cw = aws("cloudwatch")
    ns = unique("List")
    for chunk in range(0, 600, 50):  # small calls: boto3 gzips bodies over 10 KB
        cw.put_metric_data(
            Namespace=ns,
            MetricData=[
                {
                    "MetricName": "Hits",
                    "Value": 1,
                    "Dimensions": [{"Name": "Shard", "Value": f"{i:04d}"}],
                }
                for i in range(chunk, chunk + 50)
            ],
        )
    pages = list(cw.get_paginator("list_metrics").paginate(Namespace=ns))
    assert len(pages) == 2
    assert sum(len(p["Metrics"]) for p in pages) == 600
    one = cw.list_metrics(Namespace=ns, Dimensions=[{"Name": "Shard", "Value": "0042"}])
    assert [m["Dimensions"] for m in one["Metrics"]] == [[{"Name": "Shard", "Value": "0042"}]]


def test_get_metric_data_with_math(aws: Aws) -> None:
    cw = aws("cloudwatch")
    ns = unique("Data")
    start = minute_ago(4)
    data = []
    for m in range(3):
        ts = start + timedelta(minutes=m, seconds=2)
        data += [
            {"MetricName": "Invocations", "Value": 10.0 * (m + 1), "Timestamp": ts},
            {"MetricName": "Errors", "Value": float(m + 1), "Timestamp": ts},
        ]
    cw.put_metric_data(Namespace=ns, MetricData=data)

    def stat(name: str) -> dict[str, Any]:
        return {"Metric": {"Namespace": ns, "MetricName": name}, "Period": 60, "Stat": "Sum"}

    out = cw.get_metric_data(
        StartTime=start,
        EndTime=start + timedelta(minutes=4),
        ScanBy="TimestampAscending",
        MetricDataQueries=[
            {"Id": "inv", "MetricStat": stat("Invocations"), "ReturnData": False},
            {"Id": "err", "MetricStat": stat("Errors"), "ReturnData": False},
            {"Id": "rate", "Expression": "100 * err / inv", "Label": "Error rate"},
        ],
    )
    (result,) = out["MetricDataResults"]
    assert result["Label"] == "Error rate" and result["StatusCode"] == "Complete"
    assert result["Timestamps"] == [start + timedelta(minutes=m) for m in range(3)]
    assert result["Values"] == [pytest.approx(10.0)] * 3


def test_large_put_metric_data_is_accepted(aws: Aws) -> None:
    # 1000 items is the API limit; boto3 gzips a body this large (requestcompression trait).
    cw = aws("cloudwatch")
    ns = unique("Big")
    cw.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Hits", "Value": 1, "Dimensions": [{"Name": "Shard", "Value": str(i)}]}
            for i in range(1000)
        ],
    )
    pages = cw.get_paginator("list_metrics").paginate(Namespace=ns)
    assert sum(len(p["Metrics"]) for p in pages) == 1000


def test_alarm_lifecycle(aws: Aws) -> None:
    cw = aws("cloudwatch")
    name = unique("latency-high-")
    ns = unique("Alarmed")
    cw.put_metric_alarm(
        AlarmName=name,
        Namespace=ns,
        MetricName="Latency",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=2,
        DatapointsToAlarm=1,
        Threshold=100.0,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "app", "Value": "digits"}],
    )
    cw.get_waiter("alarm_exists").wait(AlarmNames=[name])
    previous_minute = datetime.fromtimestamp(
        int(datetime.now(UTC).timestamp()) // 60 * 60 - 30, UTC
    )
    cw.put_metric_data(
        Namespace=ns,
        MetricData=[{"MetricName": "Latency", "Values": [150, 250], "Timestamp": previous_minute}],
    )
    (alarm,) = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateUpdatedTimestamp"].tzinfo is not None
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="manual test")
    (alarm,) = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert (alarm["StateValue"], alarm["StateReason"]) == ("OK", "manual test")
    tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    assert tags == [{"Key": "app", "Value": "digits"}]
    cw.delete_alarms(AlarmNames=[name])
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
    assert error_code(cw.delete_alarms, AlarmNames=[name]) == "ResourceNotFound"
