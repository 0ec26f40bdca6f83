"""Reading events from the log database: by stream, by group, by arrival, by id.

Mixed into LogsEngine (which owns ``db`` and ``lock``). Events are ordered by
(timestamp, rowid); every query here is a range search on one of the two event indexes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(slots=True)
class LogEvent:
    id: int
    stream: str
    timestamp: int
    ingestion: int
    message: str


class EventQueries:
    db: sqlite3.Connection
    lock: threading.RLock

    def stream_events(
        self,
        stream_id: int,
        *,
        start: int,
        end: int,
        after: tuple[int, int] | None = None,
        before: tuple[int, int] | None = None,
        limit: int,
        newest_first: bool = False,
    ) -> list[LogEvent]:
        """Events of one stream with start <= ts < end, strictly after/before a (ts, id) cursor."""
        sql = (
            "SELECT e.id, s.name, e.ts, e.ingestion, e.message FROM events e"
            " JOIN log_streams s ON s.id = e.stream_id"
            " WHERE e.stream_id = ? AND e.ts >= ? AND e.ts < ?"
        )
        args: list[object] = [stream_id, start, end]
        if after is not None:
            sql += " AND (e.ts, e.id) > (?, ?)"
            args += list(after)
        if before is not None:
            sql += " AND (e.ts, e.id) < (?, ?)"
            args += list(before)
        order = "DESC" if newest_first else "ASC"
        sql += f" ORDER BY e.ts {order}, e.id {order} LIMIT ?"
        args.append(limit)
        with self.lock:
            rows = self.db.execute(sql, args).fetchall()
        return [LogEvent(*r) for r in rows]

    def group_events(
        self,
        group_id: int,
        *,
        start: int,
        end: int,
        stream_ids: list[int] | None = None,
        after: tuple[int, int] | None = None,
        contains: list[str] | None = None,
        json_only: bool = False,
        batch: int = 1000,
    ) -> Iterator[LogEvent]:
        """Events of a group in (ts, id) order, fetched in batches so a caller may stop early.

        ``contains``/``json_only`` narrow the scan in SQL (a filter pattern's prefilter).
        """
        cursor = after
        while True:
            sql = (
                "SELECT e.id, s.name, e.ts, e.ingestion, e.message FROM events e"
                " JOIN log_streams s ON s.id = e.stream_id"
                " WHERE e.group_id = ? AND e.ts >= ? AND e.ts < ?"
            )
            args: list[object] = [group_id, start, end]
            if stream_ids is not None:
                sql += f" AND e.stream_id IN ({','.join('?' * len(stream_ids))})"
                args += stream_ids
            if cursor is not None:
                sql += " AND (e.ts, e.id) > (?, ?)"
                args += list(cursor)
            for term in contains or []:
                sql += " AND instr(e.message, ?) > 0"
                args.append(term)
            if json_only:
                sql += " AND ltrim(e.message) LIKE '{%'"
            sql += " ORDER BY e.ts, e.id LIMIT ?"
            args.append(batch)
            with self.lock:
                rows = self.db.execute(sql, args).fetchall()
            for row in rows:
                yield LogEvent(*row)
            if len(rows) < batch:
                return
            cursor = (rows[-1][2], rows[-1][0])

    def event_by_id(self, event_id: int) -> tuple[str, LogEvent] | None:
        """(group name, event) for a row id (Insights' @ptr)."""
        with self.lock:
            row = self.db.execute(
                "SELECT g.name, e.id, s.name, e.ts, e.ingestion, e.message FROM events e"
                " JOIN log_streams s ON s.id = e.stream_id JOIN log_groups g ON g.id = e.group_id"
                " WHERE e.id = ?",
                (event_id,),
            ).fetchone()
        return (row[0], LogEvent(*row[1:])) if row else None

    def recent_events(self, group_id: int, before: int, limit: int) -> list[LogEvent]:
        """The newest events with ts < before (a sample for field discovery)."""
        with self.lock:
            rows = self.db.execute(
                "SELECT e.id, s.name, e.ts, e.ingestion, e.message FROM events e"
                " JOIN log_streams s ON s.id = e.stream_id WHERE e.group_id = ? AND e.ts < ?"
                " ORDER BY e.ts DESC, e.id DESC LIMIT ?",
                (group_id, before, limit),
            ).fetchall()
        return [LogEvent(*r) for r in rows]

    def events_since(
        self, group_id: int, after_id: int, *, stream_prefix: str | None = None, limit: int
    ) -> list[LogEvent]:
        """Events in ingestion (rowid) order after ``after_id``: the cursor for ``follow``."""
        sql = (
            "SELECT e.id, s.name, e.ts, e.ingestion, e.message FROM events e"
            " JOIN log_streams s ON s.id = e.stream_id WHERE e.group_id = ? AND e.id > ?"
        )
        args: list[object] = [group_id, after_id]
        if stream_prefix:
            sql += " AND s.name >= ? AND s.name < ?"
            args += [stream_prefix, stream_prefix + "\U0010ffff"]
        sql += " ORDER BY e.id LIMIT ?"
        args.append(limit)
        with self.lock:
            return [LogEvent(*r) for r in self.db.execute(sql, args).fetchall()]

    def stream_ids(self, group_id: int, names: list[str] | None, prefix: str | None) -> list[int]:
        with self.lock:
            if names is not None:
                marks = ",".join("?" * len(names))
                rows = self.db.execute(
                    f"SELECT id FROM log_streams WHERE group_id = ? AND name IN ({marks})",
                    [group_id, *names],
                ).fetchall()
            else:
                rows = self.db.execute(
                    "SELECT id FROM log_streams WHERE group_id = ? AND name >= ? AND name < ?",
                    (group_id, prefix or "", (prefix or "") + "\U0010ffff"),
                ).fetchall()
        return [r[0] for r in rows]
