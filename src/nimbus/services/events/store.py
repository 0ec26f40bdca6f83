"""EventBridge rules and their targets in SQLite (``events.db`` under the service's data dir)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nimbus.storage import open_db, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rules (
    bus TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, anchor REAL NOT NULL,
    PRIMARY KEY (bus, name));
CREATE TABLE IF NOT EXISTS targets (
    bus TEXT NOT NULL, rule TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (bus, rule, id));
"""


@dataclass
class RuleRecord:
    bus: str
    name: str
    #: the DescribeRule fields (Name, Arn, State, ScheduleExpression, EventPattern, ...)
    doc: dict[str, Any]
    #: epoch seconds the schedule counts from: creation, last enable, last expression change
    anchor: float
    targets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return self.doc.get("State", "ENABLED") != "DISABLED"


class RuleStore:
    def __init__(self, data_dir: Path) -> None:
        self.db: sqlite3.Connection = open_db(data_dir / "events.db")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def get(self, bus: str, name: str) -> RuleRecord | None:
        row = self.db.execute(
            "SELECT doc, anchor FROM rules WHERE bus = ? AND name = ?", (bus, name)
        ).fetchone()
        if row is None:
            return None
        return RuleRecord(bus, name, json.loads(row[0]), row[1])

    def put(self, rule: RuleRecord) -> None:
        with transaction(self.db):
            self.db.execute(
                "INSERT OR REPLACE INTO rules VALUES (?, ?, ?, ?)",
                (rule.bus, rule.name, json.dumps(rule.doc), rule.anchor),
            )

    def delete(self, bus: str, name: str) -> None:
        with transaction(self.db):
            self.db.execute("DELETE FROM rules WHERE bus = ? AND name = ?", (bus, name))
            self.db.execute("DELETE FROM targets WHERE bus = ? AND rule = ?", (bus, name))

    def list(
        self, bus: str, prefix: str = "", after: str = "", limit: int = 100
    ) -> list[RuleRecord]:
        rows = self.db.execute(
            "SELECT name, doc, anchor FROM rules WHERE bus = ? AND name > ? AND substr(name, 1, ?)"
            " = ? ORDER BY name LIMIT ?",
            (bus, after, len(prefix), prefix, limit),
        ).fetchall()
        return [RuleRecord(bus, name, json.loads(doc), anchor) for name, doc, anchor in rows]

    def scheduled(self) -> list[RuleRecord]:
        """Every rule with a schedule expression, with its targets (for the scheduler)."""
        rows = self.db.execute("SELECT bus, name, doc, anchor FROM rules").fetchall()
        out = []
        for bus, name, doc, anchor in rows:
            rule = RuleRecord(bus, name, json.loads(doc), anchor)
            if rule.doc.get("ScheduleExpression"):
                rule.targets = self.targets(bus, name)
                out.append(rule)
        return out

    # -- targets --------------------------------------------------------------------------
    def targets(self, bus: str, rule: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT doc FROM targets WHERE bus = ? AND rule = ? ORDER BY id", (bus, rule)
        ).fetchall()
        return [json.loads(doc) for (doc,) in rows]

    def put_targets(self, bus: str, rule: str, targets: list[dict[str, Any]]) -> None:
        with transaction(self.db):
            self.db.executemany(
                "INSERT OR REPLACE INTO targets VALUES (?, ?, ?, ?)",
                [(bus, rule, t["Id"], json.dumps(t)) for t in targets],
            )

    def remove_targets(self, bus: str, rule: str, ids: list[str]) -> None:
        with transaction(self.db):
            self.db.executemany(
                "DELETE FROM targets WHERE bus = ? AND rule = ? AND id = ?",
                [(bus, rule, i) for i in ids],
            )
