"""CloudWatch metrics state: one row per metric identity, one row per published sample.

Raw values are kept (value + count) so that percentiles are exact; statistic sets are kept as
count/sum/min/max. Aggregation into period buckets happens at read time.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from nimbus.services.cloudwatch.statistics import Bucket, bucket_start
from nimbus.storage import open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    dimensions TEXT NOT NULL,  -- JSON [[name, value], ...] sorted by name: the identity
    last_ts REAL NOT NULL,
    UNIQUE (namespace, name, dimensions)
);
CREATE TABLE IF NOT EXISTS samples (
    metric_id INTEGER NOT NULL REFERENCES metrics(id) ON DELETE CASCADE,
    ts REAL NOT NULL,          -- epoch seconds
    unit TEXT NOT NULL,
    value REAL,                -- NULL for a statistic set with min != max
    count REAL NOT NULL,
    total REAL NOT NULL,
    minimum REAL NOT NULL,
    maximum REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_by_metric ON samples (metric_id, ts);
CREATE INDEX IF NOT EXISTS samples_by_time ON samples (ts);
"""

Dimensions = tuple[tuple[str, str], ...]
RETENTION_S = 455 * 86400  # CloudWatch keeps (hourly) data for 15 months


@dataclass(slots=True)
class Sample:
    """One stored row: a raw value repeated ``count`` times, or a statistic set."""

    ts: float
    unit: str
    value: float | None
    count: float
    total: float
    minimum: float
    maximum: float


@dataclass(slots=True)
class MetricRecord:
    namespace: str
    name: str
    dimensions: Dimensions
    samples: list[Sample]


@dataclass(frozen=True, slots=True)
class MetricId:
    namespace: str
    name: str
    dimensions: Dimensions


def canonical(dimensions: Dimensions) -> str:
    return json.dumps(sorted([list(d) for d in dimensions]), separators=(",", ":"))


class MetricsEngine:
    def __init__(self, path: Path) -> None:
        self.db: sqlite3.Connection = open_db(path)
        self.db.executescript(SCHEMA)
        self.lock = threading.RLock()  # EMF writes may come from Lambda threads
        self._last_expiry = 0.0

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def put(self, records: list[MetricRecord]) -> None:
        """Store validated records in one transaction (committed before returning)."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for rec in records:
                    self._put_one(rec)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self._expire()

    def _expire(self) -> None:
        """Drop samples past CloudWatch's 15-month retention, at most once an hour."""
        if time.monotonic() - self._last_expiry < 3600:
            return
        self._last_expiry = time.monotonic()
        self.db.execute("DELETE FROM samples WHERE ts < ?", (time.time() - RETENTION_S,))

    def _put_one(self, rec: MetricRecord) -> None:
        dims = canonical(rec.dimensions)
        last = max(s.ts for s in rec.samples)
        # Upsert without RETURNING, which SQLite builds older than 3.35 lack.
        key = (rec.namespace, rec.name, dims)
        self.db.execute(
            "INSERT OR IGNORE INTO metrics (namespace, name, dimensions, last_ts)"
            " VALUES (?, ?, ?, ?)",
            (*key, last),
        )
        row = self.db.execute(
            "SELECT id FROM metrics WHERE namespace = ? AND name = ? AND dimensions = ?", key
        ).fetchone()
        self.db.execute("UPDATE metrics SET last_ts = MAX(last_ts, ?) WHERE id = ?", (last, row[0]))
        self.db.executemany(
            "INSERT INTO samples (metric_id, ts, unit, value, count, total, minimum, maximum)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (row[0], s.ts, s.unit, s.value, s.count, s.total, s.minimum, s.maximum)
                for s in rec.samples
            ],
        )

    def list_metrics(
        self,
        *,
        namespace: str | None = None,
        name: str | None = None,
        dimension_filters: list[tuple[str, str | None]] | None = None,
        active_since: float | None = None,
    ) -> list[MetricId]:
        sql = "SELECT namespace, name, dimensions FROM metrics WHERE 1 = 1"
        args: list[object] = []
        if namespace is not None:
            sql += " AND namespace = ?"
            args.append(namespace)
        if name is not None:
            sql += " AND name = ?"
            args.append(name)
        if active_since is not None:
            sql += " AND last_ts >= ?"
            args.append(active_since)
        sql += " ORDER BY namespace, name, dimensions"
        with self.lock:
            rows = self.db.execute(sql, args).fetchall()
        out: list[MetricId] = []
        for ns, metric, dims_json in rows:
            dims: Dimensions = tuple((d[0], d[1]) for d in json.loads(dims_json))
            present = dict(dims)
            if dimension_filters and not all(
                key in present and (value is None or present[key] == value)
                for key, value in dimension_filters
            ):
                continue
            out.append(MetricId(ns, metric, dims))
        return out

    def buckets(
        self,
        metric: MetricId,
        *,
        start: float,
        end: float,
        period: int,
        unit: str | None = None,
    ) -> dict[int, Bucket]:
        """Samples with start <= ts < end aggregated per period bucket (key: bucket start)."""
        sql = (
            "SELECT s.ts, s.unit, s.value, s.count, s.total, s.minimum, s.maximum"
            " FROM samples s JOIN metrics m ON m.id = s.metric_id"
            " WHERE m.namespace = ? AND m.name = ? AND m.dimensions = ?"
            " AND s.ts >= ? AND s.ts < ?"
        )
        args: list[object] = [
            metric.namespace,
            metric.name,
            canonical(metric.dimensions),
            start,
            end,
        ]
        if unit is not None:
            sql += " AND s.unit = ?"
            args.append(unit)
        out: dict[int, Bucket] = {}
        with self.lock:
            rows = self.db.execute(sql, args).fetchall()
        for ts, row_unit, value, count, total, minimum, maximum in rows:
            key = bucket_start(ts, period)
            bucket = out.get(key)
            if bucket is None:
                bucket = out[key] = Bucket()
            bucket.add(count, total, minimum, maximum, value, row_unit)
        return out
