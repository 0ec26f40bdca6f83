"""CloudWatch operations: metrics (PutMetricData, ListMetrics, GetMetricStatistics,
GetMetricData) here; alarms and dashboards come from mixins (alarms.py, dashboards.py).
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from nimbus.aws.errors import AwsError
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.cloudwatch.alarm_store import AlarmStore
from nimbus.services.cloudwatch.alarms import AlarmOperations
from nimbus.services.cloudwatch.dashboards import DashboardOperations
from nimbus.services.cloudwatch.engine import MetricId, MetricsEngine
from nimbus.services.cloudwatch.expressions import ExpressionError, Series, evaluate
from nimbus.services.cloudwatch.metric_input import (
    LIST_PAGE,
    MAX_DATAPOINTS,
    MAX_METRIC_DATA,
    MAX_QUERIES,
    PAST_LIMIT_S,
    QUERY_ID,
    UNITS,
    check_period,
    combination,
    dimensions,
    epoch,
    invalid,
    metric_record,
    missing,
)
from nimbus.services.cloudwatch.statistics import (
    BASIC_STATISTICS,
    Bucket,
    is_statistic,
    parse_percentile,
)

if TYPE_CHECKING:
    from nimbus.aws.context import RequestContext


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
        records = [metric_record(namespace, d, i, now) for i, d in enumerate(data, start=1)]
        self.engine.put(records)

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
        return MetricId(m["Namespace"], m["MetricName"], dimensions(m.get("Dimensions"), where))

    def _window(self, req: dict[str, Any]) -> tuple[float, float]:
        for key in ("StartTime", "EndTime"):
            if req.get(key) is None:
                raise missing(key)
        start, end = epoch(req["StartTime"], "StartTime"), epoch(req["EndTime"], "EndTime")
        if start >= end:
            raise invalid("The parameter StartTime must be less than the parameter EndTime.")
        return start, end

    def get_metric_statistics(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        metric = self._metric(req, "")
        start, end = self._window(req)
        if req.get("Period") is None:
            raise missing("Period")
        period = check_period(req["Period"])
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
        period = check_period(stat["Period"], f"{where}.MetricStat.Period")
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
