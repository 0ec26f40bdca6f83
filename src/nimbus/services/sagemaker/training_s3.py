"""S3 transfers of a training job, made as SageMaker makes them: with the job's role.

These functions block (boto3 against Nimbus's own endpoint); the runner calls them in a
worker thread so the server's event loop keeps answering, including these very requests.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError


class JobFailure(Exception):
    """The job fails with this ``FailureReason`` (``ClientError: ...``, ``AlgorithmError: ...``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:1024]


def s3_client(base_url: str, region: str, creds: dict[str, Any]) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=base_url,
        region_name=region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(retries={"max_attempts": 2}, s3={"addressing_style": "path"}),
    )


def split_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise JobFailure(f"ClientError: {uri!r} is not an S3 URI (s3://bucket/key).")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _safe_relative(key: str, prefix: str) -> Path | None:
    rel = key[len(prefix) :].lstrip("/")
    parts = PurePosixPath(rel).parts
    if not rel or rel.endswith("/") or any(p in ("..", ".") for p in parts):
        return None
    return Path(*parts)


def download_prefix(s3: Any, uri: str, dest: Path, region: str, role: str) -> int:
    """Every object under the S3Prefix ``uri`` into ``dest``, keyed relative to the prefix."""
    bucket, prefix = split_uri(uri)
    count = 0
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents") or []:
                rel = _safe_relative(obj["Key"], prefix)
                if rel is None:
                    continue
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, obj["Key"], str(target))
                count += 1
    except (ClientError, BotoCoreError) as err:
        raise JobFailure(f"ClientError: Data download failed: {err}") from None
    if count == 0:
        raise JobFailure(
            f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data '
            f"source. Please ensure that the bucket exists in the selected region ({region}), "
            f'that objects exist under that S3 prefix, and that the role "{role}" has '
            f'"s3:ListBucket" permissions on bucket "{bucket}".'
        )
    return count


def download_source(s3: Any, uri: str, dest: Path) -> None:
    """The SDK's ``sourcedir.tar.gz`` (``sagemaker_submit_directory``) unpacked into ``dest``."""
    if uri.startswith("file://"):
        data = Path(uri[7:]).read_bytes()
    else:
        bucket, key = split_uri(uri)
        try:
            data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as err:
            raise JobFailure(
                f"ClientError: could not download the source archive {uri}: {err}"
            ) from None
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as err:
        raise JobFailure(
            f"ClientError: the source archive {uri} is not a tar.gz archive: {err}"
        ) from None


def pack(folder: Path) -> bytes:
    """A ``tar.gz`` of the folder's contents (names relative to it, as SageMaker packs)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buffer.getvalue()


def upload_tarball(s3: Any, folder: Path, uri: str) -> None:
    bucket, key = split_uri(uri)
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=pack(folder))
    except (ClientError, BotoCoreError) as err:
        raise JobFailure(f"ClientError: Uploading the output to {uri} failed: {err}") from None


def output_uri(s3_output_path: str, job_name: str, file_name: str) -> str:
    return f"{s3_output_path.rstrip('/')}/{job_name}/output/{file_name}"
