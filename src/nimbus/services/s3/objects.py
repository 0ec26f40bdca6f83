"""Single-object operations: put, get/head (ranges, preconditions), copy, delete."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.s3.checksums import verify_checksum, verify_content_md5
from nimbus.services.s3.conditions import Preconditions, evaluate, parse_range
from nimbus.services.s3.core import Actor, EngineCore, ObjectRecord, now
from nimbus.services.s3.notifications import emit_event
from nimbus.services.s3.store import BlobWrite, iter_file

MAX_KEY_BYTES = 1024


def validate_key(key: str) -> None:
    if not key:
        raise AwsError("InvalidArgument", "Object key must not be empty.", 400)
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise AwsError(
            "KeyTooLongError",
            "Your key is too long",
            400,
            extra={"MaxSizeAllowed": str(MAX_KEY_BYTES), "Size": str(len(key.encode()))},
        )
    if "\x00" in key:
        # XML 1.0 cannot carry NUL, so such a key could never be listed back; refuse it.
        raise AwsError(
            "InvalidArgument", "Object key must not contain the NUL character (U+0000).", 400
        )


@dataclass(slots=True)
class ObjectWrite:
    """What a client asked to store along with the bytes."""

    content_type: str = "binary/octet-stream"
    headers: dict[str, Any] | None = None
    metadata: dict[str, str] | None = None
    checksum_algorithm: str | None = None
    # Called after the body is consumed: the checksum the client claims (header or trailer).
    expected_checksum: Callable[[], str | None] | None = None
    content_md5: str | None = None
    if_none_match: str | None = None
    if_match: str | None = None


@dataclass(slots=True)
class ObjectRead:
    record: ObjectRecord
    start: int
    length: int
    partial: bool
    body: Iterator[bytes]


class ObjectsMixin(EngineCore):
    async def put_object(
        self, bucket: str, key: str, body: AsyncIterable[bytes], spec: ObjectWrite, actor: Actor
    ) -> ObjectRecord:
        validate_key(key)
        self.require_bucket(bucket)
        written = await self.blobs.write_stream(body, spec.checksum_algorithm)
        try:
            self._verify_write(spec, written)
            record = ObjectRecord(
                bucket=bucket,
                key=key,
                blob=written.blob_id,
                size=written.size,
                etag=f'"{written.md5_hex}"',
                last_modified=now(),
                content_type=spec.content_type or "binary/octet-stream",
                headers=spec.headers or {},
                metadata=spec.metadata or {},
                checksum_algorithm=spec.checksum_algorithm,
                checksum=written.checksum,
                checksum_type="FULL_OBJECT" if spec.checksum_algorithm else None,
            )
            self.commit_object(record, "ObjectCreated:Put", actor, spec)
        except BaseException:
            self.blobs.delete(written.blob_id)
            raise
        return record

    @staticmethod
    def _verify_write(spec: ObjectWrite, written: BlobWrite) -> None:
        verify_content_md5(spec.content_md5, written.md5_hex)
        if spec.checksum_algorithm and spec.expected_checksum is not None:
            expected = spec.expected_checksum()
            if expected:
                verify_checksum(spec.checksum_algorithm, expected, written.checksum)

    def commit_object(
        self,
        record: ObjectRecord,
        event: str,
        actor: Actor,
        spec: ObjectWrite | None = None,
        inside: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """Make ``record`` the current version; its blob is already durable on disk.

        ``inside`` runs in the same transaction (multipart completion retires its upload there).
        """
        with self.tx() as db:
            bucket_info = self.require_bucket(record.bucket)
            previous = self.find_object(record.bucket, record.key)
            if spec is not None:
                self._check_write_conditions(spec, record.key, previous)
            if inside is not None:
                inside(db)
            db.execute(
                "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.bucket, record.key, record.blob, record.size, record.etag,
                    record.last_modified, record.content_type, json.dumps(record.headers),
                    json.dumps(record.metadata), record.checksum_algorithm, record.checksum,
                    record.checksum_type, record.parts,
                ),
            )  # fmt: skip
            emit_event(self, bucket_info, event, record.key, record.size, record.etag, actor)
        if previous is not None and previous.blob != record.blob:
            self.blobs.delete(previous.blob)

    @staticmethod
    def _check_write_conditions(spec: ObjectWrite, key: str, previous: ObjectRecord | None) -> None:
        if spec.if_none_match is not None and previous is not None:
            raise AwsError(
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold",
                412,
                extra={"Condition": "If-None-Match"},
            )
        if spec.if_match is not None:
            if previous is None:
                raise AwsError(
                    "NoSuchKey", "The specified key does not exist.", 404, extra={"Key": key}
                )
            evaluate(Preconditions(if_match=spec.if_match), previous.etag, previous.last_modified)

    def read_object(
        self, bucket: str, key: str, cond: Preconditions, range_header: str | None = None
    ) -> ObjectRead | ObjectRecord:
        """The object's bytes (optionally a range), or just the record when "not modified"."""
        record = self.require_object(bucket, key)
        if not evaluate(cond, record.etag, record.last_modified):
            return record
        selected = parse_range(range_header, record.size)
        start, end = selected if selected else (0, record.size - 1)
        length = end - start + 1 if record.size else 0
        # Open now: a concurrent overwrite unlinks the old blob, but our descriptor stays valid.
        body = iter_file(self.blobs.open(record.blob), start, length)
        return ObjectRead(record, start, length, selected is not None, body)

    def head_object(self, bucket: str, key: str, cond: Preconditions) -> tuple[ObjectRecord, bool]:
        record = self.require_object(bucket, key)
        return record, evaluate(cond, record.etag, record.last_modified)

    def delete_object(self, bucket: str, key: str, actor: Actor) -> bool:
        self.require_bucket(bucket)
        with self.tx() as db:
            bucket_info = self.require_bucket(bucket)
            previous = self.find_object(bucket, key)
            if previous is None:
                return False
            db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
            emit_event(self, bucket_info, "ObjectRemoved:Delete", key, None, None, actor)
        self.blobs.delete(previous.blob)
        return True

    async def copy_object(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        source_cond: Preconditions,
        replace: ObjectWrite | None,
        checksum_algorithm: str | None,
        actor: Actor,
    ) -> ObjectRecord:
        """Copy bytes server-side; ``replace`` is the new metadata (REPLACE) or None (COPY)."""
        validate_key(key)
        self.require_bucket(bucket)
        source = self.require_object(source_bucket, source_key)
        evaluate(source_cond, source.etag, source.last_modified, copy=True)
        if (source_bucket, source_key) == (bucket, key) and replace is None:
            raise AwsError(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes.",
                400,
            )
        algorithm = checksum_algorithm or source.checksum_algorithm
        written = await self.blobs.write_concat([(source.blob, 0, source.size)], algorithm)
        meta = replace or ObjectWrite(
            content_type=source.content_type, headers=source.headers, metadata=source.metadata
        )
        record = ObjectRecord(
            bucket=bucket,
            key=key,
            blob=written.blob_id,
            size=written.size,
            etag=f'"{written.md5_hex}"',
            last_modified=now(),
            content_type=meta.content_type or "binary/octet-stream",
            headers=meta.headers or {},
            metadata=meta.metadata or {},
            checksum_algorithm=algorithm,
            checksum=written.checksum,
            checksum_type="FULL_OBJECT" if algorithm else None,
        )
        try:
            self.commit_object(record, "ObjectCreated:Copy", actor)
        except BaseException:
            self.blobs.delete(written.blob_id)
            raise
        return record
