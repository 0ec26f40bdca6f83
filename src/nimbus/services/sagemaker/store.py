"""SageMaker's durable state: models, endpoint configs and endpoints as JSON documents."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from nimbus.storage import open_db, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    doc TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (kind, key)
);
"""
MODEL, CONFIG, ENDPOINT = "model", "endpoint-config", "endpoint"


def _default(value: Any) -> Any:
    if hasattr(value, "timestamp"):
        return value.timestamp()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot store {type(value).__name__}")


class SageMakerStore:
    """Names compare case-insensitively, as SageMaker's do (and its ARNs are lower-case)."""

    def __init__(self, data_dir: Path) -> None:
        self.db = open_db(data_dir / "sagemaker.db")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT doc FROM resources WHERE kind = ? AND key = ?", (kind, name.lower())
        ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, kind: str, name: str, doc: dict[str, Any]) -> None:
        with transaction(self.db) as db:
            db.execute(
                "INSERT INTO resources (kind, key, doc, created) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc",
                (kind, name.lower(), json.dumps(doc, default=_default), time.time()),
            )

    def insert(self, kind: str, name: str, doc: dict[str, Any]) -> bool:
        """Add a new document; False when the name is taken."""
        with transaction(self.db) as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO resources (kind, key, doc, created) VALUES (?, ?, ?, ?)",
                (kind, name.lower(), json.dumps(doc, default=_default), time.time()),
            )
            return cur.rowcount == 1

    def delete(self, kind: str, name: str) -> bool:
        with transaction(self.db) as db:
            cur = db.execute(
                "DELETE FROM resources WHERE kind = ? AND key = ?", (kind, name.lower())
            )
            return cur.rowcount == 1

    def all(self, kind: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT doc FROM resources WHERE kind = ? ORDER BY created", (kind,)
        ).fetchall()
        return [json.loads(row[0]) for row in rows]
