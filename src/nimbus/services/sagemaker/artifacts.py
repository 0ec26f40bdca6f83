"""Model artifacts: ``model.tar.gz`` from Nimbus S3, unpacked once into a content-named folder.

:func:`fetch` reads S3 on the event loop; :func:`prepare` blocks (unpacks, runs pip): callers
run it in a thread.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from nimbus.aws.errors import AwsError


class ArtifactError(Exception):
    """Why a model's data could not be made ready (becomes the endpoint's FailureReason)."""


def _read_s3(registry: Any, url: str) -> bytes:
    from nimbus.services.s3.conditions import Preconditions

    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise ArtifactError(f"ModelDataUrl {url} is not an s3://bucket/key URL.")
    bucket, key = parsed.netloc, parsed.path.lstrip("/")
    try:
        read = registry.get("s3").engine.read_object(bucket, key, Preconditions())
    except AwsError as err:
        raise ArtifactError(
            f"Failed to download model data (bucket: {bucket}, key: {key}): {err.code}: "
            f"{err.message} Please ensure the model data exists at {url}."
        ) from None
    return b"".join(read.body)


def _unpack(data: bytes, target: Path, url: str) -> None:
    tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.partial")
    tmp.mkdir(parents=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            # The "data" filter refuses absolute paths, ".." and links out of the folder.
            archive.extractall(tmp, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ArtifactError(
            f"Failed to extract model data archive from URL {url}. Please ensure that the "
            f"object located at the URL is a valid tar.gz archive. ({exc})"
        ) from None
    try:
        tmp.rename(target)
    except OSError:  # the same archive was unpacked concurrently
        shutil.rmtree(tmp, ignore_errors=True)


def fetch(registry: Any, container: dict[str, Any]) -> tuple[str, bytes | None]:
    """(ModelDataUrl, the archive's bytes) of a container definition; (url, None) without data.

    Runs on the event loop: S3's database connection belongs to it.
    """
    url = container.get("ModelDataUrl") or (
        ((container.get("ModelDataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
    )
    return (url, _read_s3(registry, url)) if url else ("", None)


def prepare(data_dir: Path, url: str, data: bytes | None, model: str) -> tuple[str, str]:
    """(model folder, installed requirements folder or "") for fetched model data (blocking)."""
    if data is None:
        target = data_dir / "models" / "empty"
        target.mkdir(parents=True, exist_ok=True)
    else:
        target = data_dir / "models" / hashlib.sha256(data).hexdigest()[:32]
        if not target.is_dir():
            _unpack(data, target, url)
    code_dir = target / "code"
    from nimbus.services.lambda_ import deps

    if deps.requirements_of(code_dir) is None:
        return str(target), ""
    try:
        return str(target), deps.ensure(data_dir, code_dir, model) or ""
    except AwsError as err:
        raise ArtifactError(err.message.replace("for function", "for model")) from None
