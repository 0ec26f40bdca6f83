"""CloudWatch metrics operations: PutMetricData, ListMetrics, GetMetricStatistics, GetMetricData.

Error codes are the awsQuery codes (``InvalidParameterValue``, ``MissingParameter`` ...): boto3
exposes those whichever protocol (query, JSON, CBOR) carried the call.
"""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from nimbus.aws.errors import AwsError
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.cloudwatch.alarm_store import AlarmStore
from nimbus.services.cloudwatch.alarms import AlarmOperations
from nimbus.services.cloudwatch.dashboards import DashboardOperations
from nimbus.services.cloudwatch.engine import MetricId, MetricRecord, MetricsEngine, Sample
from nimbus.services.cloudwatch.expressions import ExpressionError, Series, evaluate
from nimbus.services.cloudwatch.statistics import (
    BASIC_STATISTICS,
    Bucket,
    is_statistic,
    parse_percentile,
)

if TYPE_CHECKING:
    from nimbus.aws.context import RequestContext

UNITS = frozenset(
    [
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ]
)
MAX_METRIC_DATA = 1000
MAX_VALUES = 150
MAX_DIMENSIONS = 30
MAX_DATAPOINTS = 1440
MAX_QUERIES = 500
LIST_PAGE = 500
FUTURE_LIMIT_S = 2 * 3600
PAST_LIMIT_S = 14 * 86400
QUERY_ID = re.compile(r"[a-z][a-zA-Z0-9_]{0,254}")


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterValue", message)


def combination(message: str) -> AwsError:
    return AwsError("InvalidParameterCombination", message)


def missing(name: str) -> AwsError:
    return AwsError("MissingParameter", f"The parameter {name} is required.")


def _epoch(value: Any, name: str) -> float:
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise invalid(f"The parameter {name} must be a timestamp.")


def _finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(f"The value {value} for parameter {name} is invalid.")
    return float(value)


def _check_period(period: Any, name: str = "Period") -> int:
    if not isinstance(period, int) or period < 1:
        raise invalid(f"The parameter {name} must be a positive integer.")
    if period < 60 and period not in (1, 5, 10, 30):
        raise invalid(f"The parameter {name} must be 1, 5, 10, 30 or a multiple of 60.")
    if period >= 60 and period % 60:
        raise invalid(f"The parameter {name} must be a multiple of 60.")
    return period


def _dimensions(dims: list[dict[str, Any]] | None, where: str) -> tuple[tuple[str, str], ...]:
    dims = dims or []
    if len(dims) > MAX_DIMENSIONS:
        raise invalid(f"The collection {where}.Dimensions must not have more than 30 members.")
    names = set()
    for d in dims:
        name, value = d.get("Name"), d.get("Value")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise invalid(f"The value {name!r} for parameter {where}.Dimensions.Name is invalid.")
        if not isinstance(value, str) or not 1 <= len(value) <= 1024:
            raise invalid(f"The value {value!r} for dimension {name} in {where} is invalid.")
        if name in names:
            raise invalid(f"The dimension {name} is repeated in {where}.Dimensions.")
        names.add(name)
    return tuple(sorted((d["Name"], d["Value"]) for d in dims))


class CloudWatchProvider(AlarmOperations, DashboardOperations, Provider):
    service: ClassVar[str] = "cloudwatch"
    iam_prefix: ClassVar[str] = "cloudwatch"
    access_denied_code: ClassVar[str] = "AccessDenied"
    access_denied_status: ClassVar[int] = 403

    def __init__(self, env: ServiceEnv) -> None:
        super().__init__(env)
        self.engine = MetricsEngine(env.data_dir / "metrics.db")
        self.alarms = AlarmStore(self.engine.db, self.engine.lock)
        self.init_dashboards(self.engine.db, self.engine.lock)

    def close(self) -> None:
        self.engine.close()

    def iam_resources(self, operation: str, req: dict[str, Any], ctx: RequestContext) -> list[str]:
        """Alarm operations act on alarm ARNs; metric operations on "*" (as on AWS)."""
        names = req.get("AlarmNames") or ([req["AlarmName"]] if req.get("AlarmName") else [])
        if names:
            prefix = f"arn:aws:cloudwatch:{ctx.region}:{ctx.account_id}:alarm:"
            return [prefix + n for n in names]
        return [req["ResourceARN"]] if req.get("ResourceARN") else ["*"]

    # --- writing -----------------------------------------------------------------------------

    def put_metric_data(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        namespace = req.get("Namespace")
        if not namespace:
            raise missing("Namespace")
        if namespace.startswith("AWS/"):
            raise invalid(f"The value {namespace} for parameter Namespace is invalid.")
        # Entity-tagged data (EntityMetricData) is stored like plain MetricData.
        data = list(req.get("MetricData") or [])
        for entity in req.get("EntityMetricData") or []:
            data += entity.get("MetricData") or []
        if not data:
            raise missing("MetricData")
        if len(data) > MAX_METRIC_DATA:
            raise invalid(
                f"The collection MetricData must not have a size greater than {MAX_METRIC_DATA}."
            )
        self.put_metrics(namespace, data)
        return {}

    def put_metrics(self, namespace: str, data: list[dict[str, Any]]) -> None:
        """Validate and store MetricDatum dicts (also the Embedded Metric Format entry point)."""
        if not 1 <= len(namespace) <= 255 or namespace.startswith(":"):
            raise invalid(f"The value {namespace} for parameter Namespace is invalid.")
        now = time.time()
        records = [self._record(namespace, d, i, now) for i, d in enumerate(data, start=1)]
        self.engine.put(records)

    def _record(self, namespace: str, d: dict[str, Any], i: int, now: float) -> MetricRecord:
        where = f"MetricData.member.{i}"
        name = d.get("MetricName")
        if not name:
            raise missing(f"{where}.MetricName")
        if len(name) > 255:
            raise invalid(f"The parameter {where}.MetricName must be at most 255 characters.")
        dims = _dimensions(d.get("Dimensions"), where)
        stamp = d.get("Timestamp")
        ts = now if stamp is None else _epoch(stamp, f"{where}.Timestamp")
        if ts > now + FUTURE_LIMIT_S:
            raise invalid(
                f"The parameter {where}.Timestamp must specify a time no more than two hours"
                " in the future."
            )
        if ts < now - PAST_LIMIT_S:
            raise invalid(
                f"The parameter {where}.Timestamp must specify a time within the past two weeks."
            )
        unit = d.get("Unit") or "None"
        if unit not in UNITS:
            raise invalid(f"The value {unit} for parameter {where}.Unit is invalid.")
        if d.get("StorageResolution", 60) not in (1, 60):
            raise invalid(f"The parameter {where}.StorageResolution must be 1 or 60.")
        given = [k for k in ("Value", "Values", "StatisticValues") if d.get(k) is not None]
        if len(given) > 1:
            raise combination(
                f"The parameters {where}.{given[0]} and {where}.{given[1]} are mutually"
                " exclusive and you specified both."
            )
        if not given:
            raise missing(f"{where}.Value")
        samples: list[Sample] = []
        if given == ["Value"]:
            v = _finite(d["Value"], f"{where}.Value")
            samples.append(Sample(ts, unit, v, 1.0, v, v, v))
        elif given == ["Values"]:
            values = d["Values"]
            counts = d.get("Counts") or [1.0] * len(values)
            if len(values) > MAX_VALUES:
                raise invalid(f"The collection {where}.Values must not have more than 150 members.")
            if len(counts) != len(values):
                raise invalid(
                    f"The parameters {where}.Values and {where}.Counts must be of the same size."
                )
            for v, c in zip(values, counts, strict=True):
                v = _finite(v, f"{where}.Values")
                c = _finite(c, f"{where}.Counts")
                if c < 0:
                    raise invalid(f"The parameter {where}.Counts must not be negative.")
                if c > 0:
                    samples.append(Sample(ts, unit, v, c, v * c, v, v))
        else:
            s = d["StatisticValues"]
            count = _finite(s.get("SampleCount"), f"{where}.StatisticValues.SampleCount")
            total = _finite(s.get("Sum"), f"{where}.StatisticValues.Sum")
            low = _finite(s.get("Minimum"), f"{where}.StatisticValues.Minimum")
            high = _finite(s.get("Maximum"), f"{where}.StatisticValues.Maximum")
            if count <= 0 or low > high:
                raise invalid(
                    f"The parameter {where}.StatisticValues needs SampleCount > 0 and"
                    " Minimum <= Maximum."
                )
            # min == max (or a single sample) pins every value: percentiles stay exact.
            raw = low if low == high else (total if count == 1 else None)
            samples.append(Sample(ts, unit, raw, count, total, low, high))
        if not samples:
            samples.append(Sample(ts, unit, None, 0.0, 0.0, math.inf, -math.inf))
        return MetricRecord(namespace, name, dims, samples)

    # --- listing -------------------------------------------------------------------------------

    def list_metrics(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        filters = []
        if len(req.get("Dimensions") or []) > 10:
            raise invalid("The collection Dimensions must not have more than 10 members.")
        for f in req.get("Dimensions") or []:
            if not f.get("Name"):
                raise missing("Dimensions.member.Name")
            filters.append((f["Name"], f.get("Value")))
        active = req.get("RecentlyActive")
        if active not in (None, "PT3H"):
            raise invalid(f"The value {active} for parameter RecentlyActive is invalid.")
        metrics = self.engine.list_metrics(
            namespace=req.get("Namespace"),
            name=req.get("MetricName"),
            dimension_filters=filters,
            # Like AWS, metrics without data in the past two weeks are not listed.
            active_since=time.time() - (3 * 3600 if active else PAST_LIMIT_S),
        )
        offset = 0
        if req.get("NextToken"):
            try:
                offset = int(req["NextToken"])
            except ValueError:
                raise AwsError("InvalidNextToken", "The NextToken is invalid.") from None
        page = metrics[offset : offset + LIST_PAGE]
        out: dict[str, Any] = {
            "Metrics": [
                {
                    "Namespace": m.namespace,
                    "MetricName": m.name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in m.dimensions],
                }
                for m in page
            ]
        }
        if offset + LIST_PAGE < len(metrics):
            out["NextToken"] = str(offset + LIST_PAGE)
        return out

    # --- reading -------------------------------------------------------------------------------

    def _metric(self, m: dict[str, Any], where: str) -> MetricId:
        for key in ("Namespace", "MetricName"):
            if not m.get(key):
                raise missing(f"{where}.{key}")
        return MetricId(m["Namespace"], m["MetricName"], _dimensions(m.get("Dimensions"), where))

    def _window(self, req: dict[str, Any]) -> tuple[float, float]:
        for key in ("StartTime", "EndTime"):
            if req.get(key) is None:
                raise missing(key)
        start, end = _epoch(req["StartTime"], "StartTime"), _epoch(req["EndTime"], "EndTime")
        if start >= end:
            raise invalid("The parameter StartTime must be less than the parameter EndTime.")
        return start, end

    def get_metric_statistics(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        metric = self._metric(req, "")
        start, end = self._window(req)
        if req.get("Period") is None:
            raise missing("Period")
        period = _check_period(req["Period"])
        stats, extended = req.get("Statistics") or [], req.get("ExtendedStatistics") or []
        if not stats and not extended:
            raise missing("Statistics")
        if stats and extended:
            raise combination(
                "The parameters Statistics and ExtendedStatistics are mutually exclusive."
            )
        for s in stats:
            if s not in BASIC_STATISTICS:
                raise invalid(f"The value {s} for parameter Statistics is invalid.")
        for s in extended:
            if parse_percentile(s) is None:
                raise invalid(f"The value {s} for parameter ExtendedStatistics is invalid.")
        requested = math.ceil((end - start) / period)
        if requested > MAX_DATAPOINTS:
            raise combination(
                f"You have requested up to {requested} datapoints, which exceeds the limit of"
                f" {MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing"
                " Period, or decreasing the time range."
            )
        unit = req.get("Unit")
        if unit is not None and unit not in UNITS:
            raise invalid(f"The value {unit} for parameter Unit is invalid.")
        buckets = self.engine.buckets(metric, start=start, end=end, period=period, unit=unit)
        datapoints = []
        for key in sorted(buckets):
            bucket = buckets[key]
            if bucket.count <= 0:
                continue
            point: dict[str, Any] = {
                "Timestamp": datetime.fromtimestamp(key, tz=UTC),
                "Unit": unit or bucket.unit,
            }
            for s in stats:
                point[s] = bucket.statistic(s)
            values = {s: bucket.statistic(s) for s in extended}
            if extended:
                point["ExtendedStatistics"] = {k: v for k, v in values.items() if v is not None}
            datapoints.append(point)
        return {"Label": metric.name, "Datapoints": datapoints}

    def _series(self, stat: dict[str, Any], where: str, start: float, end: float) -> Series:
        metric = self._metric(stat.get("Metric") or {}, f"{where}.MetricStat.Metric")
        if stat.get("Period") is None:
            raise missing(f"{where}.MetricStat.Period")
        period = _check_period(stat["Period"], f"{where}.MetricStat.Period")
        name = stat.get("Stat")
        if not is_statistic(name or ""):
            raise invalid(f"The value {name} for parameter {where}.MetricStat.Stat is invalid.")
        buckets: dict[int, Bucket] = self.engine.buckets(
            metric, start=start, end=end, period=period, unit=stat.get("Unit")
        )
        series: Series = {}
        for key, bucket in buckets.items():
            value = bucket.statistic(name)
            if value is not None:
                series[key] = value
        return series

    def evaluate_queries(
        self, queries: list[dict[str, Any]], start: float, end: float
    ) -> tuple[dict[str, Series], dict[str, str]]:
        """Series and labels of MetricDataQueries (GetMetricData, metric-math alarms)."""
        ids = [q.get("Id") for q in queries]
        for i, qid in enumerate(ids, start=1):
            if not isinstance(qid, str) or not QUERY_ID.fullmatch(qid):
                raise invalid(
                    f"The value {qid} for parameter MetricDataQueries.member.{i}.Id is invalid:"
                    " it must start with a lowercase letter and contain only letters, digits"
                    " and underscores."
                )
        if len(set(ids)) != len(ids):
            raise invalid("The values for parameter Id in MetricDataQueries are not unique.")
        env: dict[str, Series] = {}
        labels: dict[str, str] = {}
        for i, q in enumerate(queries, start=1):
            where = f"MetricDataQueries.member.{i}"
            if bool(q.get("MetricStat")) == bool(q.get("Expression")):
                raise combination(f"{where} must have exactly one of MetricStat or Expression.")
            if q.get("MetricStat"):
                env[q["Id"]] = self._series(q["MetricStat"], where, start, end)
                labels[q["Id"]] = q.get("Label") or q["MetricStat"]["Metric"]["MetricName"]
        metric_ids = set(env)
        for q in queries:
            if q.get("Expression"):
                try:
                    result = evaluate(q["Expression"], env, labels, metric_ids)
                except ExpressionError as exc:
                    raise AwsError(
                        "ValidationError", f"Error in expression {q['Id']}: {exc}"
                    ) from None
                if not isinstance(result, dict):
                    stamps = set().union(*(s.keys() for s in env.values())) if env else set()
                    result = dict.fromkeys(stamps, float(result))
                env[q["Id"]] = result
                labels[q["Id"]] = q.get("Label") or q["Id"]
        return env, labels

    def get_metric_data(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        queries = req.get("MetricDataQueries") or []
        if not queries:
            raise missing("MetricDataQueries")
        if len(queries) > MAX_QUERIES:
            raise invalid("The collection MetricDataQueries must not have more than 500 members.")
        start, end = self._window(req)
        scan = req.get("ScanBy", "TimestampDescending")
        if scan not in ("TimestampDescending", "TimestampAscending"):
            raise invalid(f"The value {scan} for parameter ScanBy is invalid.")
        env, labels = self.evaluate_queries(queries, start, end)
        descending = scan == "TimestampDescending"
        limit = req.get("MaxDatapoints") or 100_800
        try:
            skip = int(req.get("NextToken") or 0)
        except ValueError:
            raise AwsError("InvalidNextToken", "The NextToken is invalid.") from None
        # Pages cut the concatenation of all results' points; a result split across pages
        # appears on each with the same Id, as on AWS.
        budget, results, seen = limit, [], 0
        for q in queries:
            if q.get("ReturnData") is False:
                continue
            series = env[q["Id"]]
            stamps = sorted(series, reverse=descending)
            begin = min(max(skip - seen, 0), len(stamps))
            seen += len(stamps)
            page = stamps[begin : begin + budget]
            budget -= len(page)
            if not page and (stamps or skip):
                continue  # returned on another page (series without data: first page)
            results.append(
                {
                    "Id": q["Id"],
                    "Label": labels[q["Id"]],
                    "Timestamps": [datetime.fromtimestamp(t, tz=UTC) for t in page],
                    "Values": [series[t] for t in page],
                    "StatusCode": "Complete" if begin + len(page) == len(stamps) else "PartialData",
                }
            )
        out: dict[str, Any] = {"MetricDataResults": results, "Messages": []}
        if skip + limit < seen:
            out["NextToken"] = str(skip + limit)
        return out
