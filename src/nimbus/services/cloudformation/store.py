"""Stacks, their resources, events and exports in SQLite."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nimbus.storage import open_db, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stacks (
    stack_id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
    created REAL NOT NULL, updated REAL, deleted REAL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS stacks_by_name ON stacks (name, deleted);
CREATE TABLE IF NOT EXISTS resources (
    stack_id TEXT NOT NULL, logical_id TEXT NOT NULL, doc TEXT NOT NULL,
    PRIMARY KEY (stack_id, logical_id));
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, stack_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_stack ON events (stack_id, seq);
CREATE TABLE IF NOT EXISTS exports (
    name TEXT PRIMARY KEY, value TEXT NOT NULL, stack_id TEXT NOT NULL);
"""


def now() -> float:
    return datetime.now(UTC).timestamp()


@dataclass
class Stack:
    stack_id: str
    name: str
    status: str
    created: float
    reason: str = ""
    updated: float | None = None
    deleted: float | None = None
    # doc: template body, processed template, parameters, outputs, tags, description, base_dir
    doc: dict[str, Any] = field(default_factory=dict)


@dataclass
class Resource:
    logical_id: str
    type: str
    physical_id: str = ""
    status: str = ""
    reason: str = ""
    properties: dict[str, Any] = field(default_factory=dict)  # as resolved when applied
    attributes: dict[str, Any] = field(default_factory=dict)  # for Fn::GetAtt
    updated: float = 0.0
    # The template's DeletionPolicy / UpdateReplacePolicy, when set.
    policies: dict[str, str] = field(default_factory=dict)

    def to_doc(self) -> dict[str, Any]:
        return dict(self.__dict__)


class StackStore:
    def __init__(self, data_dir: Path) -> None:
        self.db: sqlite3.Connection = open_db(data_dir / "cloudformation.db")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- stacks ---------------------------------------------------------------------------
    def new_stack_id(self, region: str, account: str, name: str) -> str:
        return f"arn:aws:cloudformation:{region}:{account}:stack/{name}/{uuid.uuid4()}"

    def put_stack(self, stack: Stack) -> None:
        with transaction(self.db):
            self.db.execute(
                "INSERT OR REPLACE INTO stacks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stack.stack_id,
                    stack.name,
                    stack.status,
                    stack.reason,
                    stack.created,
                    stack.updated,
                    stack.deleted,
                    json.dumps(stack.doc),
                ),
            )

    def _row(self, row: tuple[Any, ...] | None) -> Stack | None:
        if row is None:
            return None
        sid, name, status, reason, created, updated, deleted, doc = row
        return Stack(sid, name, status, created, reason or "", updated, deleted, json.loads(doc))

    def find(self, name_or_id: str) -> Stack | None:
        """A live stack by name, or any stack (deleted ones too) by its id, as AWS resolves."""
        if name_or_id.startswith("arn:"):
            row = self.db.execute("SELECT * FROM stacks WHERE stack_id = ?", (name_or_id,))
        else:
            row = self.db.execute(
                "SELECT * FROM stacks WHERE name = ? AND deleted IS NULL", (name_or_id,)
            )
        return self._row(row.fetchone())

    def stacks(self, include_deleted: bool = False) -> list[Stack]:
        sql = "SELECT * FROM stacks" + ("" if include_deleted else " WHERE deleted IS NULL")
        rows = self.db.execute(sql + " ORDER BY created DESC").fetchall()
        return [s for s in map(self._row, rows) if s is not None]

    # -- resources ------------------------------------------------------------------------
    def put_resource(self, stack_id: str, res: Resource) -> None:
        with transaction(self.db):
            self.db.execute(
                "INSERT OR REPLACE INTO resources VALUES (?, ?, ?)",
                (stack_id, res.logical_id, json.dumps(res.to_doc())),
            )

    def drop_resource(self, stack_id: str, logical_id: str) -> None:
        with transaction(self.db):
            self.db.execute(
                "DELETE FROM resources WHERE stack_id = ? AND logical_id = ?",
                (stack_id, logical_id),
            )

    def resources(self, stack_id: str) -> dict[str, Resource]:
        rows = self.db.execute(
            "SELECT doc FROM resources WHERE stack_id = ? ORDER BY rowid", (stack_id,)
        )
        out = {}
        for (doc,) in rows:
            res = Resource(**json.loads(doc))
            out[res.logical_id] = res
        return out

    # -- events ---------------------------------------------------------------------------
    def add_event(
        self,
        stack: Stack,
        logical_id: str,
        physical_id: str,
        rtype: str,
        status: str,
        reason: str = "",
    ) -> None:
        doc = {
            "StackId": stack.stack_id,
            "EventId": str(uuid.uuid4()),
            "StackName": stack.name,
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": physical_id,
            "ResourceType": rtype,
            "Timestamp": now(),
            "ResourceStatus": status,
        }
        if reason:
            doc["ResourceStatusReason"] = reason
        with transaction(self.db):
            self.db.execute(
                "INSERT INTO events (stack_id, doc) VALUES (?, ?)",
                (stack.stack_id, json.dumps(doc)),
            )

    def events(self, stack_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT doc FROM events WHERE stack_id = ? ORDER BY seq DESC", (stack_id,)
        )
        return [json.loads(doc) for (doc,) in rows]

    # -- exports --------------------------------------------------------------------------
    def export_owner(self, name: str) -> str | None:
        row = self.db.execute("SELECT stack_id FROM exports WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def export(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM exports WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else None

    def exports(self) -> list[tuple[str, Any, str]]:
        rows = self.db.execute("SELECT name, value, stack_id FROM exports ORDER BY name")
        return [(name, json.loads(value), sid) for name, value, sid in rows]

    def set_exports(self, stack_id: str, exports: dict[str, Any]) -> None:
        with transaction(self.db):
            self.db.execute("DELETE FROM exports WHERE stack_id = ?", (stack_id,))
            self.db.executemany(
                "INSERT INTO exports VALUES (?, ?, ?)",
                [(name, json.dumps(value), stack_id) for name, value in exports.items()],
            )
