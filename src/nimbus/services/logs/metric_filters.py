"""Metric filters: log events matching a filter pattern become CloudWatch metric data.

Stored next to the log groups (same database, cascade-deleted with the group). Applied to
every accepted batch (PutLogEvents and in-process ``append``); ``defaultValue`` is emitted
once for a batch in which the filter matched nothing.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import AwsError
from nimbus.services.logs.engine import now_ms
from nimbus.services.logs.filter_pattern import (
    FilterPatternError,
    captured_value,
    compile_binder,
)

if TYPE_CHECKING:
    from nimbus.aws.context import RequestContext

SCHEMA = """
CREATE TABLE IF NOT EXISTS metric_filters (
    group_id INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    pattern TEXT NOT NULL,
    transformations TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (group_id, name)
);
"""
MAX_FILTERS_PER_GROUP = 100


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def _metric_value(reference: str, captured: dict[str, Any]) -> float | None:
    if reference.startswith("$"):
        value = captured_value(captured, reference)
        if isinstance(value, bool):
            return None
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return number if math.isfinite(number) else None
    return float(reference)


class MetricFilterStore:
    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self.db, self.lock = db, lock
        with self.lock:
            self.db.executescript(SCHEMA)
        self._compiled: dict[str, Any] = {}  # pattern text -> binder, patterns repeat a lot

    def binder(self, pattern: str) -> Any:
        binder = self._compiled.get(pattern)
        if binder is None:
            binder = self._compiled[pattern] = compile_binder(pattern)
        return binder

    def put(self, group_id: int, name: str, pattern: str, transformations: list[dict]) -> None:
        with self.lock:
            count = self.db.execute(
                "SELECT COUNT(*) FROM metric_filters WHERE group_id = ? AND name != ?",
                (group_id, name),
            ).fetchone()[0]
            if count >= MAX_FILTERS_PER_GROUP:
                raise AwsError("LimitExceededException", "Too many metric filters on the group.")
            self.db.execute(
                "INSERT INTO metric_filters (group_id, name, pattern, transformations, created)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_id, name) DO UPDATE SET"
                " pattern = excluded.pattern, transformations = excluded.transformations",
                (group_id, name, pattern, json.dumps(transformations), now_ms()),
            )

    def delete(self, group_id: int, name: str) -> bool:
        with self.lock:
            cur = self.db.execute(
                "DELETE FROM metric_filters WHERE group_id = ? AND name = ?", (group_id, name)
            )
        return cur.rowcount > 0

    def list(self, group_id: int | None = None) -> list[tuple[str, str, str, list[dict], int]]:
        """(group name, filter name, pattern, transformations, created), by group then name."""
        sql = (
            "SELECT g.name, f.name, f.pattern, f.transformations, f.created"
            " FROM metric_filters f JOIN log_groups g ON g.id = f.group_id"
        )
        args: list[object] = []
        if group_id is not None:
            sql += " WHERE f.group_id = ?"
            args.append(group_id)
        sql += " ORDER BY g.name, f.name"
        with self.lock:
            rows = self.db.execute(sql, args).fetchall()
        return [(g, n, p, json.loads(t), c) for g, n, p, t, c in rows]

    def count(self, group_id: int) -> int:
        with self.lock:
            return self.db.execute(
                "SELECT COUNT(*) FROM metric_filters WHERE group_id = ?", (group_id,)
            ).fetchone()[0]

    def metrics_for(
        self, group_id: int, events: list[tuple[int, str]]
    ) -> list[tuple[str, list[dict[str, Any]]]]:
        """(namespace, MetricDatum dicts) produced by the group's filters for a batch."""
        out: list[tuple[str, list[dict[str, Any]]]] = []
        for _, _, pattern, transformations, _ in self.list(group_id):
            binder = self.binder(pattern)
            hits = [(ts, c) for ts, msg in events if (c := binder(msg)) is not None]
            for t in transformations:
                data: list[dict[str, Any]] = []
                for ts, captured in hits:
                    value = _metric_value(t["metricValue"], captured)
                    if value is None:
                        continue
                    dims = []
                    for key, ref in (t.get("dimensions") or {}).items():
                        dim = captured_value(captured, ref)
                        if dim is not None:
                            dims.append({"Name": key, "Value": str(dim)})
                    data.append(
                        {
                            "MetricName": t["metricName"],
                            "Value": value,
                            "Timestamp": datetime.fromtimestamp(ts / 1000, tz=UTC),
                            "Unit": t.get("unit") or "None",
                            "Dimensions": dims,
                        }
                    )
                if not hits and t.get("defaultValue") is not None and events:
                    data.append(
                        {
                            "MetricName": t["metricName"],
                            "Value": float(t["defaultValue"]),
                            "Timestamp": datetime.fromtimestamp(events[-1][0] / 1000, tz=UTC),
                            "Unit": t.get("unit") or "None",
                        }
                    )
                if data:
                    out.append((t["metricNamespace"], data))
        return out


class MetricFilterOperations:
    """Mixed into LogsProvider: PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter,
    TestMetricFilter."""

    engine: Any
    metric_filters: MetricFilterStore

    def put_metric_filter(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        group = self.engine.get_group(req["logGroupName"])
        try:
            compile_binder(req["filterPattern"])
        except FilterPatternError as exc:
            raise _invalid(f"Invalid metric filter pattern: {exc}") from None
        transformations = req.get("metricTransformations") or []
        if len(transformations) != 1:
            raise _invalid("metricTransformations must contain exactly one transformation.")
        for t in transformations:
            ref = t["metricValue"]
            if not ref.startswith("$"):
                try:
                    float(ref)
                except ValueError:
                    raise _invalid(f"Invalid metricValue {ref!r}.") from None
            if t.get("dimensions") and t.get("defaultValue") is not None:
                raise _invalid("dimensions and defaultValue cannot be used together.")
            if len(t.get("dimensions") or {}) > 3:
                raise _invalid("A metric transformation can have at most 3 dimensions.")
        self.metric_filters.put(group.id, req["filterName"], req["filterPattern"], transformations)
        return {}

    def delete_metric_filter(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        group = self.engine.get_group(req["logGroupName"])
        if not self.metric_filters.delete(group.id, req["filterName"]):
            raise AwsError(
                "ResourceNotFoundException", "The specified metric filter does not exist."
            )
        return {}

    def describe_metric_filters(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        if req.get("metricName") and not req.get("metricNamespace"):
            raise _invalid("metricNamespace is required when metricName is given.")
        gid = self.engine.get_group(req["logGroupName"]).id if req.get("logGroupName") else None
        rows = self.metric_filters.list(gid)
        prefix = req.get("filterNamePrefix") or ""
        found = []
        for group, name, pattern, transformations, created in rows:
            if not name.startswith(prefix):
                continue
            if req.get("metricNamespace") and not any(
                t["metricNamespace"] == req["metricNamespace"]
                and (not req.get("metricName") or t["metricName"] == req["metricName"])
                for t in transformations
            ):
                continue
            found.append(
                {
                    "filterName": name,
                    "filterPattern": pattern,
                    "metricTransformations": transformations,
                    "creationTime": created,
                    "logGroupName": group,
                }
            )
        offset = int(req["nextToken"]) if str(req.get("nextToken") or "").isdigit() else 0
        limit = req.get("limit", 50)
        out: dict[str, Any] = {"metricFilters": found[offset : offset + limit]}
        if offset + limit < len(found):
            out["nextToken"] = str(offset + limit)
        return out

    def test_metric_filter(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        try:
            binder = compile_binder(req["filterPattern"])
        except FilterPatternError as exc:
            raise _invalid(f"Invalid metric filter pattern: {exc}") from None
        matches = []
        for number, message in enumerate(req.get("logEventMessages") or [], start=1):
            captured = binder(message)
            if captured is None:
                continue
            extracted = {k: str(v) for k, v in captured.items() if k != "$"}
            matches.append(
                {"eventNumber": number, "eventMessage": message, "extractedValues": extracted}
            )
        return {"matches": matches}
