"""Embedded Metric Format: metrics carried inside structured log lines.

A log message that is a JSON object with an ``_aws.CloudWatchMetrics`` directive list becomes
CloudWatch metric data (spec: docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
CloudWatch_Embedded_Metric_Format_Specification.html). Lines that are not valid EMF stay
plain log events, as on AWS; they never fail the PutLogEvents call.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

MAX_METRICS_PER_DIRECTIVE = 100
MAX_DIMENSIONS = 30
MAX_VALUES = 100


def _numbers(value: Any) -> list[float] | None:
    """The metric's value(s): a number or a list of numbers; anything else is skipped."""
    items = value if isinstance(value, list) else [value]
    out: list[float] = []
    for item in items[:MAX_VALUES]:
        if isinstance(item, bool) or not isinstance(item, int | float):
            return None
        if not math.isfinite(item):
            return None
        out.append(float(item))
    return out or None


def extract_metrics(message: str, event_ts_ms: int) -> list[tuple[str, list[dict[str, Any]]]]:
    """(namespace, MetricDatum dicts) pairs carried by one log message; [] when not EMF."""
    if not message.lstrip().startswith("{") or '"_aws"' not in message:
        return []
    try:
        doc = json.loads(message)
    except ValueError:
        return []
    meta = doc.get("_aws") if isinstance(doc, dict) else None
    if not isinstance(meta, dict) or not isinstance(meta.get("CloudWatchMetrics"), list):
        return []
    ts_ms = meta.get("Timestamp", event_ts_ms)
    if isinstance(ts_ms, bool) or not isinstance(ts_ms, int | float):
        return []
    timestamp = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    out: list[tuple[str, list[dict[str, Any]]]] = []
    for directive in meta["CloudWatchMetrics"]:
        if not isinstance(directive, dict):
            continue
        namespace = directive.get("Namespace")
        metrics = directive.get("Metrics")
        if not isinstance(namespace, str) or not namespace or not isinstance(metrics, list):
            continue
        dimension_sets = directive.get("Dimensions", [[]])
        if not isinstance(dimension_sets, list):
            continue
        resolved_sets: list[list[dict[str, str]]] = []
        for names in dimension_sets:
            if not isinstance(names, list) or len(names) > MAX_DIMENSIONS:
                continue
            # A dimension whose member is missing from the root invalidates the set.
            if not all(isinstance(n, str) and isinstance(doc.get(n), str) for n in names):
                continue
            resolved_sets.append([{"Name": n, "Value": doc[n]} for n in names])
        if not resolved_sets:
            continue
        data: list[dict[str, Any]] = []
        for metric in metrics[:MAX_METRICS_PER_DIRECTIVE]:
            if not isinstance(metric, dict) or not isinstance(metric.get("Name"), str):
                continue
            values = _numbers(doc.get(metric["Name"]))
            if values is None:
                continue
            for dims in resolved_sets:
                datum: dict[str, Any] = {
                    "MetricName": metric["Name"],
                    "Dimensions": dims,
                    "Timestamp": timestamp,
                    "Values": values,
                    "Counts": [1.0] * len(values),
                    "Unit": metric.get("Unit", "None"),
                }
                if metric.get("StorageResolution") in (1, 60):
                    datum["StorageResolution"] = metric["StorageResolution"]
                data.append(datum)
        if data:
            out.append((namespace, data))
    return out
