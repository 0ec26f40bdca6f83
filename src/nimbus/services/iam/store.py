"""The IAM SQLite schema and the helpers every engine part shares (ids, time, validation)."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import string
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.storage import open_db, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS users(
  name TEXT PRIMARY KEY COLLATE NOCASE, id TEXT NOT NULL, path TEXT NOT NULL,
  created REAL NOT NULL, tags TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS access_keys(
  id TEXT PRIMARY KEY, secret TEXT NOT NULL, user_name TEXT NOT NULL COLLATE NOCASE,
  status TEXT NOT NULL, created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS access_keys_user ON access_keys(user_name);
CREATE TABLE IF NOT EXISTS roles(
  name TEXT PRIMARY KEY COLLATE NOCASE, id TEXT NOT NULL, path TEXT NOT NULL,
  created REAL NOT NULL, trust TEXT NOT NULL, description TEXT,
  max_session INTEGER NOT NULL, tags TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS groups_(
  name TEXT PRIMARY KEY COLLATE NOCASE, id TEXT NOT NULL, path TEXT NOT NULL,
  created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS group_members(
  group_name TEXT NOT NULL COLLATE NOCASE, user_name TEXT NOT NULL COLLATE NOCASE,
  PRIMARY KEY(group_name, user_name));
CREATE TABLE IF NOT EXISTS inline_policies(
  kind TEXT NOT NULL, owner TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL COLLATE NOCASE,
  document TEXT NOT NULL, PRIMARY KEY(kind, owner, name));
CREATE TABLE IF NOT EXISTS managed_policies(
  arn TEXT PRIMARY KEY, name TEXT NOT NULL COLLATE NOCASE UNIQUE, id TEXT NOT NULL,
  path TEXT NOT NULL, description TEXT, default_version TEXT NOT NULL,
  next_version INTEGER NOT NULL, created REAL NOT NULL, updated REAL NOT NULL,
  tags TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS policy_versions(
  arn TEXT NOT NULL, version TEXT NOT NULL, document TEXT NOT NULL, created REAL NOT NULL,
  PRIMARY KEY(arn, version));
CREATE TABLE IF NOT EXISTS attachments(
  kind TEXT NOT NULL, owner TEXT NOT NULL COLLATE NOCASE, policy_arn TEXT NOT NULL,
  PRIMARY KEY(kind, owner, policy_arn));
CREATE INDEX IF NOT EXISTS attachments_arn ON attachments(policy_arn);
CREATE TABLE IF NOT EXISTS sessions(
  access_key TEXT PRIMARY KEY, secret TEXT NOT NULL, token TEXT NOT NULL,
  kind TEXT NOT NULL, name TEXT NOT NULL, principal_id TEXT NOT NULL,
  session_name TEXT NOT NULL, expiration REAL NOT NULL, created REAL NOT NULL);
"""

_ID_CHARS = string.ascii_uppercase + string.digits
_SECRET_CHARS = string.ascii_letters + string.digits + "+/"
NAME_RE = re.compile(r"^[\w+=,.@-]+$")


def new_id(prefix: str, length: int = 17) -> str:
    """AWS-shaped unique ids: AIDA (user), AROA (role), AGPA (group), ANPA (policy)..."""
    return prefix + "".join(secrets.choice(_ID_CHARS) for _ in range(length))


def new_secret(length: int = 40) -> str:
    return "".join(secrets.choice(_SECRET_CHARS) for _ in range(length))


def now() -> float:
    return time.time()


def to_dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def no_such_entity(message: str) -> AwsError:
    return AwsError("NoSuchEntity", message, 404)


def already_exists(message: str) -> AwsError:
    return AwsError("EntityAlreadyExists", message, 409)


def delete_conflict(message: str) -> AwsError:
    return AwsError("DeleteConflict", message, 409)


def validate_name(name: Any, what: str, max_len: int = 64) -> str:
    if not isinstance(name, str) or not name or len(name) > max_len or not NAME_RE.match(name):
        raise AwsError(
            "ValidationError",
            f"1 validation error detected: Value '{name}' at '{what}' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ "
            f"and length between 1 and {max_len}",
            400,
        )
    return name


def validate_path(path: Any) -> str:
    if path is None:
        return "/"
    if not isinstance(path, str) or not path.startswith("/") or not path.endswith("/"):
        raise AwsError(
            "ValidationError",
            "The specified value for path is invalid. "
            "It must begin and end with / and contain only alphanumeric "
            "characters and/or / characters.",
            400,
        )
    return path


def validate_tags(tags: Any) -> list[dict[str, str]]:
    tags = tags or []
    if len(tags) > 50:
        raise AwsError("LimitExceeded", "Cannot exceed quota for TagsPerResource: 50", 409)
    for tag in tags:
        if not isinstance(tag, dict) or not tag.get("Key") or "Value" not in tag:
            raise AwsError("InvalidInput", "Tags must have a Key and a Value.", 400)
    return [{"Key": t["Key"], "Value": t["Value"]} for t in tags]


def merge_tags(old: str, new: list[dict[str, str]]) -> str:
    merged = {t["Key"]: t["Value"] for t in json.loads(old)}
    merged.update({t["Key"]: t["Value"] for t in new})
    return json.dumps([{"Key": k, "Value": v} for k, v in merged.items()])


class Store:
    """The connection, the account, and the write transaction that drops the caches."""

    def __init__(self, db_path: Path, account_id: str) -> None:
        self.db: sqlite3.Connection = open_db(db_path)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)
        self.account_id = account_id

    def _invalidate(self) -> None:
        """Overridden by the engine: every IAM write drops the auth caches."""

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        try:
            with transaction(self.db) as db:
                yield db
        finally:
            self._invalidate()

    def one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        return self.db.execute(sql, args).fetchone()

    def all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return self.db.execute(sql, args).fetchall()

    def arn(self, kind: str, path: str, name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:{kind}{path}{name}"

    def close(self) -> None:
        self.db.close()
