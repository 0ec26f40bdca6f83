"""Metric alarms: configuration, lazy evaluation against stored data, manual state, history."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from support import Call


def last_complete_minute() -> datetime:
    """A timestamp inside the most recent complete 60 s period (what an alarm evaluates)."""
    return datetime.fromtimestamp(int(time.time()) // 60 * 60 - 30, tz=UTC)


def alarm(metrics: Call, name: str, **kw: Any) -> None:
    req = {
        "AlarmName": name,
        "Namespace": "App",
        "MetricName": "Errors",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 5.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "AlarmActions": ["arn:aws:sns:us-east-1:000000000000:ops"],
    }
    metrics("put_metric_alarm", **(req | kw))


def state(metrics: Call, name: str) -> str:
    (a,) = metrics("describe_alarms", AlarmNames=[name])["MetricAlarms"]
    return a["StateValue"]


def test_alarm_goes_to_alarm_when_threshold_is_crossed(metrics: Call) -> None:
    # Two periods, one needed: a minute rolling over mid-test cannot drop the data point.
    alarm(metrics, "errors-high", EvaluationPeriods=2, DatapointsToAlarm=1)
    (a,) = metrics("describe_alarms", AlarmNames=["errors-high"])["MetricAlarms"]
    assert a["StateValue"] == "INSUFFICIENT_DATA"
    assert a["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:errors-high"
    assert a["Threshold"] == 5.0 and a["ComparisonOperator"] == "GreaterThanThreshold"
    ts = last_complete_minute()
    metrics(
        "put_metric_data",
        Namespace="App",
        MetricData=[{"MetricName": "Errors", "Value": 4, "Timestamp": ts}],
    )
    assert state(metrics, "errors-high") == "OK"
    metrics(
        "put_metric_data",
        Namespace="App",
        MetricData=[{"MetricName": "Errors", "Value": 3, "Timestamp": ts}],
    )
    (a,) = metrics("describe_alarms", StateValue="ALARM")["MetricAlarms"]
    assert a["AlarmName"] == "errors-high" and "Threshold Crossed" in a["StateReason"]
    kinds = [
        h["HistoryItemType"]
        for h in metrics("describe_alarm_history", AlarmName="errors-high")["AlarmHistoryItems"]
    ]
    assert kinds.count("StateUpdate") >= 2 and "ConfigurationUpdate" in kinds


def test_treat_missing_data(metrics: Call) -> None:
    alarm(
        metrics,
        "no-heartbeat",
        MetricName="Heartbeat",
        ComparisonOperator="LessThanThreshold",
        Threshold=1.0,
        TreatMissingData="breaching",
    )
    assert state(metrics, "no-heartbeat") == "ALARM"
    alarm(metrics, "quiet-ok", MetricName="Quiet", TreatMissingData="notBreaching")
    assert state(metrics, "quiet-ok") == "OK"


def test_set_alarm_state_holds_until_next_evaluation(metrics: Call) -> None:
    alarm(metrics, "manual")
    metrics("set_alarm_state", AlarmName="manual", StateValue="ALARM", StateReason="testing")
    (a,) = metrics("describe_alarms", AlarmNames=["manual"])["MetricAlarms"]
    assert (a["StateValue"], a["StateReason"]) == ("ALARM", "testing")
    err = metrics.error("set_alarm_state", AlarmName="nope", StateValue="OK", StateReason="x")
    assert err.code == "ResourceNotFound"


def test_put_metric_alarm_validation(metrics: Call) -> None:
    def code(**kw: Any) -> str:
        req = {
            "AlarmName": "bad",
            "Namespace": "App",
            "MetricName": "m",
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanThreshold",
        }
        req.update(kw)
        return metrics.error(
            "put_metric_alarm", **{k: v for k, v in req.items() if v is not None}
        ).code

    assert code(ComparisonOperator="Bigger") == "InvalidParameterValue"
    assert code(ExtendedStatistic="p99") == "InvalidParameterCombination"
    assert code(Statistic=None) == "InvalidParameterCombination"
    assert code(Period=45) == "InvalidParameterValue"
    assert code(EvaluationPeriods=2, DatapointsToAlarm=3) == "InvalidParameterValue"
    assert code(Threshold=None) == "MissingParameter"


def test_describe_filters_delete_and_tags(metrics: Call) -> None:
    for name in ["api-errors", "api-latency", "db-cpu"]:
        alarm(metrics, name, Tags=[{"Key": "team", "Value": "ml"}])
    names = [
        a["AlarmName"] for a in metrics("describe_alarms", AlarmNamePrefix="api-")["MetricAlarms"]
    ]
    assert names == ["api-errors", "api-latency"]
    page = metrics("describe_alarms", MaxRecords=2)
    rest = metrics("describe_alarms", MaxRecords=2, NextToken=page["NextToken"])
    assert len(page["MetricAlarms"]) + len(rest["MetricAlarms"]) == 3
    for_metric = metrics("describe_alarms_for_metric", Namespace="App", MetricName="Errors")
    assert len(for_metric["MetricAlarms"]) == 3
    arn = page["MetricAlarms"][0]["AlarmArn"]
    metrics("tag_resource", ResourceARN=arn, Tags=[{"Key": "env", "Value": "dev"}])
    tags = metrics("list_tags_for_resource", ResourceARN=arn)["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "ml", "env": "dev"}
    assert metrics.error("delete_alarms", AlarmNames=["db-cpu", "ghost"]).code == "ResourceNotFound"
    metrics("delete_alarms", AlarmNames=["db-cpu"])
    assert [a["AlarmName"] for a in metrics("describe_alarms")["MetricAlarms"]] == [
        "api-errors",
        "api-latency",
    ]


def test_metric_math_alarm_on_error_rate(metrics: Call) -> None:
    ts = last_complete_minute()
    metrics(
        "put_metric_data",
        Namespace="Math",
        MetricData=[
            {"MetricName": "Requests", "Value": 20, "Timestamp": ts},
            {"MetricName": "Errors", "Value": 5, "Timestamp": ts},
        ],
    )

    def stat(name: str) -> dict[str, Any]:
        metric = {"Namespace": "Math", "MetricName": name}
        return {"Metric": metric, "Period": 60, "Stat": "Sum"}

    metrics(
        "put_metric_alarm",
        AlarmName="error-rate",
        EvaluationPeriods=2,
        DatapointsToAlarm=1,
        Threshold=10.0,
        ComparisonOperator="GreaterThanThreshold",
        Metrics=[
            {"Id": "req", "MetricStat": stat("Requests"), "ReturnData": False},
            {"Id": "err", "MetricStat": stat("Errors"), "ReturnData": False},
            {"Id": "rate", "Expression": "100 * err / req", "ReturnData": True},
        ],
    )
    (a,) = metrics("describe_alarms", AlarmNames=["error-rate"])["MetricAlarms"]
    assert a["StateValue"] == "ALARM"  # 25 % > 10 %
    assert [q["Id"] for q in a["Metrics"]] == ["req", "err", "rate"]
