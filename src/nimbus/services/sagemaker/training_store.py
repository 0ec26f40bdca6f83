"""Training jobs in SQLite (``training.db`` under the sagemaker data dir).

A job is one row: its name, the columns ListTrainingJobs filters and sorts on, and the
DescribeTrainingJob document as JSON (timestamps as epoch seconds; keys starting with ``_``
are Nimbus's own bookkeeping, such as the pid of the running script).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from nimbus.storage import open_db, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS training_jobs (
    name TEXT PRIMARY KEY, created REAL NOT NULL, modified REAL NOT NULL,
    status TEXT NOT NULL, doc TEXT NOT NULL);
"""


class TrainingStore:
    def __init__(self, data_dir: Path) -> None:
        self.db: sqlite3.Connection = open_db(data_dir / "training.db")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def get(self, name: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT doc FROM training_jobs WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else None

    def exists(self, name: str) -> bool:
        row = self.db.execute("SELECT 1 FROM training_jobs WHERE name = ?", (name,)).fetchone()
        return row is not None

    def put(self, doc: dict[str, Any]) -> None:
        with transaction(self.db):
            self.db.execute(
                "INSERT OR REPLACE INTO training_jobs VALUES (?, ?, ?, ?, ?)",
                (
                    doc["TrainingJobName"],
                    doc["CreationTime"],
                    doc["LastModifiedTime"],
                    doc["TrainingJobStatus"],
                    json.dumps(doc),
                ),
            )

    def summaries(self) -> list[dict[str, Any]]:
        """Every job's document, for ListTrainingJobs to filter and sort."""
        rows = self.db.execute("SELECT doc FROM training_jobs").fetchall()
        return [json.loads(row[0]) for row in rows]

    def unfinished(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT doc FROM training_jobs WHERE status IN ('InProgress', 'Stopping')"
        ).fetchall()
        return [json.loads(row[0]) for row in rows]
