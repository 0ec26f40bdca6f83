"""CloudWatch Logs state: log groups, streams and events in one SQLite database.

Events are ordered by (timestamp, rowid); the rowid breaks ties and is the stable cursor that
paging tokens and ``follow`` use. Every write is its own transaction, committed before the
caller acknowledges it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from nimbus.aws.errors import AwsError
from nimbus.services.logs.event_queries import EventQueries
from nimbus.storage import open_db

DAY_MS = 86_400_000
EVENT_OVERHEAD = 26  # bytes AWS counts per event on top of the UTF-8 message
SWEEP_INTERVAL_S = 60.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS log_groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created INTEGER NOT NULL,
    retention_days INTEGER,
    log_group_class TEXT NOT NULL DEFAULT 'STANDARD',
    kms_key_id TEXT,
    deletion_protection INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS log_streams (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    first_event INTEGER,
    last_event INTEGER,
    last_ingestion INTEGER,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    UNIQUE (group_id, name)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE,
    stream_id INTEGER NOT NULL REFERENCES log_streams(id) ON DELETE CASCADE,
    ts INTEGER NOT NULL,
    ingestion INTEGER NOT NULL,
    message TEXT NOT NULL
);
-- GetLogEvents reads one stream, FilterLogEvents one group: both by time.
CREATE INDEX IF NOT EXISTS events_by_stream ON events (stream_id, ts, id);
CREATE INDEX IF NOT EXISTS events_by_group ON events (group_id, ts, id);
"""


@dataclass(slots=True)
class LogGroup:
    id: int
    name: str
    created: int
    retention_days: int | None
    log_group_class: str
    kms_key_id: str | None
    deletion_protection: bool
    tags: dict[str, str]
    stored_bytes: int = 0


@dataclass(slots=True)
class LogStream:
    id: int
    group_id: int
    name: str
    created: int
    first_event: int | None
    last_event: int | None
    last_ingestion: int | None
    stored_bytes: int


def now_ms() -> int:
    return int(time.time() * 1000)


def group_missing() -> AwsError:
    return AwsError("ResourceNotFoundException", "The specified log group does not exist.")


def stream_missing() -> AwsError:
    return AwsError("ResourceNotFoundException", "The specified log stream does not exist.")


class LogsEngine(EventQueries):
    def __init__(self, path: Path) -> None:
        self.db: sqlite3.Connection = open_db(path)
        self.db.executescript(SCHEMA)
        # The Lambda service appends from its own threads; SQLite connections are not
        # safe for concurrent use, so all access is serialised.
        self.lock = threading.RLock()
        self._last_sweep = 0.0

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # --- groups -----------------------------------------------------------------------------

    def _group_row(self, row: tuple) -> LogGroup:
        return LogGroup(
            id=row[0],
            name=row[1],
            created=row[2],
            retention_days=row[3],
            log_group_class=row[4],
            kms_key_id=row[5],
            deletion_protection=bool(row[6]),
            tags=json.loads(row[7]),
            stored_bytes=row[8] or 0,
        )

    _GROUP_COLUMNS = (
        "g.id, g.name, g.created, g.retention_days, g.log_group_class, g.kms_key_id,"
        " g.deletion_protection, g.tags,"
        " (SELECT SUM(stored_bytes) FROM log_streams s WHERE s.group_id = g.id)"
    )

    def create_group(
        self,
        name: str,
        *,
        tags: dict[str, str] | None = None,
        kms_key_id: str | None = None,
        log_group_class: str = "STANDARD",
        deletion_protection: bool = False,
    ) -> None:
        with self.lock:
            try:
                self.db.execute(
                    "INSERT INTO log_groups (name, created, log_group_class, kms_key_id,"
                    " deletion_protection, tags) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        name,
                        now_ms(),
                        log_group_class,
                        kms_key_id,
                        int(deletion_protection),
                        json.dumps(tags or {}),
                    ),
                )
            except sqlite3.IntegrityError:
                raise AwsError(
                    "ResourceAlreadyExistsException", "The specified log group already exists"
                ) from None

    def get_group(self, name: str) -> LogGroup:
        with self.lock:
            row = self.db.execute(
                f"SELECT {self._GROUP_COLUMNS} FROM log_groups g WHERE g.name = ?", (name,)
            ).fetchone()
        if row is None:
            raise group_missing()
        return self._group_row(row)

    def list_groups(
        self, *, prefix: str | None = None, after: str | None = None, limit: int = 50
    ) -> list[LogGroup]:
        """Groups sorted by name, starting after ``after``; the caller filters patterns."""
        sql = f"SELECT {self._GROUP_COLUMNS} FROM log_groups g WHERE g.name > ?"
        args: list[object] = [after or ""]
        if prefix:
            # Range scan instead of LIKE so that % and _ in names stay literal.
            sql += " AND g.name >= ? AND g.name < ?"
            args += [prefix, prefix + "\U0010ffff"]
        sql += " ORDER BY g.name LIMIT ?"
        args.append(limit)
        with self.lock:
            rows = self.db.execute(sql, args).fetchall()
        return [self._group_row(r) for r in rows]

    def delete_group(self, name: str) -> None:
        with self.lock:
            group = self.get_group(name)
            if group.deletion_protection:
                raise AwsError(
                    "InvalidOperationException",
                    "Log group deletion protection is enabled; disable it before deleting.",
                )
            self.db.execute("DELETE FROM log_groups WHERE id = ?", (group.id,))

    def set_retention(self, name: str, days: int | None) -> None:
        with self.lock:
            group = self.get_group(name)
            self.db.execute(
                "UPDATE log_groups SET retention_days = ? WHERE id = ?", (days, group.id)
            )
            self.sweep_expired(force=True)

    def set_tags(self, name: str, tags: dict[str, str]) -> None:
        with self.lock:
            group = self.get_group(name)
            self.db.execute(
                "UPDATE log_groups SET tags = ? WHERE id = ?", (json.dumps(tags), group.id)
            )

    # --- streams ----------------------------------------------------------------------------

    def create_stream(self, group: str, name: str) -> None:
        with self.lock:
            gid = self.get_group(group).id
            try:
                self.db.execute(
                    "INSERT INTO log_streams (group_id, name, created) VALUES (?, ?, ?)",
                    (gid, name, now_ms()),
                )
            except sqlite3.IntegrityError:
                raise AwsError(
                    "ResourceAlreadyExistsException", "The specified log stream already exists"
                ) from None

    def get_stream(self, group_id: int, name: str) -> LogStream:
        with self.lock:
            row = self.db.execute(
                "SELECT id, group_id, name, created, first_event, last_event, last_ingestion,"
                " stored_bytes FROM log_streams WHERE group_id = ? AND name = ?",
                (group_id, name),
            ).fetchone()
        if row is None:
            raise stream_missing()
        return LogStream(*row)

    def list_streams(
        self,
        group: str,
        *,
        prefix: str | None = None,
        order_by_last_event: bool = False,
        descending: bool = False,
        offset: int = 0,
        limit: int = 50,
    ) -> list[LogStream]:
        gid = self.get_group(group).id
        sql = (
            "SELECT id, group_id, name, created, first_event, last_event, last_ingestion,"
            " stored_bytes FROM log_streams WHERE group_id = ?"
        )
        args: list[object] = [gid]
        if prefix:
            sql += " AND name >= ? AND name < ?"
            args += [prefix, prefix + "\U0010ffff"]
        direction = "DESC" if descending else "ASC"
        if order_by_last_event:
            # Streams without events sort as oldest, as on AWS.
            sql += f" ORDER BY COALESCE(last_event, 0) {direction}, name {direction}"
        else:
            sql += f" ORDER BY name {direction}"
        sql += " LIMIT ? OFFSET ?"
        args += [limit, offset]
        with self.lock:
            return [LogStream(*r) for r in self.db.execute(sql, args).fetchall()]

    def delete_stream(self, group: str, name: str) -> None:
        with self.lock:
            stream = self.get_stream(self.get_group(group).id, name)
            self.db.execute("DELETE FROM log_streams WHERE id = ?", (stream.id,))

    # --- events -----------------------------------------------------------------------------

    def insert_events(
        self, group: LogGroup, stream: LogStream, events: list[tuple[int, str]]
    ) -> list[int]:
        """Store already validated, chronologically sorted events; returns their row ids."""
        return self.insert_batches([(group, stream, events)])[0]

    def insert_batches(
        self, batches: list[tuple[LogGroup, LogStream, list[tuple[int, str]]]]
    ) -> list[list[int]]:
        """Several streams' sorted events in one transaction (a commit costs more than rows)."""
        ingestion = now_ms()
        out: list[list[int]] = []
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for group, stream, events in batches:
                    out.append(self._insert(group, stream, events, ingestion))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.sweep_expired()
        return out

    def _insert(
        self, group: LogGroup, stream: LogStream, events: list[tuple[int, str]], ingestion: int
    ) -> list[int]:
        if not events:
            return []
        size = sum(len(m.encode()) + EVENT_OVERHEAD for _, m in events)
        first = min(ts for ts, _ in events)
        last = max(ts for ts, _ in events)
        self.db.executemany(
            "INSERT INTO events (group_id, stream_id, ts, ingestion, message)"
            " VALUES (?, ?, ?, ?, ?)",
            [(group.id, stream.id, ts, ingestion, msg) for ts, msg in events],
        )
        # Rowids are max+1 in turn and the write lock is ours: the batch is contiguous.
        last_id = self.db.execute("SELECT last_insert_rowid()").fetchone()[0]
        self.db.execute(
            "UPDATE log_streams SET"
            " first_event = MIN(COALESCE(first_event, ?), ?),"
            " last_event = MAX(COALESCE(last_event, ?), ?),"
            " last_ingestion = ?, stored_bytes = stored_bytes + ? WHERE id = ?",
            (first, first, last, last, ingestion, size, stream.id),
        )
        return list(range(last_id - len(events) + 1, last_id + 1))

    def ensure_stream(self, group: str, stream: str) -> tuple[LogGroup, LogStream]:
        """Group and stream, creating either if missing (the in-process Lambda path)."""
        with self.lock:
            try:
                g = self.get_group(group)
            except AwsError:
                self.create_group(group)
                g = self.get_group(group)
            try:
                s = self.get_stream(g.id, stream)
            except AwsError:
                self.create_stream(group, stream)
                s = self.get_stream(g.id, stream)
        return g, s

    def retention_cutoff(self, group: LogGroup, now: int | None = None) -> int:
        """Events older than this are expired (at read time, before the sweep deletes them)."""
        if not group.retention_days:
            return -(2**62)
        return (now or now_ms()) - group.retention_days * DAY_MS

    def sweep_expired(self, *, force: bool = False) -> None:
        """Delete events past their group's retention, at most once a minute unless forced."""
        if not force and time.monotonic() - self._last_sweep < SWEEP_INTERVAL_S:
            return
        self._last_sweep = time.monotonic()
        now = now_ms()
        with self.lock:
            groups = self.db.execute(
                "SELECT id, retention_days FROM log_groups WHERE retention_days IS NOT NULL"
            ).fetchall()
            for gid, days in groups:
                deleted = self.db.execute(
                    "DELETE FROM events WHERE group_id = ? AND ts < ?", (gid, now - days * DAY_MS)
                ).rowcount
                if deleted:
                    # Keep DescribeLogStreams' sizes and first-event times honest.
                    self.db.execute(
                        "UPDATE log_streams SET"
                        " stored_bytes = (SELECT COALESCE(SUM(LENGTH(CAST(message AS BLOB)) + ?),"
                        "   0) FROM events WHERE stream_id = log_streams.id),"
                        " first_event = (SELECT MIN(ts) FROM events"
                        "   WHERE stream_id = log_streams.id)"
                        " WHERE group_id = ?",
                        (EVENT_OVERHEAD, gid),
                    )
