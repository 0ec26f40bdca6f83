"""Lambda's durable state: functions, the asynchronous invocation queue, failed-event records."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nimbus.storage import open_db, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS functions (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    code_sha TEXT NOT NULL,
    code_size INTEGER NOT NULL,
    code_path TEXT NOT NULL,
    local INTEGER NOT NULL DEFAULT 0,
    last_modified TEXT NOT NULL,
    revision TEXT NOT NULL,
    concurrency INTEGER,
    policy TEXT,
    event_config TEXT,
    tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS async_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    function TEXT NOT NULL,
    payload BLOB NOT NULL,
    request_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS async_due ON async_queue (next_at);
CREATE TABLE IF NOT EXISTS failed_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    function TEXT NOT NULL,
    record TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
"""


@dataclass(slots=True)
class FunctionRecord:
    name: str
    config: dict[str, Any]  # the user-settable FunctionConfiguration members
    code_sha: str
    code_size: int
    code_path: str
    local: bool
    last_modified: str
    revision: str
    concurrency: int | None = None
    policy: list[dict[str, Any]] | None = None
    event_config: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    version: str = "$LATEST"  # a published version's number, or $LATEST

    @property
    def pool_key(self) -> str:
        """Execution environments are per function version."""
        return self.name if self.version == "$LATEST" else f"{self.name}:{self.version}"


@dataclass(slots=True)
class QueuedInvoke:
    id: int
    function: str
    payload: bytes
    request_id: str
    attempts: int
    created: float


_COLUMNS = (
    "name, config, code_sha, code_size, code_path, local, last_modified, revision, "
    "concurrency, policy, event_config, tags"
)


def _record(row: tuple[Any, ...]) -> FunctionRecord:
    name, config, sha, size, path, local, modified, rev, conc, policy, events, tags = row
    return FunctionRecord(
        name=name,
        config=json.loads(config),
        code_sha=sha,
        code_size=size,
        code_path=path,
        local=bool(local),
        last_modified=modified,
        revision=rev,
        concurrency=conc,
        policy=json.loads(policy) if policy else None,
        event_config=json.loads(events) if events else None,
        tags=json.loads(tags),
    )


class LambdaStore:
    def __init__(self, data_dir: Path) -> None:
        self.db: sqlite3.Connection = open_db(data_dir / "lambda.db")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- functions ------------------------------------------------------------------------
    def get(self, name: str) -> FunctionRecord | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM functions WHERE name = ?", (name,))
        found = row.fetchone()
        return _record(found) if found else None

    def list(self, after: str, limit: int) -> list[FunctionRecord]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM functions WHERE name > ? ORDER BY name LIMIT ?",
            (after, limit),
        )
        return [_record(r) for r in rows]

    def all(self) -> list[FunctionRecord]:
        return self.list("", 1 << 30)

    def put(self, rec: FunctionRecord) -> None:
        values = (
            rec.name,
            json.dumps(rec.config),
            rec.code_sha,
            rec.code_size,
            rec.code_path,
            int(rec.local),
            rec.last_modified,
            rec.revision,
            rec.concurrency,
            json.dumps(rec.policy) if rec.policy is not None else None,
            json.dumps(rec.event_config) if rec.event_config is not None else None,
            json.dumps(rec.tags),
        )
        with transaction(self.db) as db:
            db.execute(
                f"INSERT OR REPLACE INTO functions ({_COLUMNS}) VALUES ({', '.join('?' * 12)})",
                values,
            )

    def delete(self, name: str) -> None:
        with transaction(self.db) as db:
            db.execute("DELETE FROM functions WHERE name = ?", (name,))
            db.execute("DELETE FROM async_queue WHERE function = ?", (name,))

    def reserved_total(self, excluding: str = "") -> int:
        row = self.db.execute(
            "SELECT COALESCE(SUM(concurrency), 0) FROM functions WHERE name != ?", (excluding,)
        ).fetchone()
        return int(row[0])

    # -- asynchronous invocations ---------------------------------------------------------
    def enqueue(self, function: str, payload: bytes, request_id: str, delay: float = 0.0) -> int:
        now = time.time()
        with transaction(self.db) as db:
            cur = db.execute(
                "INSERT INTO async_queue (function, payload, request_id, next_at, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (function, payload, request_id, now + delay, now),
            )
        return int(cur.lastrowid or 0)

    def due(self, now: float, limit: int, skip: set[int]) -> list[QueuedInvoke]:
        rows = self.db.execute(
            "SELECT id, function, payload, request_id, attempts, created FROM async_queue "
            "WHERE next_at <= ? ORDER BY next_at, id LIMIT ?",
            (now, limit + len(skip)),
        )
        found = [QueuedInvoke(*r) for r in rows if r[0] not in skip]
        return found[:limit]

    def next_due(self) -> float | None:
        row = self.db.execute("SELECT MIN(next_at) FROM async_queue").fetchone()
        return row[0]

    def retry_later(self, item_id: int, attempts: int, delay: float) -> None:
        with transaction(self.db) as db:
            db.execute(
                "UPDATE async_queue SET attempts = ?, next_at = ? WHERE id = ?",
                (attempts, time.time() + delay, item_id),
            )

    def finish(self, item_id: int) -> None:
        with transaction(self.db) as db:
            db.execute("DELETE FROM async_queue WHERE id = ?", (item_id,))

    def record_failure(
        self, kind: str, target: str, function: str, record: dict[str, Any], delivered: bool
    ) -> None:
        with transaction(self.db) as db:
            db.execute(
                "INSERT INTO failed_events (kind, target, function, record, delivered, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (kind, target, function, json.dumps(record), int(delivered), time.time()),
            )

    def failures(self, function: str | None = None) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT kind, target, function, record, delivered FROM failed_events "
            "WHERE ? IS NULL OR function = ? ORDER BY id",
            (function, function),
        )
        return [
            {"kind": k, "target": t, "function": f, "record": json.loads(r), "delivered": bool(d)}
            for k, t, f, r, d in rows
        ]
