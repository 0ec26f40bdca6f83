"""Metric alarms on disk: configuration, current state, and state-change history."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS alarms (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL,          -- the PutMetricAlarm request (JSON, timestamps excluded)
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    reason_data TEXT,
    state_updated REAL NOT NULL,
    config_updated REAL NOT NULL,
    hold_until REAL NOT NULL DEFAULT 0,  -- SetAlarmState wins until the next evaluation
    tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS alarm_history (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,            -- ConfigurationUpdate | StateUpdate | Action
    summary TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alarm_history_by_name ON alarm_history (name, ts);
"""


@dataclass(slots=True)
class Alarm:
    name: str
    config: dict[str, Any]
    state: str
    reason: str
    reason_data: str | None
    state_updated: float
    config_updated: float
    hold_until: float
    tags: dict[str, str] = field(default_factory=dict)


class AlarmStore:
    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self.db, self.lock = db, lock
        with self.lock:
            self.db.executescript(SCHEMA)

    def _row(self, row: tuple) -> Alarm:
        return Alarm(
            name=row[0],
            config=json.loads(row[1]),
            state=row[2],
            reason=row[3],
            reason_data=row[4],
            state_updated=row[5],
            config_updated=row[6],
            hold_until=row[7],
            tags=json.loads(row[8]),
        )

    _COLUMNS = (
        "name, config, state, reason, reason_data, state_updated, config_updated, hold_until, tags"
    )

    def get(self, name: str) -> Alarm | None:
        with self.lock:
            row = self.db.execute(
                f"SELECT {self._COLUMNS} FROM alarms WHERE name = ?", (name,)
            ).fetchone()
        return self._row(row) if row else None

    def count(self) -> int:
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM alarms").fetchone()[0]

    def list(self, *, names: list[str] | None = None, prefix: str | None = None) -> list[Alarm]:
        with self.lock:
            if names is not None:
                marks = ",".join("?" * len(names))
                rows = self.db.execute(
                    f"SELECT {self._COLUMNS} FROM alarms WHERE name IN ({marks}) ORDER BY name",
                    names,
                ).fetchall()
            else:
                p = prefix or ""
                rows = self.db.execute(
                    f"SELECT {self._COLUMNS} FROM alarms WHERE name >= ? AND name < ?"
                    " ORDER BY name",
                    (p, p + "\U0010ffff"),
                ).fetchall()
        return [self._row(r) for r in rows]

    def upsert(self, name: str, config: dict[str, Any], tags: dict[str, str]) -> None:
        """Create (state INSUFFICIENT_DATA) or update an alarm's configuration."""
        now = time.time()
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                existing = self.get(name)
                if existing is None:
                    self.db.execute(
                        "INSERT INTO alarms (name, config, state, reason, state_updated,"
                        " config_updated, tags) VALUES (?, ?, 'INSUFFICIENT_DATA',"
                        " 'Unchecked: Initial alarm creation', ?, ?, ?)",
                        (name, json.dumps(config), now, now, json.dumps(tags)),
                    )
                else:
                    merged = {**existing.tags, **tags}
                    self.db.execute(
                        "UPDATE alarms SET config = ?, config_updated = ?, tags = ?, hold_until = 0"
                        " WHERE name = ?",
                        (json.dumps(config), now, json.dumps(merged), name),
                    )
                summary = "created" if existing is None else "updated"
                self._history(name, now, "ConfigurationUpdate", f'Alarm "{name}" {summary}', {})
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def set_state(
        self,
        name: str,
        state: str,
        reason: str,
        reason_data: str | None,
        *,
        hold_until: float = 0.0,
    ) -> None:
        now = time.time()
        with self.lock:
            old = self.get(name)
            if old is None:
                return
            self.db.execute(
                "UPDATE alarms SET state = ?, reason = ?, reason_data = ?, state_updated = ?,"
                " hold_until = ? WHERE name = ?",
                (state, reason, reason_data, now, hold_until, name),
            )
            if old.state != state:
                self._history(
                    name,
                    now,
                    "StateUpdate",
                    f"Alarm updated from {old.state} to {state}",
                    {
                        "oldState": {"stateValue": old.state},
                        "newState": {"stateValue": state, "stateReason": reason},
                    },
                )

    def set_config_field(self, name: str, key: str, value: Any) -> None:
        with self.lock:
            alarm = self.get(name)
            if alarm is not None:
                alarm.config[key] = value
                self.db.execute(
                    "UPDATE alarms SET config = ? WHERE name = ?", (json.dumps(alarm.config), name)
                )

    def set_tags(self, name: str, tags: dict[str, str]) -> None:
        with self.lock:
            self.db.execute("UPDATE alarms SET tags = ? WHERE name = ?", (json.dumps(tags), name))

    def delete(self, names: list[str]) -> None:
        with self.lock:
            self.db.executemany("DELETE FROM alarms WHERE name = ?", [(n,) for n in names])

    def _history(self, name: str, ts: float, kind: str, summary: str, data: dict) -> None:
        self.db.execute(
            "INSERT INTO alarm_history (name, ts, kind, summary, data) VALUES (?, ?, ?, ?, ?)",
            (name, ts, kind, summary, json.dumps(data)),
        )

    def history(
        self,
        *,
        name: str | None,
        kind: str | None,
        start: float,
        end: float,
        newest_first: bool,
    ) -> list[tuple[str, float, str, str, str]]:
        sql = "SELECT name, ts, kind, summary, data FROM alarm_history WHERE ts >= ? AND ts < ?"
        args: list[object] = [start, end]
        if name:
            sql += " AND name = ?"
            args.append(name)
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        sql += " ORDER BY ts DESC, id DESC" if newest_first else " ORDER BY ts, id"
        with self.lock:
            return self.db.execute(sql, args).fetchall()
