"""Metric alarms: PutMetricAlarm, DescribeAlarms and friends, with lazy evaluation.

Alarms are evaluated when they are read (DescribeAlarms, DescribeAlarmsForMetric) over the
last ``EvaluationPeriods`` complete periods, honouring DatapointsToAlarm and TreatMissingData.
Alarm actions (SNS, Auto Scaling ...) are recorded in the history, not executed.
"""

from __future__ import annotations

import json
import math
import operator
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import AwsError
from nimbus.services.cloudwatch.alarm_store import Alarm, AlarmStore
from nimbus.services.cloudwatch.engine import MetricId, MetricsEngine
from nimbus.services.cloudwatch.statistics import BASIC_STATISTICS, is_statistic

if TYPE_CHECKING:
    from nimbus.aws.context import RequestContext

COMPARISONS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", operator.ge),
    "GreaterThanThreshold": ("greater than", operator.gt),
    "LessThanThreshold": ("less than", operator.lt),
    "LessThanOrEqualToThreshold": ("less than or equal to", operator.le),
}
STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
MAX_ALARMS = 5000  # per account and region, as on AWS
MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
CONFIG_KEYS = [
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
]


SeriesFn = Callable[[list[dict[str, Any]], float, float], "dict[int, float] | None"]


def _err(code: str, message: str, status: int = 400) -> AwsError:
    return AwsError(code, message, status)


def _alarm_period(c: dict[str, Any]) -> int:
    if c.get("Period"):
        return int(c["Period"])
    periods = [q["MetricStat"]["Period"] for q in c.get("Metrics") or [] if q.get("MetricStat")]
    return int(min(periods)) if periods else 60


def _evaluate(
    engine: MetricsEngine, alarm: Alarm, now: float, math_series: SeriesFn
) -> tuple[str, str, str] | None:
    """(state, reason, reason data) from the latest complete periods; None keeps the state."""
    c = alarm.config
    if c.get("ComparisonOperator") not in COMPARISONS:
        return None  # anomaly-band comparisons are not evaluated locally
    period, n = _alarm_period(c), int(c["EvaluationPeriods"])
    m = int(c.get("DatapointsToAlarm") or n)
    stat = c.get("Statistic") or c.get("ExtendedStatistic") or "expression"
    end = math.floor(now / period) * period
    start = end - period * n
    if c.get("Metrics"):
        series = math_series(c["Metrics"], start, end)
        if series is None:
            return None
        values: dict[int, float | None] = dict(series)
    else:
        dims = tuple(sorted((d["Name"], d["Value"]) for d in c.get("Dimensions") or []))
        metric = MetricId(c["Namespace"], c["MetricName"], dims)
        buckets = engine.buckets(metric, start=start, end=end, period=period, unit=c.get("Unit"))
        values = {t: b.statistic(stat) for t, b in buckets.items()}
    points = [(t, values.get(t)) for t in range(int(start), int(end), period)]
    present = [(t, v) for t, v in points if v is not None]
    words, compare = COMPARISONS[c["ComparisonOperator"]]
    threshold = float(c["Threshold"])
    missing = c.get("TreatMissingData") or "missing"
    breaching = sum(1 for _, v in present if compare(v, threshold))
    if missing == "breaching":
        breaching += len(points) - len(present)
    if not present and missing in ("missing", "ignore"):
        if missing == "ignore":
            return None
        return "INSUFFICIENT_DATA", "Insufficient Data: no datapoints were received", "{}"
    state = "ALARM" if breaching >= m else "OK"
    shown = ", ".join(
        f"{v} ({datetime.fromtimestamp(t, tz=UTC):%d/%m/%y %H:%M:%S})" for t, v in present[-5:]
    )
    verb = "was" if state == "ALARM" else "was not"
    reason = (
        f"Threshold Crossed: {len(present)} datapoint(s) [{shown}] {verb} {words} the"
        f" threshold ({threshold}) in {breaching} of {n} periods (needs {m})."
    )
    data = json.dumps(
        {
            "version": "1.0",
            "queryDate": datetime.fromtimestamp(now, tz=UTC).isoformat(),
            "statistic": stat,
            "period": period,
            "recentDatapoints": [v for _, v in present],
            "threshold": threshold,
        }
    )
    return state, reason, data


class AlarmOperations:
    """Mixed into CloudWatchProvider; needs ``self.engine``, ``self.alarms`` and ``self.env``."""

    engine: MetricsEngine
    alarms: AlarmStore
    env: Any

    def alarm_arn(self, name: str) -> str:
        return f"arn:aws:cloudwatch:{self.env.region}:{self.env.account_id}:alarm:{name}"

    def evaluate_queries(
        self, queries: list[dict[str, Any]], start: float, end: float
    ) -> tuple[dict[str, Any], dict[str, str]]:
        raise NotImplementedError  # provided by CloudWatchProvider

    def _math_series(self, queries: list[dict[str, Any]], start: float, end: float) -> Any:
        """The series a metric-math alarm watches: the query with ReturnData true."""
        try:
            env, _ = self.evaluate_queries(queries, start, end)
        except AwsError:
            return None
        chosen = [q["Id"] for q in queries if q.get("ReturnData", True) and q["Id"] in env]
        return env[chosen[-1]] if chosen else None

    def _refresh(self, alarm: Alarm) -> Alarm:
        now = time.time()
        if now < alarm.hold_until:
            return alarm
        result = _evaluate(self.engine, alarm, now, self._math_series)
        if result is not None and (result[0], result[1]) != (alarm.state, alarm.reason):
            self.alarms.set_state(alarm.name, *result)
            if result[0] != alarm.state:
                return self.alarms.get(alarm.name) or alarm
        return alarm

    def _describe(self, a: Alarm) -> dict[str, Any]:
        out = {k: a.config[k] for k in CONFIG_KEYS if k in a.config}
        out.setdefault("ActionsEnabled", True)
        for key in ("OKActions", "AlarmActions", "InsufficientDataActions", "Dimensions"):
            out.setdefault(key, [])
        out |= {
            "AlarmName": a.name,
            "AlarmArn": self.alarm_arn(a.name),
            "AlarmConfigurationUpdatedTimestamp": datetime.fromtimestamp(a.config_updated, UTC),
            "StateValue": a.state,
            "StateReason": a.reason,
            "StateUpdatedTimestamp": datetime.fromtimestamp(a.state_updated, UTC),
            "StateTransitionedTimestamp": datetime.fromtimestamp(a.state_updated, UTC),
        }
        if a.reason_data:
            out["StateReasonData"] = a.reason_data
        return out

    def put_metric_alarm(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        name = req.get("AlarmName")
        if not name:
            raise _err("MissingParameter", "The parameter AlarmName is required.")
        for key in ("EvaluationPeriods", "ComparisonOperator"):
            if req.get(key) is None:
                raise _err("MissingParameter", f"The parameter {key} is required.")
        if req["ComparisonOperator"] not in COMPARISONS and not req.get("ThresholdMetricId"):
            raise _err(
                "InvalidParameterValue",
                f"The value {req['ComparisonOperator']} for parameter ComparisonOperator is"
                " invalid.",
            )
        if req.get("Metrics"):
            if req.get("MetricName") or req.get("Namespace"):
                raise _err(
                    "InvalidParameterCombination",
                    "Metrics cannot be combined with MetricName/Namespace/Statistic.",
                )
        else:
            for key in ("MetricName", "Namespace", "Period"):
                if req.get(key) is None:
                    raise _err("MissingParameter", f"The parameter {key} is required.")
            if bool(req.get("Statistic")) == bool(req.get("ExtendedStatistic")):
                raise _err(
                    "InvalidParameterCombination",
                    "Exactly one of Statistic and ExtendedStatistic must be specified.",
                )
            if req.get("Statistic") and req["Statistic"] not in BASIC_STATISTICS:
                raise _err("InvalidParameterValue", f"Invalid Statistic {req['Statistic']}.")
            if req.get("ExtendedStatistic") and not is_statistic(req["ExtendedStatistic"]):
                raise _err(
                    "InvalidParameterValue",
                    f"Invalid ExtendedStatistic {req['ExtendedStatistic']}.",
                )
            if req.get("Threshold") is None:
                raise _err("MissingParameter", "The parameter Threshold is required.")
            period = req["Period"]
            if period not in (10, 20, 30) and (period < 60 or period % 60):
                raise _err(
                    "InvalidParameterValue", "Period must be 10, 20, 30 or a multiple of 60."
                )
        periods = req["EvaluationPeriods"]
        if periods < 1 or (req.get("DatapointsToAlarm") or periods) > periods:
            raise _err(
                "InvalidParameterValue",
                "EvaluationPeriods must be >= 1 and DatapointsToAlarm <= EvaluationPeriods.",
            )
        if req.get("TreatMissingData", "missing") not in MISSING_DATA:
            raise _err(
                "InvalidParameterValue",
                "TreatMissingData must be one of " + ", ".join(MISSING_DATA),
            )
        config = {k: req[k] for k in CONFIG_KEYS if req.get(k) is not None}
        tags = {t["Key"]: t["Value"] for t in req.get("Tags") or []}
        if self.alarms.get(name) is None and self.alarms.count() >= MAX_ALARMS:
            raise _err("LimitExceeded", f"The maximum of {MAX_ALARMS} alarms has been reached.")
        self.alarms.upsert(name, config, tags)
        return {}

    def describe_alarms(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        if req.get("AlarmNames") and req.get("AlarmNamePrefix"):
            raise _err(
                "InvalidParameterCombination",
                "AlarmNames and AlarmNamePrefix cannot be specified together.",
            )
        limit = req.get("MaxRecords", 50)
        if not 1 <= limit <= 100:
            raise _err("InvalidParameterValue", "MaxRecords must be between 1 and 100.")
        types = req.get("AlarmTypes") or ["MetricAlarm"]
        found = self.alarms.list(names=req.get("AlarmNames"), prefix=req.get("AlarmNamePrefix"))
        found = [self._refresh(a) for a in found]
        if req.get("StateValue"):
            found = [a for a in found if a.state == req["StateValue"]]
        if req.get("ActionPrefix"):
            p = req["ActionPrefix"]
            found = [
                a for a in found if any(x.startswith(p) for x in a.config.get("AlarmActions", []))
            ]
        offset = int(req["NextToken"]) if str(req.get("NextToken") or "").isdigit() else 0
        page = found[offset : offset + limit] if "MetricAlarm" in types else []
        out: dict[str, Any] = {
            "MetricAlarms": [self._describe(a) for a in page],
            "CompositeAlarms": [],
        }
        if "MetricAlarm" in types and offset + limit < len(found):
            out["NextToken"] = str(offset + limit)
        return out

    def describe_alarms_for_metric(
        self, req: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any]:
        dims = sorted((d["Name"], d["Value"]) for d in req.get("Dimensions") or [])
        hits = []
        for a in self.alarms.list():
            c = a.config
            if (c.get("Namespace"), c.get("MetricName")) != (req["Namespace"], req["MetricName"]):
                continue
            if sorted((d["Name"], d["Value"]) for d in c.get("Dimensions") or []) != dims:
                continue
            if any(
                req.get(k) and c.get(k) != req[k]
                for k in ("Statistic", "ExtendedStatistic", "Period", "Unit")
            ):
                continue
            hits.append(self._describe(self._refresh(a)))
        return {"MetricAlarms": hits}

    def delete_alarms(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        names = req.get("AlarmNames") or []
        missing = [n for n in names if self.alarms.get(n) is None]
        if missing:
            raise _err("ResourceNotFound", f"The named resource does not exist: {missing[0]}", 404)
        self.alarms.delete(names)
        return {}

    def set_alarm_state(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        alarm = self.alarms.get(req["AlarmName"])
        if alarm is None:
            raise _err(
                "ResourceNotFound", f"The named resource does not exist: {req['AlarmName']}", 404
            )
        if req["StateValue"] not in STATES:
            raise _err("InvalidParameterValue", f"Invalid StateValue {req['StateValue']}.")
        if req.get("StateReasonData"):
            try:
                json.loads(req["StateReasonData"])
            except ValueError:
                raise _err("InvalidFormat", "StateReasonData is not valid JSON.") from None
        # Like AWS, the state holds until the next evaluation (one period from now).
        hold = time.time() + int(alarm.config.get("Period") or 60)
        self.alarms.set_state(
            alarm.name,
            req["StateValue"],
            req["StateReason"],
            req.get("StateReasonData"),
            hold_until=hold,
        )
        return {}

    def enable_alarm_actions(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        for name in req.get("AlarmNames") or []:
            self.alarms.set_config_field(name, "ActionsEnabled", True)
        return {}

    def disable_alarm_actions(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        for name in req.get("AlarmNames") or []:
            self.alarms.set_config_field(name, "ActionsEnabled", False)
        return {}

    def describe_alarm_history(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        def epoch(key: str, default: float) -> float:
            v = req.get(key)
            return v.timestamp() if isinstance(v, datetime) else default

        rows = self.alarms.history(
            name=req.get("AlarmName"),
            kind=req.get("HistoryItemType"),
            start=epoch("StartDate", 0.0),
            end=epoch("EndDate", math.inf),
            newest_first=req.get("ScanBy", "TimestampDescending") == "TimestampDescending",
        )
        limit = req.get("MaxRecords", 100)
        return {
            "AlarmHistoryItems": [
                {
                    "AlarmName": name,
                    "AlarmType": "MetricAlarm",
                    "Timestamp": datetime.fromtimestamp(ts, UTC),
                    "HistoryItemType": kind,
                    "HistorySummary": summary,
                    "HistoryData": data,
                }
                for name, ts, kind, summary, data in rows[:limit]
            ]
        }

    # --- tags on alarms -------------------------------------------------------------------

    def _alarm_for_arn(self, arn: str) -> Alarm:
        name = arn.partition(":alarm:")[2]
        alarm = self.alarms.get(name) if name else None
        if alarm is None:
            raise _err("ResourceNotFoundException", f"Resource {arn} does not exist.", 404)
        return alarm

    def tag_resource(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        alarm = self._alarm_for_arn(req["ResourceARN"])
        self.alarms.set_tags(alarm.name, alarm.tags | {t["Key"]: t["Value"] for t in req["Tags"]})
        return {}

    def untag_resource(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        alarm = self._alarm_for_arn(req["ResourceARN"])
        drop = set(req.get("TagKeys") or [])
        self.alarms.set_tags(alarm.name, {k: v for k, v in alarm.tags.items() if k not in drop})
        return {}

    def list_tags_for_resource(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        alarm = self._alarm_for_arn(req["ResourceARN"])
        return {"Tags": [{"Key": k, "Value": v} for k, v in alarm.tags.items()]}
