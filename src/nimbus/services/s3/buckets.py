"""Bucket lifecycle and the per-bucket configuration documents (CORS, website, policy, ...)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.s3.core import EngineCore, now

_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def validate_bucket_name(name: str) -> None:
    problem = None
    if not _NAME.match(name):
        problem = (
            "Bucket names must be 3-63 characters of lowercase letters, digits, dots and "
            "hyphens, beginning and ending with a letter or digit"
        )
    elif ".." in name or ".-" in name or "-." in name:
        problem = "Bucket names must not contain '..', '.-' or '-.'"
    elif name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        problem = "Bucket names must not use a reserved prefix or suffix"
    else:
        try:
            ipaddress.IPv4Address(name)
            problem = "Bucket names must not be formatted as an IP address"
        except ValueError:
            pass
    if problem:
        raise AwsError(
            "InvalidBucketName",
            f"The specified bucket is not valid. {problem}.",
            400,
            extra={"BucketName": name},
        )


class BucketsMixin(EngineCore):
    def create_bucket(self, name: str, owner: str, location: str | None) -> None:
        validate_bucket_name(name)
        with self.tx() as db:
            row = db.execute(
                "SELECT owner, location FROM buckets WHERE name = ?", (name,)
            ).fetchone()
            if row is not None:
                if row[0] == owner and row[1] is None and location is None:
                    # S3's legacy us-east-1 behaviour: re-creating your own bucket is a 200.
                    return
                if row[0] == owner:
                    raise AwsError(
                        "BucketAlreadyOwnedByYou",
                        "Your previous request to create the named bucket succeeded and you "
                        "already own it.",
                        409,
                        extra={"BucketName": name},
                    )
                raise AwsError(
                    "BucketAlreadyExists",
                    "The requested bucket name is not available. The bucket namespace is shared "
                    "by all users of the system. Please select a different name and try again.",
                    409,
                    extra={"BucketName": name},
                )
            db.execute(
                "INSERT INTO buckets (name, created, owner, location) VALUES (?, ?, ?, ?)",
                (name, now(), owner, location),
            )

    def delete_bucket(self, name: str) -> None:
        self.require_bucket(name)
        with self.tx() as db:
            if db.execute("SELECT 1 FROM objects WHERE bucket = ? LIMIT 1", (name,)).fetchone():
                raise AwsError(
                    "BucketNotEmpty",
                    "The bucket you tried to delete is not empty",
                    409,
                    extra={"BucketName": name},
                )
            # Abandoned multipart uploads do not keep a bucket alive; their parts go with it.
            blobs = [
                row[0]
                for row in db.execute(
                    "SELECT p.blob FROM parts p JOIN uploads u USING (upload_id) "
                    "WHERE u.bucket = ?",
                    (name,),
                )
            ]
            db.execute("DELETE FROM uploads WHERE bucket = ?", (name,))
            db.execute("DELETE FROM buckets WHERE name = ?", (name,))
        for blob in blobs:
            self.blobs.delete(blob)

    def list_buckets(self, owner: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT name, created, location FROM buckets WHERE owner = ? ORDER BY name", (owner,)
        )
        return [
            {"name": name, "created": created, "region": location or "us-east-1"}
            for name, created, location in rows
        ]

    def bucket_region(self, name: str) -> str:
        return self.require_bucket(name)["location"] or "us-east-1"
