"""The SQLite layout: one database, items keyed by order-preserving key bytes.

items(tid, h, pk, sk): h is a hash of pk, so a Query is an index range on (tid, h, pk, sk..)
and a Scan walks (h, pk, sk) like DynamoDB walks partitions. Secondary indexes live in idx,
pointing back at the table key. Items are stored with ``marshal`` (only plain dict/list/str/
bytes/bool values ever go in, and it is several times faster than JSON for this shape).
"""

from __future__ import annotations

import json
import marshal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nimbus.services.dynamodb.keys import bucket
from nimbus.services.dynamodb.tables import Table
from nimbus.storage import open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS tables (name TEXT PRIMARY KEY, tid INTEGER NOT NULL UNIQUE,
  meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (tid INTEGER NOT NULL, h INTEGER NOT NULL, pk BLOB NOT NULL,
  sk BLOB NOT NULL, item BLOB NOT NULL, size INTEGER NOT NULL, ttl REAL,
  PRIMARY KEY (tid, h, pk, sk)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_ttl ON items (tid, ttl) WHERE ttl IS NOT NULL;
CREATE TABLE IF NOT EXISTS idx (tid INTEGER NOT NULL, iid INTEGER NOT NULL, h INTEGER NOT NULL,
  pk BLOB NOT NULL, sk BLOB NOT NULL, tpk BLOB NOT NULL, tsk BLOB NOT NULL, th INTEGER NOT NULL,
  PRIMARY KEY (tid, iid, h, pk, sk, tpk, tsk)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tx_tokens (token TEXT PRIMARY KEY, created REAL NOT NULL,
  digest TEXT NOT NULL);
"""

GET = "SELECT item FROM items WHERE tid=? AND h=? AND pk=? AND sk=?"
PUT = "INSERT OR REPLACE INTO items (tid, h, pk, sk, item, size, ttl) VALUES (?,?,?,?,?,?,?)"
DELETE = "DELETE FROM items WHERE tid=? AND h=? AND pk=? AND sk=?"
IDX_PUT = "INSERT OR REPLACE INTO idx (tid, iid, h, pk, sk, tpk, tsk, th) VALUES (?,?,?,?,?,?,?,?)"
IDX_DELETE = "DELETE FROM idx WHERE tid=? AND iid=? AND h=? AND pk=? AND sk=? AND tpk=? AND tsk=?"

dumps = marshal.dumps
loads = marshal.loads


class Store:
    def __init__(self, path: Path) -> None:
        self.conn = open_db(path)
        self.conn.executescript(SCHEMA)
        # The wire front may call from several threads; one writer at a time on this connection.
        self.lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self._depth = 0
                self.conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self.conn.execute("COMMIT")

    def load_tables(self) -> dict[str, Table]:
        rows = self.conn.execute("SELECT meta FROM tables").fetchall()
        return {t.name: t for t in (Table.from_json(json.loads(r[0])) for r in rows)}

    def save_table(self, table: Table) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO tables (name, tid, meta) VALUES (?,?,?)",
            (table.name, table.tid, json.dumps(table.to_json())),
        )

    def next_tid(self) -> int:
        row = self.conn.execute("SELECT COALESCE(MAX(tid), 0) + 1 FROM tables").fetchone()
        return int(row[0])

    def drop_index(self, table: Table, iid: int) -> None:
        self.conn.execute("DELETE FROM idx WHERE tid=? AND iid=?", (table.tid, iid))

    def drop_table(self, table: Table) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM tables WHERE name=?", (table.name,))
            conn.execute("DELETE FROM items WHERE tid=?", (table.tid,))
            conn.execute("DELETE FROM idx WHERE tid=?", (table.tid,))

    def get(self, tid: int, pk: bytes, sk: bytes) -> dict[str, Any] | None:
        row = self.conn.execute(GET, (tid, bucket(pk), pk, sk)).fetchone()
        return loads(row[0]) if row else None

    def stats(self, tid: int) -> tuple[int, int]:
        row = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM items WHERE tid=?", (tid,)
        ).fetchone()
        return int(row[0]), int(row[1])

    def index_stats(self, tid: int) -> dict[int, tuple[int, int]]:
        rows = self.conn.execute(
            "SELECT i.iid, COUNT(*), COALESCE(SUM(t.size), 0) FROM idx i JOIN items t "
            "ON t.tid=i.tid AND t.h=i.th AND t.pk=i.tpk AND t.sk=i.tsk WHERE i.tid=? "
            "GROUP BY i.iid",
            (tid,),
        )
        return {int(iid): (int(n), int(size)) for iid, n, size in rows}

    def write(
        self,
        table: Table,
        pk: bytes,
        sk: bytes,
        old: dict[str, Any] | None,
        new: dict[str, Any] | None,
        size: int = 0,
    ) -> None:
        """Replace (or delete, ``new=None``) one item and its index entries."""
        conn = self.conn
        tid = table.tid
        if new is None:
            conn.execute(DELETE, (tid, bucket(pk), pk, sk))
        else:
            conn.execute(PUT, (tid, bucket(pk), pk, sk, dumps(new), size, ttl_of(table, new)))
        for index in table.indexes.values():
            old_key = index.schema.encode_item(old) if old else None
            new_key = index.schema.encode_item(new) if new else None
            if old_key == new_key:
                continue
            if old_key is not None:
                conn.execute(IDX_DELETE, (tid, index.iid, bucket(old_key[0]), *old_key, pk, sk))
            if new_key is not None:
                conn.execute(
                    IDX_PUT, (tid, index.iid, bucket(new_key[0]), *new_key, pk, sk, bucket(pk))
                )

    def backfill_index(self, table: Table, iid: int) -> None:
        index = next(i for i in table.indexes.values() if i.iid == iid)
        rows = self.conn.execute("SELECT pk, sk, item FROM items WHERE tid=?", (table.tid,))
        for pk, sk, blob in rows.fetchall():
            key = index.schema.encode_item(loads(blob))
            if key is not None:
                self.conn.execute(
                    IDX_PUT, (table.tid, iid, bucket(key[0]), *key, pk, sk, bucket(pk))
                )

    def refresh_ttl(self, table: Table) -> None:
        rows = self.conn.execute("SELECT h, pk, sk, item FROM items WHERE tid=?", (table.tid,))
        for h, pk, sk, blob in rows.fetchall():
            self.conn.execute(
                "UPDATE items SET ttl=? WHERE tid=? AND h=? AND pk=? AND sk=?",
                (ttl_of(table, loads(blob)), table.tid, h, pk, sk),
            )


def ttl_of(table: Table, item: dict[str, Any]) -> float | None:
    if not table.ttl_enabled or table.ttl_attribute is None:
        return None
    av = item.get(table.ttl_attribute)
    if av is None or "N" not in av:
        return None
    try:
        return float(av["N"])
    except (OverflowError, ValueError):
        return None
