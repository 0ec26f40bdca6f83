"""Guardrails on disk: the working draft per guardrail and its immutable numbered versions."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nimbus.storage import open_db, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS guardrails (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    next_version INTEGER NOT NULL DEFAULT 1,
    token TEXT,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS guardrail_versions (
    id TEXT NOT NULL REFERENCES guardrails (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    created REAL NOT NULL,
    token TEXT,
    doc TEXT NOT NULL,
    PRIMARY KEY (id, version)
);
"""


@dataclass(frozen=True, slots=True)
class Stored:
    id: str
    version: str  # "DRAFT" or "1", "2", ...
    created: float
    updated: float
    doc: dict[str, Any]


class GuardrailStore:
    def __init__(self, data_dir: Path) -> None:
        self.db = open_db(data_dir / "guardrails.db")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @staticmethod
    def _draft(row: tuple) -> Stored:
        return Stored(row[0], "DRAFT", row[1], row[2], json.loads(row[3]))

    def create(self, gid: str, doc: dict[str, Any], token: str | None) -> float | None:
        """Add a guardrail; its creation time, or None when the name is taken."""
        now = time.time()
        try:
            with transaction(self.db) as db:
                db.execute(
                    "INSERT INTO guardrails (id, name, created, updated, token, doc) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (gid, doc["name"], now, now, token, json.dumps(doc)),
                )
        except sqlite3.IntegrityError:
            return None
        return now

    def by_token(self, token: str) -> Stored | None:
        row = self.db.execute(
            "SELECT id, created, updated, doc FROM guardrails WHERE token = ?", (token,)
        ).fetchone()
        return self._draft(row) if row else None

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM guardrails").fetchone()[0]

    def draft(self, gid: str) -> Stored | None:
        row = self.db.execute(
            "SELECT id, created, updated, doc FROM guardrails WHERE id = ?", (gid,)
        ).fetchone()
        return self._draft(row) if row else None

    def drafts(self) -> list[Stored]:
        rows = self.db.execute(
            "SELECT id, created, updated, doc FROM guardrails ORDER BY created, id"
        ).fetchall()
        return [self._draft(row) for row in rows]

    def update(self, gid: str, doc: dict[str, Any]) -> float | None:
        """Replace the draft; its update time, or None when another guardrail has the name."""
        now = time.time()
        try:
            with transaction(self.db) as db:
                db.execute(
                    "UPDATE guardrails SET name = ?, doc = ?, updated = ? WHERE id = ?",
                    (doc["name"], json.dumps(doc), now, gid),
                )
        except sqlite3.IntegrityError:
            return None
        return now

    def add_version(self, gid: str, description: str | None, token: str | None) -> str:
        """Snapshot the draft as the next version number (numbers are never reused)."""
        with transaction(self.db) as db:
            if token:
                row = db.execute(
                    "SELECT version FROM guardrail_versions WHERE id = ? AND token = ?",
                    (gid, token),
                ).fetchone()
                if row:
                    return str(row[0])
            number, raw = db.execute(
                "SELECT next_version, doc FROM guardrails WHERE id = ?", (gid,)
            ).fetchone()
            doc = json.loads(raw)
            if description:
                doc["description"] = description
            db.execute(
                "INSERT INTO guardrail_versions (id, version, created, token, doc) "
                "VALUES (?, ?, ?, ?, ?)",
                (gid, number, time.time(), token, json.dumps(doc)),
            )
            db.execute("UPDATE guardrails SET next_version = ? WHERE id = ?", (number + 1, gid))
        return str(number)

    def version(self, gid: str, number: int) -> Stored | None:
        row = self.db.execute(
            "SELECT created, doc FROM guardrail_versions WHERE id = ? AND version = ?",
            (gid, number),
        ).fetchone()
        if row is None:
            return None
        return Stored(gid, str(number), row[0], row[0], json.loads(row[1]))

    def versions(self, gid: str) -> list[Stored]:
        rows = self.db.execute(
            "SELECT version, created, doc FROM guardrail_versions WHERE id = ? ORDER BY version",
            (gid,),
        ).fetchall()
        return [Stored(gid, str(r[0]), r[1], r[1], json.loads(r[2])) for r in rows]

    def count_versions(self, gid: str) -> int:
        return self.db.execute(
            "SELECT COUNT(*) FROM guardrail_versions WHERE id = ?", (gid,)
        ).fetchone()[0]

    def delete(self, gid: str) -> bool:
        with transaction(self.db) as db:
            return db.execute("DELETE FROM guardrails WHERE id = ?", (gid,)).rowcount == 1

    def delete_version(self, gid: str, number: int) -> bool:
        with transaction(self.db) as db:
            cur = db.execute(
                "DELETE FROM guardrail_versions WHERE id = ? AND version = ?", (gid, number)
            )
            return cur.rowcount == 1
