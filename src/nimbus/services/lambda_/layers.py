"""Lambda layers: published versions of a zip whose ``python/`` folder joins a function's path.

On AWS a function's layers are extracted into ``/opt`` in order (a later layer's files win) and
``/opt/python/lib/python3.x/site-packages`` then ``/opt/python`` follow the function's own code
on ``sys.path``. Nimbus keeps every layer version's contents in its own folder of the data
directory, named by the content's digest (never by a name a user chose), and puts the same
folders on the worker's path: all site-packages folders, then all ``python`` folders, the last
layer first.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import AwsError
from nimbus.services.lambda_ import code
from nimbus.services.lambda_.code import invalid

if TYPE_CHECKING:
    from nimbus.services.lambda_.engine import LambdaEngine

LAYER_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,140}$")
LAYER_ARN = re.compile(r"^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:([a-zA-Z0-9_-]+)$")
LAYER_VERSION_ARN = re.compile(
    r"^arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:([a-zA-Z0-9_-]+):(\d+)$"
)
MAX_LAYERS = 5
_OPTIONAL = ("CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures")


def not_found() -> AwsError:
    return AwsError(
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
        404,
        extra={"Type": "User"},
    )


def _validation(value: str, member: str, pattern: str) -> AwsError:
    return AwsError(
        "ValidationException",
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {pattern}",
        400,
    )


class Layers:
    def __init__(self, engine: LambdaEngine) -> None:
        self.engine = engine
        self.store = engine.versions.store
        self.root = engine.data_dir / "layers"

    def layer_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.engine.region}:{self.engine.account_id}:layer:{name}"

    def name(self, name_or_arn: str) -> str:
        found = LAYER_ARN.match(name_or_arn)
        if found:
            return found.group(1)
        if not LAYER_NAME.match(name_or_arn):
            raise _validation(name_or_arn, "layerName", "[a-zA-Z0-9-_]+")
        return name_or_arn

    # -- publishing ---------------------------------------------------------------------------
    def publish(self, req: dict[str, Any], folder: Path | None = None) -> dict[str, Any]:
        """A new layer version from ``Content`` (zip or S3 object) or, for SAM, a local folder."""
        name = self.name(req["LayerName"])
        if folder is not None:
            sha, size = code.folder_digest(folder)
            target = self.root / code.code_dir_name(sha)
            if not target.is_dir():
                self._copy_folder(folder, target)
        else:
            data = self.engine.zip_bytes(req.get("Content") or {})
            sha, size = code.sha256_b64(data), len(data)
            target = self.root / code.code_dir_name(sha)
            if not target.is_dir():
                code.unpack_zip(data, target)  # refuses members outside the folder (zip slip)
        number = self.store.next_number("layer", name)
        doc: dict[str, Any] = {
            "LayerName": name,
            "Version": number,
            "Description": req.get("Description") or "",
            "CreatedDate": _timestamp(),
            "CodeSha256": sha,
            "CodeSize": size,
            "path": str(target),
        }
        doc.update({k: req[k] for k in _OPTIONAL if req.get(k)})
        self.store.put_layer(name, number, doc)
        return doc

    def _copy_folder(self, folder: Path, target: Path) -> None:
        tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.partial")
        shutil.copytree(folder, tmp, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        try:
            os.replace(tmp, target)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)

    # -- reading ------------------------------------------------------------------------------
    def get(self, name_or_arn: str, number: int) -> dict[str, Any]:
        doc = self.store.layer(self.name(name_or_arn), int(number))
        if doc is None:
            raise not_found()
        return doc

    def get_by_arn(self, arn: str) -> dict[str, Any]:
        found = LAYER_VERSION_ARN.match(arn or "")
        if not found:
            raise _validation(
                arn,
                "arn",
                "arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+",
            )
        return self.get(found.group(1), int(found.group(2)))

    def versions(self, name: str | None, runtime: str | None, arch: str | None) -> list[dict]:
        docs = self.store.layer_versions(self.name(name) if name else None)
        if runtime:
            docs = [d for d in docs if runtime in (d.get("CompatibleRuntimes") or [])]
        if arch:
            docs = [d for d in docs if arch in (d.get("CompatibleArchitectures") or [])]
        return docs

    def delete(self, name_or_arn: str, number: int) -> None:
        """Removes the version; its files stay for functions that use it (as on AWS)."""
        self.store.delete_layer(self.name(name_or_arn), int(number))

    # -- shapes -------------------------------------------------------------------------------
    def version_arn(self, doc: dict[str, Any]) -> str:
        return f"{self.layer_arn(doc['LayerName'])}:{doc['Version']}"

    def list_item(self, doc: dict[str, Any]) -> dict[str, Any]:
        out = {
            "LayerVersionArn": self.version_arn(doc),
            "Version": doc["Version"],
            "Description": doc["Description"],
            "CreatedDate": doc["CreatedDate"],
        }
        out.update({k: doc[k] for k in _OPTIONAL if doc.get(k)})
        return out

    def shape(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {
            "Content": {
                "Location": f"file://{doc['path']}",
                "CodeSha256": doc["CodeSha256"],
                "CodeSize": doc["CodeSize"],
            },
            "LayerArn": self.layer_arn(doc["LayerName"]),
            **self.list_item(doc),
        }

    # -- functions that use layers ------------------------------------------------------------
    def resolve(self, arns: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
        """A function's ``Layers`` -> (its Layers configuration, the folders for sys.path)."""
        if len(arns) > MAX_LAYERS:
            raise invalid(f"Cannot reference more than {MAX_LAYERS} layers.")
        info: list[dict[str, Any]] = []
        site: list[str] = []
        plain: list[str] = []
        py = f"python{sys.version_info.major}.{sys.version_info.minor}"
        for arn in arns:
            found = LAYER_VERSION_ARN.match(arn or "")
            if not found:
                raise _validation(
                    arn,
                    "layers",
                    "arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+",
                )
            doc = self.store.layer(found.group(1), int(found.group(2)))
            if doc is None or not arn.startswith(self.layer_arn(found.group(1)) + ":"):
                raise invalid(f"Layer version {arn} does not exist.")
            info.append({"Arn": arn, "CodeSize": doc["CodeSize"]})
            root = Path(doc["path"]) / "python"
            site.insert(0, str(root / "lib" / py / "site-packages"))
            plain.insert(0, str(root))
        return info, [p for p in site + plain if os.path.isdir(p)]


def _timestamp() -> str:
    from nimbus.services.lambda_.engine import timestamp

    return timestamp()
