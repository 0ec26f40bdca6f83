"""Documents with a working draft and immutable numbered versions, in SQLite: guardrails and
prompts (Bedrock versions both the same way), and the paging of their List operations."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nimbus.aws.errors import validation
from nimbus.storage import open_db, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS {drafts} (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    next_version INTEGER NOT NULL DEFAULT 1,
    token TEXT,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {versions} (
    id TEXT NOT NULL REFERENCES {drafts} (id) ON DELETE CASCADE,
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


def epoch_time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def page(items: list[Any], next_token: str | None, size: int, kind: str) -> tuple[list, str | None]:
    """One page of a List operation and the token of the next (``kind`` tells tokens apart)."""
    start = 0
    if next_token:
        try:
            found, _, offset = base64.urlsafe_b64decode(next_token.encode()).decode().partition(":")
            start = int(offset) if found == kind else -1
        except ValueError:
            start = -1
        if start < 0:
            raise validation("The nextToken is not valid; pass the nextToken of the previous page.")
    end = start + size
    token = base64.urlsafe_b64encode(f"{kind}:{end}".encode()).decode()
    return items[start:end], token if end < len(items) else None


class VersionedStore:
    def __init__(self, path: Path, drafts: str, versions: str) -> None:
        # Table names come from the code (constants), never from a request.
        self.db = open_db(path)
        self.db.executescript(_SCHEMA.format(drafts=drafts, versions=versions))
        self._drafts, self._versions = drafts, versions

    def close(self) -> None:
        self.db.close()

    @staticmethod
    def _draft(row: tuple) -> Stored:
        return Stored(row[0], "DRAFT", row[1], row[2], json.loads(row[3]))

    def create(self, key: str, doc: dict[str, Any], token: str | None) -> Stored | None:
        """Add a draft; None when the name is taken."""
        now = time.time()
        try:
            with transaction(self.db) as db:
                db.execute(
                    f"INSERT INTO {self._drafts} (id, name, created, updated, token, doc) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (key, doc["name"], now, now, token, json.dumps(doc)),
                )
        except sqlite3.IntegrityError:
            return None
        return Stored(key, "DRAFT", now, now, doc)

    def by_token(self, token: str) -> Stored | None:
        row = self.db.execute(
            f"SELECT id, created, updated, doc FROM {self._drafts} WHERE token = ?", (token,)
        ).fetchone()
        return self._draft(row) if row else None

    def count(self) -> int:
        return self.db.execute(f"SELECT COUNT(*) FROM {self._drafts}").fetchone()[0]

    def draft(self, key: str) -> Stored | None:
        row = self.db.execute(
            f"SELECT id, created, updated, doc FROM {self._drafts} WHERE id = ?", (key,)
        ).fetchone()
        return self._draft(row) if row else None

    def drafts(self) -> list[Stored]:
        rows = self.db.execute(
            f"SELECT id, created, updated, doc FROM {self._drafts} ORDER BY created, id"
        ).fetchall()
        return [self._draft(row) for row in rows]

    def update(self, key: str, doc: dict[str, Any]) -> Stored | None:
        """Replace the draft; None when another draft has the name."""
        now = time.time()
        try:
            with transaction(self.db) as db:
                db.execute(
                    f"UPDATE {self._drafts} SET name = ?, doc = ?, updated = ? WHERE id = ?",
                    (doc["name"], json.dumps(doc), now, key),
                )
                created = db.execute(
                    f"SELECT created FROM {self._drafts} WHERE id = ?", (key,)
                ).fetchone()
        except sqlite3.IntegrityError:
            return None
        return Stored(key, "DRAFT", created[0], now, doc)

    def add_version(self, key: str, description: str | None, token: str | None) -> Stored:
        """Snapshot the draft as the next version number (numbers are never reused); a repeated
        client token gives the version it made before."""
        with transaction(self.db) as db:
            if token:
                row = db.execute(
                    f"SELECT version FROM {self._versions} WHERE id = ? AND token = ?",
                    (key, token),
                ).fetchone()
                if row:
                    return self.version(key, row[0])  # type: ignore[return-value]
            number, raw = db.execute(
                f"SELECT next_version, doc FROM {self._drafts} WHERE id = ?", (key,)
            ).fetchone()
            doc = json.loads(raw)
            if description:
                doc["description"] = description
            now = time.time()
            db.execute(
                f"INSERT INTO {self._versions} (id, version, created, token, doc) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, number, now, token, json.dumps(doc)),
            )
            db.execute(
                f"UPDATE {self._drafts} SET next_version = ? WHERE id = ?", (number + 1, key)
            )
        return Stored(key, str(number), now, now, doc)

    def version(self, key: str, number: int) -> Stored | None:
        row = self.db.execute(
            f"SELECT created, doc FROM {self._versions} WHERE id = ? AND version = ?",
            (key, number),
        ).fetchone()
        if row is None:
            return None
        return Stored(key, str(number), row[0], row[0], json.loads(row[1]))

    def versions(self, key: str) -> list[Stored]:
        rows = self.db.execute(
            f"SELECT version, created, doc FROM {self._versions} WHERE id = ? ORDER BY version",
            (key,),
        ).fetchall()
        return [Stored(key, str(r[0]), r[1], r[1], json.loads(r[2])) for r in rows]

    def count_versions(self, key: str) -> int:
        return self.db.execute(
            f"SELECT COUNT(*) FROM {self._versions} WHERE id = ?", (key,)
        ).fetchone()[0]

    def delete(self, key: str) -> bool:
        with transaction(self.db) as db:
            return db.execute(f"DELETE FROM {self._drafts} WHERE id = ?", (key,)).rowcount == 1

    def delete_version(self, key: str, number: int) -> bool:
        with transaction(self.db) as db:
            cur = db.execute(
                f"DELETE FROM {self._versions} WHERE id = ? AND version = ?", (key, number)
            )
            return cur.rowcount == 1
