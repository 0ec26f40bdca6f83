"""Validation of CloudWatch metric input: MetricDatum, dimensions, periods, timestamps.

Error codes are the awsQuery codes (``InvalidParameterValue``, ``MissingParameter`` ...):
boto3 exposes those whichever protocol (query, JSON, CBOR) carried the call.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.cloudwatch.engine import MetricRecord, Sample

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


def epoch(value: Any, name: str) -> float:
    if isinstance(value, datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=UTC).timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise invalid(f"The parameter {name} must be a timestamp.")


def finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(f"The value {value} for parameter {name} is invalid.")
    return float(value)


def check_period(period: Any, name: str = "Period") -> int:
    if not isinstance(period, int) or period < 1:
        raise invalid(f"The parameter {name} must be a positive integer.")
    if period < 60 and period not in (1, 5, 10, 30):
        raise invalid(f"The parameter {name} must be 1, 5, 10, 30 or a multiple of 60.")
    if period >= 60 and period % 60:
        raise invalid(f"The parameter {name} must be a multiple of 60.")
    return period


def dimensions(dims: list[dict[str, Any]] | None, where: str) -> tuple[tuple[str, str], ...]:
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


def metric_record(namespace: str, d: dict[str, Any], i: int, now: float) -> MetricRecord:
    """One validated MetricDatum (``i`` numbers it in error messages, as AWS does)."""
    where = f"MetricData.member.{i}"
    name = d.get("MetricName")
    if not name:
        raise missing(f"{where}.MetricName")
    if len(name) > 255:
        raise invalid(f"The parameter {where}.MetricName must be at most 255 characters.")
    dims = dimensions(d.get("Dimensions"), where)
    stamp = d.get("Timestamp")
    ts = now if stamp is None else epoch(stamp, f"{where}.Timestamp")
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
        v = finite(d["Value"], f"{where}.Value")
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
            v = finite(v, f"{where}.Values")
            c = finite(c, f"{where}.Counts")
            if c < 0:
                raise invalid(f"The parameter {where}.Counts must not be negative.")
            if c > 0:
                samples.append(Sample(ts, unit, v, c, v * c, v, v))
    else:
        s = d["StatisticValues"]
        count = finite(s.get("SampleCount"), f"{where}.StatisticValues.SampleCount")
        total = finite(s.get("Sum"), f"{where}.StatisticValues.Sum")
        low = finite(s.get("Minimum"), f"{where}.StatisticValues.Minimum")
        high = finite(s.get("Maximum"), f"{where}.StatisticValues.Maximum")
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
