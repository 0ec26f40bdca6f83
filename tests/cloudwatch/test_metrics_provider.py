"""CloudWatch metrics operations and statistics against a real SQLite database."""

from __future__ import annotations

import json
import math
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from support import Call

from nimbus.services.cloudwatch.statistics import percentile
from nimbus.services.registry import ServiceRegistry

PERIOD = 60


def aligned_now() -> datetime:
    """A bucket start a few minutes ago, so test data never crosses a period boundary."""
    t = int(time.time()) // PERIOD * PERIOD - 5 * PERIOD
    return datetime.fromtimestamp(t, tz=UTC)


def nearest_rank(values: list[float], p: float) -> float:
    """Independent nearest-rank percentile: the smallest v with at least p% of data <= v."""
    ordered = sorted(values)
    needed = Fraction(str(p)) / 100 * len(ordered)  # exact: 99.9 % of 1000 is 999
    for v in ordered:
        if sum(1 for x in ordered if x <= v) >= needed:
            return v
    return ordered[-1]


def stats(metrics: Call, name: str, start: datetime, **kw: Any) -> list[dict[str, Any]]:
    return metrics(
        "get_metric_statistics",
        Namespace=kw.pop("Namespace", "App"),
        MetricName=name,
        StartTime=start - timedelta(minutes=1),
        EndTime=start + timedelta(minutes=10),
        Period=kw.pop("Period", PERIOD),
        **kw,
    )["Datapoints"]


def test_put_metric_data_validation_errors(metrics: Call) -> None:
    def code(**req: Any) -> str:
        return metrics.error("put_metric_data", **req).code

    assert code(Namespace="AWS/EC2", MetricData=[{"MetricName": "x", "Value": 1}]) == (
        "InvalidParameterValue"
    )
    assert code(Namespace="App", MetricData=[{"MetricName": "x", "Value": 1}] * 1001) == (
        "InvalidParameterValue"
    )
    assert code(Namespace="App", MetricData=[{"MetricName": "x", "Value": 1, "Values": [1]}]) == (
        "InvalidParameterCombination"
    )
    both = {
        "MetricName": "x",
        "Value": 1,
        "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1},
    }
    assert code(Namespace="App", MetricData=[both]) == "InvalidParameterCombination"
    assert (
        code(Namespace="App", MetricData=[{"MetricName": "x", "Values": [1, 2], "Counts": [1]}])
        == "InvalidParameterValue"
    )
    assert code(
        Namespace="App", MetricData=[{"MetricName": "x", "Value": 1, "Unit": "Parsecs"}]
    ) == ("InvalidParameterValue")
    assert code(Namespace="App", MetricData=[{"MetricName": "x", "Value": math.nan}]) == (
        "InvalidParameterValue"
    )
    future = datetime.now(UTC) + timedelta(hours=3)
    assert (
        code(Namespace="App", MetricData=[{"MetricName": "x", "Value": 1, "Timestamp": future}])
        == "InvalidParameterValue"
    )
    assert code(Namespace="App", MetricData=[{"MetricName": "x"}]) == "MissingParameter"
    assert code(MetricData=[{"MetricName": "x", "Value": 1}]) == "MissingParameter"
    dup = [{"Name": "A", "Value": "1"}, {"Name": "A", "Value": "2"}]
    assert (
        code(Namespace="App", MetricData=[{"MetricName": "x", "Value": 1, "Dimensions": dup}])
        == "InvalidParameterValue"
    )


def test_list_metrics_filters_and_pages(metrics: Call) -> None:
    data = [
        {"MetricName": "Latency", "Value": 1, "Dimensions": [{"Name": "Api", "Value": "a"}]},
        {"MetricName": "Latency", "Value": 1, "Dimensions": [{"Name": "Api", "Value": "b"}]},
        {
            "MetricName": "Errors",
            "Value": 1,
            "Dimensions": [{"Name": "Api", "Value": "a"}, {"Name": "Stage", "Value": "prod"}],
        },
        {"MetricName": "Latency", "Value": 2},
    ]
    metrics("put_metric_data", Namespace="App", MetricData=data)
    metrics("put_metric_data", Namespace="Other", MetricData=[{"MetricName": "X", "Value": 1}])
    listed = metrics("list_metrics", Namespace="App")["Metrics"]
    assert len(listed) == 4  # same name, different dimensions: different metrics
    latency = metrics("list_metrics", Namespace="App", MetricName="Latency")["Metrics"]
    assert len(latency) == 3
    api_a = metrics("list_metrics", Dimensions=[{"Name": "Api", "Value": "a"}])["Metrics"]
    assert {m["MetricName"] for m in api_a} == {"Latency", "Errors"}
    has_stage = metrics("list_metrics", Dimensions=[{"Name": "Stage"}])["Metrics"]
    assert has_stage == [
        {
            "Namespace": "App",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "Api", "Value": "a"}, {"Name": "Stage", "Value": "prod"}],
        }
    ]
    metrics(
        "put_metric_data",
        Namespace="Many",
        MetricData=[{"MetricName": f"m{i:03d}", "Value": 1} for i in range(620)],
    )
    page = metrics("list_metrics", Namespace="Many")
    rest = metrics("list_metrics", Namespace="Many", NextToken=page["NextToken"])
    assert len(page["Metrics"]) == 500 and len(rest["Metrics"]) == 120 and "NextToken" not in rest


def test_statistics_per_period_bucket(metrics: Call) -> None:
    t0 = aligned_now()
    data = [
        {
            "MetricName": "Lat",
            "Value": 10,
            "Timestamp": t0 + timedelta(seconds=1),
            "Unit": "Milliseconds",
        },
        {
            "MetricName": "Lat",
            "Value": 30,
            "Timestamp": t0 + timedelta(seconds=59),
            "Unit": "Milliseconds",
        },
        {
            "MetricName": "Lat",
            "Values": [5, 7],
            "Counts": [2, 1],
            "Timestamp": t0 + timedelta(seconds=60),
            "Unit": "Milliseconds",
        },
        {
            "MetricName": "Lat",
            "StatisticValues": {"SampleCount": 4, "Sum": 100, "Minimum": 10, "Maximum": 40},
            "Timestamp": t0 + timedelta(seconds=150),
            "Unit": "Milliseconds",
        },
    ]
    metrics("put_metric_data", Namespace="App", MetricData=data)
    points = stats(
        metrics, "Lat", t0, Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"]
    )
    assert [p["Timestamp"] for p in points] == [t0 + timedelta(seconds=60 * i) for i in range(3)]
    first, second, third = points
    assert (first["SampleCount"], first["Sum"], first["Average"]) == (2, 40, 20)
    assert (first["Minimum"], first["Maximum"], first["Unit"]) == (10, 30, "Milliseconds")
    assert (second["SampleCount"], second["Sum"], second["Minimum"]) == (3, 17, 5)
    assert (third["SampleCount"], third["Average"], third["Maximum"]) == (4, 25, 40)
    five_minutes = stats(metrics, "Lat", t0, Period=300, Statistics=["SampleCount"])
    assert sum(p["SampleCount"] for p in five_minutes) == 9
    assert stats(metrics, "Lat", t0, Statistics=["Sum"], Unit="Seconds") == []
    # Dimensions identify the metric exactly: none given means the dimensionless metric.
    dims = [{"Name": "Api", "Value": "x"}]
    assert stats(metrics, "Lat", t0, Statistics=["Sum"], Dimensions=dims) == []


def test_percentiles_are_exact_nearest_rank(metrics: Call) -> None:
    rng = random.Random(7)
    values = [round(rng.lognormvariate(3, 1), 3) for _ in range(1000)]
    t0 = aligned_now()
    chunks = [values[i : i + 150] for i in range(0, len(values), 150)]
    metrics(
        "put_metric_data",
        Namespace="App",
        MetricData=[
            {"MetricName": "Dur", "Values": c, "Timestamp": t0 + timedelta(seconds=5)}
            for c in chunks
        ],
    )
    (point,) = stats(metrics, "Dur", t0, ExtendedStatistics=["p50", "p90", "p99", "p99.9"])
    ext = point["ExtendedStatistics"]
    for name, p in [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)]:
        assert ext[name] == nearest_rank(values, p)
        assert ext[name] in values  # never interpolated
    # Interpolating definitions land near (but not on) the same value.
    assert ext["p50"] == pytest.approx(statistics.median(values), rel=0.01)
    p90_interp = statistics.quantiles(values, n=10, method="inclusive")[8]
    assert ext["p90"] == pytest.approx(p90_interp, rel=0.02)


def test_percentile_weights_counts() -> None:
    assert percentile([(1.0, 99.0), (100.0, 1.0)], 99) == 1.0
    assert percentile([(1.0, 99.0), (100.0, 1.0)], 99.5) == 100.0
    assert percentile([(3.0, 1.0)], 0) == 3.0


def test_get_metric_statistics_validation(metrics: Call) -> None:
    t0 = aligned_now()

    def code(**kw: Any) -> str:
        req = {
            "Namespace": "App",
            "MetricName": "x",
            "StartTime": t0,
            "EndTime": t0 + timedelta(hours=1),
            "Period": 60,
            "Statistics": ["Sum"],
        }
        req.update(kw)
        return metrics.error(
            "get_metric_statistics", **{k: v for k, v in req.items() if v != "-"}
        ).code

    assert code(Period=45) == "InvalidParameterValue"
    assert code(Period=90) == "InvalidParameterValue"
    assert code(EndTime=t0) == "InvalidParameterValue"
    assert code(Statistics="-") == "MissingParameter"
    assert code(Statistics=["Median"]) == "InvalidParameterValue"
    assert code(Statistics="-", ExtendedStatistics=["p101"]) == "InvalidParameterValue"
    assert code(EndTime=t0 + timedelta(days=2)) == "InvalidParameterCombination"  # > 1440 points


def test_get_metric_data_stats_percentiles_and_expressions(metrics: Call) -> None:
    t0 = aligned_now()
    data = []
    for minute in range(3):
        ts = t0 + timedelta(seconds=60 * minute + 1)
        data.append(
            {"MetricName": "Requests", "Values": [1] * (10 * (minute + 1)), "Timestamp": ts}
        )
        data.append({"MetricName": "Errors", "Value": minute + 1, "Timestamp": ts})
    metrics("put_metric_data", Namespace="App", MetricData=data)

    def stat(name: str, s: str) -> dict[str, Any]:
        return {"Metric": {"Namespace": "App", "MetricName": name}, "Period": 60, "Stat": s}

    out = metrics(
        "get_metric_data",
        StartTime=t0,
        EndTime=t0 + timedelta(minutes=5),
        MetricDataQueries=[
            {"Id": "req", "MetricStat": stat("Requests", "SampleCount"), "ReturnData": False},
            {"Id": "err", "MetricStat": stat("Errors", "Sum"), "Label": "errors"},
            {"Id": "rate", "Expression": "100 * err / req"},
            {"Id": "p50", "MetricStat": stat("Requests", "p50")},
            {"Id": "total", "Expression": "SUM(METRICS())"},
        ],
    )
    results = {r["Id"]: r for r in out["MetricDataResults"]}
    assert set(results) == {"err", "rate", "p50", "total"}  # ReturnData False hides req
    err = results["err"]
    assert err["Label"] == "errors" and err["StatusCode"] == "Complete"
    # Newest first by default.
    assert err["Timestamps"] == [t0 + timedelta(minutes=m) for m in (2, 1, 0)]
    assert err["Values"] == [3, 2, 1]
    assert results["rate"]["Values"] == [pytest.approx(10.0)] * 3
    assert results["p50"]["Values"] == [1, 1, 1]
    # METRICS() is every MetricStat query (req, err, p50), not the expressions.
    assert results["total"]["Values"] == [30 + 3 + 1, 20 + 2 + 1, 10 + 1 + 1]
    ascending = metrics(
        "get_metric_data",
        StartTime=t0,
        EndTime=t0 + timedelta(minutes=5),
        ScanBy="TimestampAscending",
        MetricDataQueries=[{"Id": "e", "MetricStat": stat("Errors", "Maximum")}],
    )
    assert ascending["MetricDataResults"][0]["Values"] == [1, 2, 3]
    bad_id = metrics.error(
        "get_metric_data",
        StartTime=t0,
        EndTime=t0 + timedelta(minutes=5),
        MetricDataQueries=[{"Id": "Bad", "MetricStat": stat("Errors", "Sum")}],
    )
    assert bad_id.code == "InvalidParameterValue"
    bad_expr = metrics.error(
        "get_metric_data",
        StartTime=t0,
        EndTime=t0 + timedelta(minutes=5),
        MetricDataQueries=[{"Id": "x", "Expression": "nope + 1"}],
    )
    assert bad_expr.code == "ValidationError"


def emf_line(service: str, latency: Any, ts_ms: int) -> str:
    return json.dumps(
        {
            "_aws": {
                "Timestamp": ts_ms,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "MyApp",
                        "Dimensions": [["Service"], ["Service", "Route"]],
                        "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}],
                    }
                ],
            },
            "Service": service,
            "Route": "/predict",
            "Latency": latency,
            "requestId": "abc",
        }
    )


def test_emf_log_lines_become_metrics(registry: ServiceRegistry, metrics: Call) -> None:
    logs = registry.get("logs")
    t0 = aligned_now()
    ts_ms = int(t0.timestamp() * 1000) + 2000
    values = [12, 40, 7, 95, 33, 61, 18, 25, 80, 3]
    lines = [(ts_ms, emf_line("digits", v, ts_ms)) for v in values[:5]]
    lines.append((ts_ms, emf_line("digits", values[5:], ts_ms)))  # arrays are several samples
    lines.append((ts_ms, '{"_aws": "not emf", "Latency": 1}'))  # stays a plain log line
    logs.append("/aws/lambda/digits", "s", lines)
    listed = metrics("list_metrics", Namespace="MyApp")["Metrics"]
    assert sorted(len(m["Dimensions"]) for m in listed) == [1, 2]
    (point,) = stats(
        metrics,
        "Latency",
        t0,
        Namespace="MyApp",
        Dimensions=[{"Name": "Service", "Value": "digits"}],
        ExtendedStatistics=["p50", "p90", "p99"],
    )
    assert point["Unit"] == "Milliseconds"
    assert point["ExtendedStatistics"] == {
        "p50": nearest_rank(values, 50),
        "p90": nearest_rank(values, 90),
        "p99": nearest_rank(values, 99),
    }
    assert len(logs.read("/aws/lambda/digits")) == 7  # every line is still a log event


def test_get_metric_data_pages_by_max_datapoints(metrics: Call) -> None:
    t0 = aligned_now()
    metrics(
        "put_metric_data",
        Namespace="Pg",
        MetricData=[
            {"MetricName": name, "Value": float(m), "Timestamp": t0 + timedelta(minutes=m)}
            for name in ("a", "b")
            for m in range(4)
        ],
    )

    def query(name: str) -> dict[str, Any]:
        metric = {"Namespace": "Pg", "MetricName": name}
        return {"Id": name, "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}}

    req = {
        "StartTime": t0,
        "EndTime": t0 + timedelta(minutes=5),
        "MetricDataQueries": [query("a"), query("b")],
        "MaxDatapoints": 3,
    }
    collected: dict[str, list[float]] = {"a": [], "b": []}
    token, pages = None, 0
    while True:
        out = metrics("get_metric_data", **req, **({"NextToken": token} if token else {}))
        pages += 1
        for r in out["MetricDataResults"]:
            collected[r["Id"]] += r["Values"]
        token = out.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert collected == {"a": [3, 2, 1, 0], "b": [3, 2, 1, 0]}


def test_percentiles_follow_cloudwatch_availability_rules(metrics: Call) -> None:
    t0 = aligned_now()
    ts = t0 + timedelta(seconds=3)

    def p50(name: str, datum: dict[str, Any]) -> dict[str, float]:
        metrics(
            "put_metric_data",
            Namespace="Pct",
            MetricData=[{"MetricName": name, "Timestamp": ts, **datum}],
        )
        (point,) = stats(metrics, name, t0, Namespace="Pct", ExtendedStatistics=["p50"])
        return point["ExtendedStatistics"]

    # A statistic set has percentiles only when its values are pinned down.
    assert p50(
        "single", {"StatisticValues": {"SampleCount": 1, "Sum": 7, "Minimum": 7, "Maximum": 7}}
    ) == {"p50": 7}
    assert (
        p50("spread", {"StatisticValues": {"SampleCount": 3, "Sum": 9, "Minimum": 1, "Maximum": 5}})
        == {}
    )
    assert p50("negative", {"Values": [-1, 2, 3]}) == {}


def test_entity_metric_data_is_stored_like_metric_data(metrics: Call) -> None:
    entity = {"KeyAttributes": {"Type": "Service", "Name": "api", "Environment": "local"}}
    metrics(
        "put_metric_data",
        Namespace="Ent",
        EntityMetricData=[{"Entity": entity, "MetricData": [{"MetricName": "Calls", "Value": 1}]}],
    )
    assert [m["MetricName"] for m in metrics("list_metrics", Namespace="Ent")["Metrics"]] == [
        "Calls"
    ]


def test_get_metric_data_accepts_trimmed_statistics(metrics: Call) -> None:
    t0 = aligned_now()
    values = [float(v) for v in range(1, 21)]
    metrics(
        "put_metric_data",
        Namespace="Trim",
        MetricData=[
            {"MetricName": "Lat", "Values": values, "Timestamp": t0 + timedelta(seconds=1)}
        ],
    )
    metric = {"Namespace": "Trim", "MetricName": "Lat"}
    out = metrics(
        "get_metric_data",
        StartTime=t0,
        EndTime=t0 + timedelta(minutes=1),
        MetricDataQueries=[
            {"Id": "tm", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "tm90"}},
            {"Id": "iqm", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "IQM"}},
        ],
    )
    by_id = {r["Id"]: r["Values"] for r in out["MetricDataResults"]}
    assert by_id == {"tm": [sum(values[:18]) / 18], "iqm": [sum(values[5:15]) / 10]}
