"""Object digests: MD5 (ETag) plus S3's flexible checksums, computed while bytes stream by.

CRC32 uses zlib; SHA1/SHA256 hashlib. CRC32C and CRC64NVME have no stdlib implementation and we
add no dependency, so they are table-driven pure Python (slow, but only run when a client asks
for those algorithms).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from typing import Protocol

from nimbus.aws.errors import AwsError

ALGORITHMS = ("CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME")


def _table(poly: int, width: int) -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc & ((1 << width) - 1))
    return table


_CRC32C_TABLE = _table(0x82F63B78, 32)
_CRC64NVME_TABLE = _table(0x9A6C9329AC4BC9B5, 64)


class _Digest(Protocol):
    def update(self, data: bytes) -> None: ...
    def digest(self) -> bytes: ...


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


class _TableCrc:
    """Reflected table CRC with all-ones init and final xor (CRC32C, CRC64NVME)."""

    def __init__(self, table: list[int], width: int) -> None:
        self.table = table
        self.width = width
        self.mask = (1 << width) - 1
        self.value = self.mask

    def update(self, data: bytes) -> None:
        crc, table = self.value, self.table
        for byte in data:
            crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        self.value = crc

    def digest(self) -> bytes:
        return (self.value ^ self.mask).to_bytes(self.width // 8, "big")


def new_digest(algorithm: str) -> _Digest:
    if algorithm == "CRC32":
        return _Crc32()
    if algorithm == "CRC32C":
        return _TableCrc(_CRC32C_TABLE, 32)
    if algorithm == "CRC64NVME":
        return _TableCrc(_CRC64NVME_TABLE, 64)
    if algorithm == "SHA1":
        return hashlib.sha1()
    if algorithm == "SHA256":
        return hashlib.sha256()
    raise AwsError(
        "InvalidRequest", f"Checksum algorithm {algorithm!r} is not supported by S3.", 400
    )


def checksum_b64(algorithm: str, data: bytes) -> str:
    digest = new_digest(algorithm)
    digest.update(data)
    return base64.b64encode(digest.digest()).decode()


def normalize_algorithm(value: str | None) -> str | None:
    if not value:
        return None
    algorithm = value.upper()
    if algorithm not in ALGORITHMS:
        raise AwsError(
            "InvalidRequest",
            f"Value for x-amz-checksum-algorithm header is invalid: {value}",
            400,
        )
    return algorithm


class Hasher:
    """MD5 plus at most one flexible checksum, updated chunk by chunk."""

    def __init__(self, algorithm: str | None) -> None:
        self.md5 = hashlib.md5()
        self.algorithm = algorithm
        self.checksum = new_digest(algorithm) if algorithm else None
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.md5.update(chunk)
        if self.checksum is not None:
            self.checksum.update(chunk)
        self.size += len(chunk)

    def md5_hex(self) -> str:
        return self.md5.hexdigest()

    def checksum_b64(self) -> str | None:
        if self.checksum is None:
            return None
        return base64.b64encode(self.checksum.digest()).decode()


def verify_content_md5(value: str | None, md5_hex: str) -> None:
    if not value:
        return
    try:
        expected = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400) from None
    if len(expected) != 16:
        raise AwsError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400)
    if expected.hex() != md5_hex:
        raise AwsError(
            "BadDigest", "The Content-MD5 you specified did not match what we received.", 400
        )


def verify_checksum(algorithm: str, expected: str, actual: str | None) -> None:
    if actual is not None and expected != actual:
        raise AwsError(
            "BadDigest",
            f"The {algorithm} you specified did not match the calculated checksum.",
            400,
        )


def composite_checksum(algorithm: str, part_checksums: list[str]) -> str:
    """S3's checksum-of-checksums for a COMPOSITE multipart object: ``b64(H(d1||d2..))-N``."""
    raw = b"".join(base64.b64decode(value) for value in part_checksums)
    return f"{checksum_b64(algorithm, raw)}-{len(part_checksums)}"
