"""Function code on disk: zip packages unpacked safely, local folders fingerprinted."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from nimbus.aws.errors import AwsError

UNZIPPED_LIMIT = 262_144_000  # AWS's 250 MB unzipped deployment package limit


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterValueException", message, 400, extra={"Type": "User"})


def sha256_b64(data: bytes) -> str:
    """CodeSha256 as AWS reports it: base64 of the package's SHA-256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def code_dir_name(code_sha: str) -> str:
    # base64 has '/', so the folder name is the hex form of the same digest.
    return base64.b64decode(code_sha).hex()


def unpack_zip(data: bytes, target: Path) -> None:
    """Extract a deployment package, refusing members that would land outside ``target``."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise invalid(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None
    if sum(m.file_size for m in members) > UNZIPPED_LIMIT:
        raise invalid(f"Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes")
    for member in members:
        path = PurePosixPath(member.filename.replace("\\", "/"))
        if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
            raise invalid(
                f"Could not unzip uploaded file: the member '{member.filename}' points outside "
                "the package."
            )
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for member in members:
            dest = tmp.joinpath(*PurePosixPath(member.filename.replace("\\", "/")).parts)
            if member.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
            mode = (member.external_attr >> 16) & 0o777
            if mode:
                os.chmod(dest, mode | stat.S_IRUSR)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _py_files(folder: str) -> list[os.DirEntry[str]]:
    found: list[os.DirEntry[str]] = []
    stack = [folder]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith(".") and entry.name != "__pycache__":
                        stack.append(entry.path)
                elif entry.name.endswith(".py"):
                    found.append(entry)
    return found


def folder_fingerprint(folder: str) -> tuple[int, int]:
    """(newest mtime, count) of the folder's .py files: a changed or new module changes it."""
    try:
        files = _py_files(folder)
        newest = max((e.stat().st_mtime_ns for e in files), default=0)
    except OSError:
        return (0, 0)
    return (newest, len(files))


def folder_digest(folder: Path) -> tuple[str, int]:
    """A CodeSha256 and CodeSize for a local folder (paths and contents of its files)."""
    if not folder.is_dir():
        raise invalid(f"The code folder {folder} does not exist.")
    digest = hashlib.sha256()
    size = 0
    for path in sorted(
        p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ):
        data = path.read_bytes()
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(hashlib.sha256(data).digest())
        size += len(data)
    return base64.b64encode(digest.digest()).decode(), size
