"""Multipart uploads: parts stream to their own blobs; completion concatenates them."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.s3.checksums import composite_checksum, verify_checksum, verify_content_md5
from nimbus.services.s3.core import Actor, EngineCore, ObjectRecord, now
from nimbus.services.s3.objects import ObjectsMixin, ObjectWrite, validate_key

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10000


@dataclass(slots=True)
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    spec: ObjectWrite
    checksum_type: str | None


@dataclass(slots=True)
class Part:
    part_number: int
    blob: str
    size: int
    etag: str
    checksum: str | None
    last_modified: float


def _no_such_upload(upload_id: str) -> AwsError:
    return AwsError(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may "
        "have been aborted or completed.",
        404,
        extra={"UploadId": upload_id},
    )


def _invalid_part(detail: str = "") -> AwsError:
    return AwsError(
        "InvalidPart",
        "One or more of the specified parts could not be found. The part may not have been "
        "uploaded, or the specified entity tag may not match the part's entity tag." + detail,
        400,
    )


class MultipartMixin(ObjectsMixin, EngineCore):
    def create_upload(
        self, bucket: str, key: str, spec: ObjectWrite, checksum_type: str | None
    ) -> Upload:
        validate_key(key)
        self.require_bucket(bucket)
        if spec.checksum_algorithm and not checksum_type:
            # S3 defaults: CRC64NVME only exists as a full-object checksum, the rest compose.
            full = spec.checksum_algorithm == "CRC64NVME"
            checksum_type = "FULL_OBJECT" if full else "COMPOSITE"
        if checksum_type == "FULL_OBJECT" and spec.checksum_algorithm in ("SHA1", "SHA256"):
            raise AwsError(
                "InvalidRequest",
                f"The FULL_OBJECT checksum type cannot be used with the "
                f"{spec.checksum_algorithm.lower()} checksum algorithm.",
                400,
            )
        upload = Upload(uuid.uuid4().hex, bucket, key, now(), spec, checksum_type)
        with self.tx() as db:
            db.execute(
                "INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    upload.upload_id, bucket, key, upload.initiated, spec.content_type,
                    json.dumps(spec.headers or {}), json.dumps(spec.metadata or {}),
                    spec.checksum_algorithm, checksum_type,
                ),
            )  # fmt: skip
        return upload

    def get_upload(self, bucket: str, key: str, upload_id: str) -> Upload:
        self.require_bucket(bucket)
        row = self.db.execute(
            "SELECT bucket, key, initiated, content_type, headers, metadata, checksum_algorithm, "
            "checksum_type FROM uploads WHERE upload_id = ?",
            (upload_id,),
        ).fetchone()
        if row is None or row[0] != bucket or row[1] != key:
            raise _no_such_upload(upload_id)
        _, _, initiated, ctype, headers, meta, algorithm, checksum_type = row
        spec = ObjectWrite(ctype, json.loads(headers), json.loads(meta), algorithm)
        return Upload(upload_id, bucket, key, initiated, spec, checksum_type)

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: AsyncIterable[bytes],
        spec: ObjectWrite,
    ) -> Part:
        if not 1 <= part_number <= MAX_PART_NUMBER:
            raise AwsError(
                "InvalidArgument",
                "Part number must be an integer between 1 and 10000, inclusive",
                400,
                extra={"ArgumentName": "partNumber", "ArgumentValue": str(part_number)},
            )
        upload = self.get_upload(bucket, key, upload_id)
        algorithm = spec.checksum_algorithm or upload.spec.checksum_algorithm
        written = await self.blobs.write_stream(body, algorithm)
        try:
            verify_content_md5(spec.content_md5, written.md5_hex)
            if spec.checksum_algorithm and spec.expected_checksum is not None:
                expected = spec.expected_checksum()
                if expected:
                    verify_checksum(spec.checksum_algorithm, expected, written.checksum)
            part = Part(part_number, written.blob_id, written.size, f'"{written.md5_hex}"',
                        written.checksum, now())  # fmt: skip
            self._store_part(upload_id, part)
        except BaseException:
            self.blobs.delete(written.blob_id)
            raise
        return part

    async def upload_part_copy(
        self, upload: Upload, part_number: int, source: ObjectRecord, start: int, length: int
    ) -> Part:
        written = await self.blobs.write_concat(
            [(source.blob, start, length)], upload.spec.checksum_algorithm
        )
        part = Part(part_number, written.blob_id, written.size, f'"{written.md5_hex}"',
                    written.checksum, now())  # fmt: skip
        try:
            self._store_part(upload.upload_id, part)
        except BaseException:
            self.blobs.delete(written.blob_id)
            raise
        return part

    def _store_part(self, upload_id: str, part: Part) -> None:
        with self.tx() as db:
            if not db.execute("SELECT 1 FROM uploads WHERE upload_id = ?", (upload_id,)).fetchone():
                raise _no_such_upload(upload_id)  # aborted while the part streamed
            old = db.execute(
                "SELECT blob FROM parts WHERE upload_id = ? AND part_number = ?",
                (upload_id, part.part_number),
            ).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?, ?)",
                (upload_id, part.part_number, part.blob, part.size, part.etag, part.checksum,
                 part.last_modified),
            )  # fmt: skip
        if old is not None:
            self.blobs.delete(old[0])

    def list_parts(self, upload_id: str) -> list[Part]:
        rows = self.db.execute(
            "SELECT part_number, blob, size, etag, checksum, last_modified FROM parts "
            "WHERE upload_id = ? ORDER BY part_number",
            (upload_id,),
        )
        return [Part(*row) for row in rows]

    def abort_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self.get_upload(bucket, key, upload_id)
        parts = self.list_parts(upload_id)
        with self.tx() as db:
            db.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
        for part in parts:
            self.blobs.delete(part.blob)

    async def complete_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        requested: list[dict[str, Any]],
        actor: Actor,
        conditions: ObjectWrite | None = None,
    ) -> ObjectRecord:
        upload = self.get_upload(bucket, key, upload_id)
        chosen = self._validate_parts(upload, requested)
        algorithm = upload.spec.checksum_algorithm
        full_object = upload.checksum_type == "FULL_OBJECT"
        written = await self.blobs.write_concat(
            [(part.blob, 0, part.size) for part in chosen], algorithm if full_object else None
        )
        md5s = b"".join(bytes.fromhex(part.etag.strip('"')) for part in chosen)
        checksum = written.checksum
        if algorithm and not full_object:
            part_sums = [part.checksum for part in chosen]
            checksum = composite_checksum(algorithm, part_sums) if all(part_sums) else None  # type: ignore[arg-type]
        record = ObjectRecord(
            bucket=bucket,
            key=key,
            blob=written.blob_id,
            size=written.size,
            etag=f'"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}"',
            last_modified=now(),
            content_type=upload.spec.content_type,
            headers=upload.spec.headers or {},
            metadata=upload.spec.metadata or {},
            checksum_algorithm=algorithm if checksum else None,
            checksum=checksum,
            checksum_type=upload.checksum_type if checksum else None,
            parts=len(chosen),
        )
        all_parts = self.list_parts(upload_id)

        def finish_upload(db: sqlite3.Connection) -> None:
            # Removing the upload in the object's transaction makes completion happen once.
            gone = db.execute("DELETE FROM uploads WHERE upload_id = ? RETURNING 1", (upload_id,))
            if not gone.fetchall():
                raise _no_such_upload(upload_id)

        try:
            self.commit_object(
                record, "ObjectCreated:CompleteMultipartUpload", actor, conditions, finish_upload
            )
        except BaseException:
            self.blobs.delete(written.blob_id)
            raise
        for part in all_parts:
            self.blobs.delete(part.blob)
        return record

    def _validate_parts(self, upload: Upload, requested: list[dict[str, Any]]) -> list[Part]:
        if not requested:
            raise AwsError(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our "
                "published schema",
                400,
            )
        stored = {part.part_number: part for part in self.list_parts(upload.upload_id)}
        chosen: list[Part] = []
        previous = 0
        for item in requested:
            number = int(item.get("PartNumber", 0))
            if number <= previous:
                raise AwsError(
                    "InvalidPartOrder",
                    "The list of parts was not in ascending order. Parts must be ordered by "
                    "part number.",
                    400,
                    extra={"UploadId": upload.upload_id},
                )
            previous = number
            part = stored.get(number)
            etag = str(item.get("ETag", "")).strip('"')
            if part is None or part.etag.strip('"') != etag:
                raise _invalid_part()
            algorithm = upload.spec.checksum_algorithm
            claimed = item.get(f"Checksum{algorithm}") if algorithm else None
            if claimed and part.checksum and claimed != part.checksum:
                raise _invalid_part(f" The {algorithm} checksum of part {number} did not match.")
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < MIN_PART_SIZE:
                raise AwsError(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                    400,
                    extra={
                        "ProposedSize": str(part.size),
                        "MinSizeAllowed": str(MIN_PART_SIZE),
                        "PartNumber": str(part.part_number),
                        "ETag": part.etag.strip('"'),
                    },
                )
        return chosen
