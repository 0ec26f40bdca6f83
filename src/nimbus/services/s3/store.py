"""Where S3 state lives: one SQLite database for metadata, blob files named by generated ids.

Object keys never become paths: a blob is ``blobs/<id[:2]>/<id>`` with ``id`` a random uuid hex.
Writes stream into ``tmp/``, are fsynced and renamed into ``blobs/`` before the metadata row that
points at them commits, so a reader never sees a half-written object and an acknowledged write
survives ``kill -9``. Anything left in ``tmp/`` or unreferenced in ``blobs/`` after a crash is
removed at startup.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections.abc import AsyncIterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from nimbus.services.s3.checksums import Hasher
from nimbus.storage import open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY,
    created REAL NOT NULL,
    owner TEXT NOT NULL,      -- account id
    location TEXT,            -- LocationConstraint as given (NULL for us-east-1)
    config TEXT NOT NULL DEFAULT '{}'  -- JSON: cors, website, policy, tagging, notification
);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL REFERENCES buckets(name),
    key TEXT NOT NULL,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified REAL NOT NULL,
    content_type TEXT NOT NULL,
    headers TEXT NOT NULL,    -- JSON: ContentEncoding, CacheControl, ...
    metadata TEXT NOT NULL,   -- JSON: user metadata
    checksum_algorithm TEXT,
    checksum TEXT,
    checksum_type TEXT,
    parts INTEGER,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL REFERENCES buckets(name),
    key TEXT NOT NULL,
    initiated REAL NOT NULL,
    content_type TEXT NOT NULL,
    headers TEXT NOT NULL,
    metadata TEXT NOT NULL,
    checksum_algorithm TEXT,
    checksum_type TEXT
);
CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads (bucket, key, initiated);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL REFERENCES uploads(upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    checksum TEXT,
    last_modified REAL NOT NULL,
    PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL,
    target_arn TEXT NOT NULL,
    target_type TEXT NOT NULL,  -- lambda | queue | topic
    event TEXT NOT NULL,        -- the JSON body exactly as S3 sends it
    created REAL NOT NULL,
    delivered REAL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (delivered, id);
"""

CHUNK = 256 * 1024


@dataclass(slots=True)
class BlobWrite:
    blob_id: str
    size: int
    md5_hex: str
    checksum: str | None


def open_metadata(path: Path) -> sqlite3.Connection:
    conn = open_db(path)
    conn.executescript(SCHEMA)
    return conn


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blob_dir = root / "blobs"
        self.tmp_dir = root / "tmp"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def path(self, blob_id: str) -> Path:
        # Ids are generated here (hex), never client input, so this cannot escape blob_dir.
        return self.blob_dir / blob_id[:2] / blob_id

    def _new_tmp(self) -> tuple[str, Path, BinaryIO]:
        blob_id = uuid.uuid4().hex
        tmp = self.tmp_dir / f"{blob_id}.part"
        return blob_id, tmp, open(tmp, "wb")

    async def _finish(self, blob_id: str, tmp: Path, f: BinaryIO) -> None:
        f.flush()
        await asyncio.to_thread(os.fsync, f.fileno())
        f.close()
        final = self.path(blob_id)
        final.parent.mkdir(exist_ok=True)
        os.replace(tmp, final)

    @staticmethod
    def _abort(tmp: Path, f: BinaryIO) -> None:
        f.close()
        tmp.unlink(missing_ok=True)

    async def write_stream(
        self, chunks: AsyncIterable[bytes], algorithm: str | None, max_size: int | None = None
    ) -> BlobWrite:
        """Stream chunks into a new blob, hashing as they pass; nothing is kept in memory."""
        hasher = Hasher(algorithm)
        blob_id, tmp, f = self._new_tmp()
        try:
            async for chunk in chunks:
                hasher.update(chunk)
                f.write(chunk)
            await self._finish(blob_id, tmp, f)
        except BaseException:
            self._abort(tmp, f)
            raise
        return BlobWrite(blob_id, hasher.size, hasher.md5_hex(), hasher.checksum_b64())

    async def write_concat(
        self, sources: list[tuple[str, int, int]], algorithm: str | None
    ) -> BlobWrite:
        """A new blob made of ``(blob_id, start, length)`` slices of existing blobs."""

        def copy() -> BlobWrite:
            hasher = Hasher(algorithm)
            blob_id = uuid.uuid4().hex
            tmp = self.tmp_dir / f"{blob_id}.part"
            try:
                with open(tmp, "wb") as out:
                    for source, start, length in sources:
                        for chunk in self.read_range(source, start, length):
                            hasher.update(chunk)
                            out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                final = self.path(blob_id)
                final.parent.mkdir(exist_ok=True)
                os.replace(tmp, final)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return BlobWrite(blob_id, hasher.size, hasher.md5_hex(), hasher.checksum_b64())

        return await asyncio.to_thread(copy)

    def read_range(self, blob_id: str, start: int, length: int) -> Iterator[bytes]:
        with open(self.path(blob_id), "rb") as f:
            yield from iter_file(f, start, length)

    def open(self, blob_id: str) -> BinaryIO:
        return open(self.path(blob_id), "rb")

    def delete(self, blob_id: str) -> None:
        self.path(blob_id).unlink(missing_ok=True)

    def cleanup(self, referenced: set[str]) -> int:
        """Remove temp files and blobs no metadata row points at (crash leftovers)."""
        removed = 0
        for tmp in self.tmp_dir.iterdir():
            tmp.unlink(missing_ok=True)
            removed += 1
        for sub in self.blob_dir.iterdir():
            if not sub.is_dir():
                continue
            for blob in sub.iterdir():
                if blob.name not in referenced:
                    blob.unlink(missing_ok=True)
                    removed += 1
        return removed


def iter_file(f: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    """Yield ``length`` bytes from ``start`` in bounded chunks, closing the file at the end."""
    try:
        f.seek(start)
        remaining = length
        while remaining > 0:
            chunk = f.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        f.close()
