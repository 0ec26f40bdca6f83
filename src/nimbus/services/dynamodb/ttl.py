"""Background deletion of items whose TTL attribute (epoch seconds) is in the past."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from nimbus.services.dynamodb.store import Store, loads
from nimbus.services.dynamodb.tables import Table

log = logging.getLogger(__name__)
BATCH = 500


class TtlSweeper:
    """A daemon thread with its own SQLite connection, so it never shares a transaction."""

    def __init__(self, db_path: Path, tables: dict[str, Table], interval: float) -> None:
        self.db_path = db_path
        self.tables = tables
        self.interval = max(interval, 0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dynamodb-ttl", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        store = Store(self.db_path)
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.sweep(store)
                except Exception:  # keep sweeping on the next tick; a failure here is a bug
                    log.exception("TTL sweep failed")
        finally:
            store.conn.close()

    def sweep(self, store: Store, now: float | None = None) -> int:
        deleted = 0
        for table in list(self.tables.values()):
            if not table.ttl_enabled:
                continue
            while True:
                n = self._sweep_table(store, table, time.time() if now is None else now)
                deleted += n
                if n < BATCH or self._stop.is_set():
                    break
        return deleted

    def _sweep_table(self, store: Store, table: Table, now: float) -> int:
        with store.transaction() as conn:
            rows = conn.execute(
                "SELECT pk, sk, item FROM items WHERE tid=? AND ttl IS NOT NULL AND ttl < ? "
                "LIMIT ?",
                (table.tid, now, BATCH),
            ).fetchall()
            current = self.tables.get(table.name)
            if current is None or current.tid != table.tid:
                return 0  # dropped meanwhile
            for pk, sk, blob in rows:
                store.write(current, pk, sk, loads(blob), None)
        return len(rows)
