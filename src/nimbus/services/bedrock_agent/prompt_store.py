"""Prompts on disk: the working draft per prompt and its immutable numbered versions."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nimbus.storage import open_db, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS prompts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    next_version INTEGER NOT NULL DEFAULT 1,
    token TEXT,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS prompt_versions (
    id TEXT NOT NULL REFERENCES prompts (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    created REAL NOT NULL,
    token TEXT,
    doc TEXT NOT NULL,
    PRIMARY KEY (id, version)
);
"""


@dataclass(frozen=True, slots=True)
class StoredPrompt:
    id: str
    version: str  # "DRAFT" or "1", "2", ...
    created: float
    updated: float
    doc: dict[str, Any]


class PromptStore:
    def __init__(self, data_dir: Path) -> None:
        self.db = open_db(data_dir / "prompts.db")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @staticmethod
    def _draft(row: tuple) -> StoredPrompt:
        return StoredPrompt(row[0], "DRAFT", row[1], row[2], json.loads(row[3]))

    def create(self, pid: str, doc: dict[str, Any], token: str | None) -> StoredPrompt | None:
        """Add a prompt; None when the name is taken."""
        now = time.time()
        try:
            with transaction(self.db) as db:
                db.execute(
                    "INSERT INTO prompts (id, name, created, updated, token, doc) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (pid, doc["name"], now, now, token, json.dumps(doc)),
                )
        except sqlite3.IntegrityError:
            return None
        return StoredPrompt(pid, "DRAFT", now, now, doc)

    def by_token(self, token: str) -> StoredPrompt | None:
        row = self.db.execute(
            "SELECT id, created, updated, doc FROM prompts WHERE token = ?", (token,)
        ).fetchone()
        return self._draft(row) if row else None

    def draft(self, pid: str) -> StoredPrompt | None:
        row = self.db.execute(
            "SELECT id, created, updated, doc FROM prompts WHERE id = ?", (pid,)
        ).fetchone()
        return self._draft(row) if row else None

    def drafts(self) -> list[StoredPrompt]:
        rows = self.db.execute(
            "SELECT id, created, updated, doc FROM prompts ORDER BY created, id"
        ).fetchall()
        return [self._draft(row) for row in rows]

    def update(self, pid: str, doc: dict[str, Any]) -> StoredPrompt | None:
        """Replace the draft; None when another prompt has the name."""
        now = time.time()
        try:
            with transaction(self.db) as db:
                db.execute(
                    "UPDATE prompts SET name = ?, doc = ?, updated = ? WHERE id = ?",
                    (doc["name"], json.dumps(doc), now, pid),
                )
                created = db.execute("SELECT created FROM prompts WHERE id = ?", (pid,)).fetchone()
        except sqlite3.IntegrityError:
            return None
        return StoredPrompt(pid, "DRAFT", created[0], now, doc)

    def add_version(self, pid: str, description: str | None, token: str | None) -> StoredPrompt:
        """Snapshot the draft as the next version number (numbers are never reused)."""
        with transaction(self.db) as db:
            if token:
                row = db.execute(
                    "SELECT version FROM prompt_versions WHERE id = ? AND token = ?", (pid, token)
                ).fetchone()
                if row:
                    number = row[0]
                    return self.version(pid, number)  # type: ignore[return-value]
            number, raw = db.execute(
                "SELECT next_version, doc FROM prompts WHERE id = ?", (pid,)
            ).fetchone()
            doc = json.loads(raw)
            if description:
                doc["description"] = description
            now = time.time()
            db.execute(
                "INSERT INTO prompt_versions (id, version, created, token, doc) "
                "VALUES (?, ?, ?, ?, ?)",
                (pid, number, now, token, json.dumps(doc)),
            )
            db.execute("UPDATE prompts SET next_version = ? WHERE id = ?", (number + 1, pid))
        return StoredPrompt(pid, str(number), now, now, doc)

    def version(self, pid: str, number: int) -> StoredPrompt | None:
        row = self.db.execute(
            "SELECT created, doc FROM prompt_versions WHERE id = ? AND version = ?", (pid, number)
        ).fetchone()
        if row is None:
            return None
        return StoredPrompt(pid, str(number), row[0], row[0], json.loads(row[1]))

    def versions(self, pid: str) -> list[StoredPrompt]:
        rows = self.db.execute(
            "SELECT version, created, doc FROM prompt_versions WHERE id = ? ORDER BY version",
            (pid,),
        ).fetchall()
        return [StoredPrompt(pid, str(r[0]), r[1], r[1], json.loads(r[2])) for r in rows]

    def delete(self, pid: str) -> bool:
        with transaction(self.db) as db:
            return db.execute("DELETE FROM prompts WHERE id = ?", (pid,)).rowcount == 1

    def delete_version(self, pid: str, number: int) -> bool:
        with transaction(self.db) as db:
            cur = db.execute(
                "DELETE FROM prompt_versions WHERE id = ? AND version = ?", (pid, number)
            )
            return cur.rowcount == 1
