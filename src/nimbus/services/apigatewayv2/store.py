"""API state in SQLite: one row per API and one per child resource (route, integration, stage,
authorizer, deployment, route/integration response), each kept as the JSON of its botocore
output shape."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nimbus.storage import open_db, transaction

KINDS = (
    "route",
    "integration",
    "stage",
    "authorizer",
    "deployment",
    "routeresponse",  # WebSocket APIs
    "integrationresponse",
)
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_id(length: int = 7) -> str:
    """AWS shapes: api ids are 10 lowercase alphanumerics, child ids 7."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


class ApiStore:
    def __init__(self, path: Path) -> None:
        self.db: sqlite3.Connection = open_db(path)
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS apis (
                api_id TEXT PRIMARY KEY, doc TEXT NOT NULL, created REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS children (
                api_id TEXT NOT NULL REFERENCES apis(api_id) ON DELETE CASCADE,
                kind TEXT NOT NULL, child_id TEXT NOT NULL, doc TEXT NOT NULL,
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                UNIQUE (api_id, kind, child_id));
            """
        )
        # Listeners (the data plane's compiled-API cache) hear about every write to an API.
        self.listeners: list[Callable[[str], None]] = []

    def _changed(self, api_id: str) -> None:
        for listener in self.listeners:
            listener(api_id)

    # -- APIs ------------------------------------------------------------------------------
    def put_api(self, api_id: str, doc: dict[str, Any], created: float) -> None:
        with transaction(self.db):
            self.db.execute(
                "INSERT INTO apis (api_id, doc, created) VALUES (?, ?, ?) "
                "ON CONFLICT(api_id) DO UPDATE SET doc = excluded.doc",
                (api_id, json.dumps(doc), created),
            )
        self._changed(api_id)

    def get_api(self, api_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT doc FROM apis WHERE api_id = ?", (api_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def list_apis(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT doc FROM apis ORDER BY created, api_id").fetchall()
        return [json.loads(doc) for (doc,) in rows]

    def delete_api(self, api_id: str) -> bool:
        with transaction(self.db):
            gone = self.db.execute("DELETE FROM apis WHERE api_id = ?", (api_id,)).rowcount
        self._changed(api_id)
        return bool(gone)

    # -- child resources -------------------------------------------------------------------
    def put_child(self, api_id: str, kind: str, child_id: str, doc: dict[str, Any]) -> None:
        with transaction(self.db):
            self.db.execute(
                "INSERT INTO children (api_id, kind, child_id, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(api_id, kind, child_id) DO UPDATE SET doc = excluded.doc",
                (api_id, kind, child_id, json.dumps(doc)),
            )
        self._changed(api_id)

    def get_child(self, api_id: str, kind: str, child_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT doc FROM children WHERE api_id = ? AND kind = ? AND child_id = ?",
            (api_id, kind, child_id),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def list_children(self, api_id: str, kind: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT doc FROM children WHERE api_id = ? AND kind = ? ORDER BY seq",
            (api_id, kind),
        ).fetchall()
        return [json.loads(doc) for (doc,) in rows]

    def delete_child(self, api_id: str, kind: str, child_id: str) -> bool:
        with transaction(self.db):
            gone = self.db.execute(
                "DELETE FROM children WHERE api_id = ? AND kind = ? AND child_id = ?",
                (api_id, kind, child_id),
            ).rowcount
        self._changed(api_id)
        return bool(gone)

    def replace_children(
        self, api_id: str, kinds: tuple[str, ...], docs: list[tuple[str, str, dict[str, Any]]]
    ) -> None:
        """ReimportApi: drop ``kinds`` and write ``docs`` (kind, id, doc) in one transaction."""
        with transaction(self.db):
            for kind in kinds:
                self.db.execute(
                    "DELETE FROM children WHERE api_id = ? AND kind = ?", (api_id, kind)
                )
            self.db.executemany(
                "INSERT INTO children (api_id, kind, child_id, doc) VALUES (?, ?, ?, ?)",
                [(api_id, kind, cid, json.dumps(doc)) for kind, cid, doc in docs],
            )
        self._changed(api_id)

    def close(self) -> None:
        self.db.close()
