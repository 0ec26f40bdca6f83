"""A function's ``requirements.txt``, installed at deploy time into a folder of the data directory.

``python -m pip install -r requirements.txt --target <folder>`` runs with the interpreter Nimbus
(and so every worker) runs on, in the code folder (relative paths such as ``./pkg.whl`` resolve
there). The folder is named by a digest of the requirements file and the interpreter, so an
unchanged file is never installed twice. pip's own settings apply (``PIP_NO_INDEX=1``,
``PIP_FIND_LINKS``, ``PIP_INDEX_URL``) for offline or private-index installs.

This module blocks (pip takes seconds): callers run :func:`ensure` in a thread.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from nimbus.services.lambda_.code import invalid

REQUIREMENTS = "requirements.txt"
PIP_TIMEOUT_S = 900.0
_ERROR_LINES = 8


def requirements_of(code_dir: str | Path) -> Path | None:
    path = Path(code_dir) / REQUIREMENTS
    return path if path.is_file() else None


def _digest(requirements: Path) -> str:
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"\0{sys.version}\0{sys.executable}".encode())
    return digest.hexdigest()


def ensure(data_dir: Path, code_dir: str | Path, function: str) -> str | None:
    """The folder holding the installed requirements of ``code_dir`` (None: it has none)."""
    requirements = requirements_of(code_dir)
    if requirements is None:
        return None
    target = data_dir / "deps" / _digest(requirements)
    if target.is_dir():
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.partial")
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
           "--no-input", "--quiet", "--no-warn-script-location", "--target", str(tmp),
           "-r", REQUIREMENTS]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    try:
        done = subprocess.run(
            cmd,
            cwd=str(requirements.parent),
            env=env,
            capture_output=True,
            text=True,
            timeout=PIP_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _failed(function, f"pip did not finish within {PIP_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        lines = [ln for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
        raise _failed(function, "\n".join(lines[-_ERROR_LINES:]) or f"exit {done.returncode}")
    tmp.mkdir(exist_ok=True)  # an empty requirements file installs nothing
    try:
        os.replace(tmp, target)
    except OSError:  # a concurrent deploy of the same requirements finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return str(target)


def _failed(function: str, detail: str) -> Exception:
    return invalid(
        f"Installing {REQUIREMENTS} for function {function} failed (python -m pip install -r "
        f"{REQUIREMENTS}): {detail}"
    )
