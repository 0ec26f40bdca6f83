"""Durable state of published function versions, aliases and layer versions (in lambda.db)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from nimbus.services.lambda_.store import FunctionRecord
from nimbus.storage import transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    function TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (function, version)
);
CREATE TABLE IF NOT EXISTS aliases (
    function TEXT NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (function, name)
);
CREATE TABLE IF NOT EXISTS layer_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS sequences (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
);
"""


def version_doc(rec: FunctionRecord) -> dict[str, Any]:
    return {
        "config": rec.config,
        "code_sha": rec.code_sha,
        "code_size": rec.code_size,
        "code_path": rec.code_path,
        "last_modified": rec.last_modified,
        "revision": rec.revision,
        "policy": rec.policy,
        "event_config": rec.event_config,
    }


def version_record(latest: FunctionRecord, number: int, doc: dict[str, Any]) -> FunctionRecord:
    """A published version; concurrency and tags are the function's, not the version's."""
    return FunctionRecord(
        name=latest.name,
        config=doc["config"],
        code_sha=doc["code_sha"],
        code_size=doc["code_size"],
        code_path=doc["code_path"],
        local=False,
        last_modified=doc["last_modified"],
        revision=doc["revision"],
        concurrency=latest.concurrency,
        policy=doc.get("policy"),
        event_config=doc.get("event_config"),
        tags=latest.tags,
        version=str(number),
    )


class VersionStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.db.executescript(SCHEMA)

    # -- numbering (never reused: a deleted version's number is not given out again) -------
    def next_number(self, kind: str, name: str) -> int:
        with transaction(self.db) as db:
            row = db.execute(
                "SELECT last FROM sequences WHERE kind = ? AND name = ?", (kind, name)
            ).fetchone()
            number = (row[0] if row else 0) + 1
            db.execute(
                "INSERT OR REPLACE INTO sequences (kind, name, last) VALUES (?, ?, ?)",
                (kind, name, number),
            )
        return number

    # -- function versions --------------------------------------------------------------------
    def put_version(self, name: str, number: int, doc: dict[str, Any]) -> None:
        with transaction(self.db) as db:
            db.execute(
                "INSERT OR REPLACE INTO versions (function, version, doc) VALUES (?, ?, ?)",
                (name, number, json.dumps(doc)),
            )

    def version(self, name: str, number: int) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT doc FROM versions WHERE function = ? AND version = ?", (name, number)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def versions(self, name: str) -> list[tuple[int, dict[str, Any]]]:
        rows = self.db.execute(
            "SELECT version, doc FROM versions WHERE function = ? ORDER BY version", (name,)
        )
        return [(n, json.loads(doc)) for n, doc in rows]

    def latest_version(self, name: str) -> tuple[int, dict[str, Any]] | None:
        row = self.db.execute(
            "SELECT version, doc FROM versions WHERE function = ? ORDER BY version DESC LIMIT 1",
            (name,),
        ).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def delete_version(self, name: str, number: int) -> None:
        with transaction(self.db) as db:
            db.execute("DELETE FROM versions WHERE function = ? AND version = ?", (name, number))

    def delete_function(self, name: str) -> None:
        """A deleted function takes its versions, aliases and numbering with it."""
        with transaction(self.db) as db:
            db.execute("DELETE FROM versions WHERE function = ?", (name,))
            db.execute("DELETE FROM aliases WHERE function = ?", (name,))
            db.execute("DELETE FROM sequences WHERE kind = 'function' AND name = ?", (name,))
            db.execute(  # queued asynchronous invokes of its versions and aliases
                "DELETE FROM async_queue WHERE substr(function, 1, ?) = ?",
                (len(name) + 1, f"{name}:"),
            )

    # -- aliases ------------------------------------------------------------------------------
    def put_alias(self, function: str, doc: dict[str, Any]) -> None:
        with transaction(self.db) as db:
            db.execute(
                "INSERT OR REPLACE INTO aliases (function, name, doc) VALUES (?, ?, ?)",
                (function, doc["Name"], json.dumps(doc)),
            )

    def alias(self, function: str, name: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT doc FROM aliases WHERE function = ? AND name = ?", (function, name)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def aliases(self, function: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT doc FROM aliases WHERE function = ? ORDER BY name", (function,)
        )
        return [json.loads(doc) for (doc,) in rows]

    def delete_alias(self, function: str, name: str) -> None:
        with transaction(self.db) as db:
            db.execute("DELETE FROM aliases WHERE function = ? AND name = ?", (function, name))

    # -- layer versions -----------------------------------------------------------------------
    def put_layer(self, name: str, number: int, doc: dict[str, Any]) -> None:
        with transaction(self.db) as db:
            db.execute(
                "INSERT OR REPLACE INTO layer_versions (name, version, doc) VALUES (?, ?, ?)",
                (name, number, json.dumps(doc)),
            )

    def layer(self, name: str, number: int) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT doc FROM layer_versions WHERE name = ? AND version = ?", (name, number)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def layer_versions(self, name: str | None = None) -> list[dict[str, Any]]:
        """Newest first; every layer's versions when ``name`` is None."""
        rows = self.db.execute(
            "SELECT doc FROM layer_versions WHERE ? IS NULL OR name = ? "
            "ORDER BY name, version DESC",
            (name, name),
        )
        return [json.loads(doc) for (doc,) in rows]

    def delete_layer(self, name: str, number: int) -> None:
        with transaction(self.db) as db:
            db.execute("DELETE FROM layer_versions WHERE name = ? AND version = ?", (name, number))
