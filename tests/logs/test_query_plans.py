"""Reads on one stream or group use their index: no full scans, no sorting of the table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nimbus.services.cloudwatch.engine import MetricId, MetricsEngine
from nimbus.services.logs.engine import LogsEngine


def plan(db: Any, sql: str, args: tuple) -> str:
    return " | ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, args))


class Recorder:
    """Captures the SQL an engine runs so the test checks the real statements."""

    def __init__(self, db: Any) -> None:
        self.db, self.statements = db, []

    def execute(self, sql: str, args: Any = ()) -> Any:
        self.statements.append((sql, tuple(args)))
        return self.db.execute(sql, args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


def test_log_event_reads_use_stream_and_group_indexes(tmp_path: Path) -> None:
    engine = LogsEngine(tmp_path / "logs.db")
    real = engine.db
    engine.db = Recorder(real)  # type: ignore[assignment]
    engine.stream_events(1, start=0, end=10, after=(0, 0), limit=5)
    engine.stream_events(1, start=0, end=10, limit=5, newest_first=True)
    list(engine.group_events(1, start=0, end=10, contains=["ERROR"]))
    for sql, args in engine.db.statements:  # type: ignore[attr-defined]
        shown = plan(real, sql, args)
        assert "USING INDEX events_by_" in shown, shown
        assert "TEMP B-TREE" not in shown and "SCAN e" not in shown, shown


def test_metric_bucket_reads_use_the_metric_index(tmp_path: Path) -> None:
    engine = MetricsEngine(tmp_path / "metrics.db")
    real = engine.db
    engine.db = Recorder(real)  # type: ignore[assignment]
    engine.buckets(MetricId("App", "Latency", (("Api", "a"),)), start=0, end=10, period=60)
    ((sql, args),) = engine.db.statements  # type: ignore[attr-defined]
    shown = plan(real, sql, args)
    assert "samples_by_metric" in shown and "SCAN s" not in shown, shown
