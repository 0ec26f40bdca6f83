"""Published function versions (immutable snapshots of code + configuration) and aliases."""

from __future__ import annotations

import copy
import os
import random
import re
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import AwsError
from nimbus.services.lambda_ import code
from nimbus.services.lambda_.code import invalid
from nimbus.services.lambda_.store import FunctionRecord
from nimbus.services.lambda_.versions_store import VersionStore, version_doc, version_record

if TYPE_CHECKING:
    from nimbus.services.lambda_.engine import LambdaEngine

ALIAS_NAME = re.compile(r"^(?!\d+$)[a-zA-Z0-9_-]{1,128}$")
FUNCTION_VERSION = re.compile(r"^(\$LATEST|\d{1,1024})$")


def not_found(message: str) -> AwsError:
    return AwsError("ResourceNotFoundException", message, 404, extra={"Type": "User"})


def conflict(message: str) -> AwsError:
    return AwsError("ResourceConflictException", message, 409, extra={"Type": "User"})


def _comparable(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != "Description"}


class Versions:
    def __init__(self, engine: LambdaEngine) -> None:
        self.engine = engine
        self.store = VersionStore(engine.store.db)

    # -- resolving qualifiers -----------------------------------------------------------------
    def resolve(self, latest: FunctionRecord, qualifier: str, route: bool) -> FunctionRecord:
        """A version number or an alias -> that version (an alias may route by weight)."""
        if qualifier.isdigit():
            return self.version(latest, int(qualifier))
        alias = self.store.alias(latest.name, qualifier)
        if alias is None:
            raise not_found(f"Function not found: {self.engine.arn(latest.name)}:{qualifier}")
        target = alias["FunctionVersion"]
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        if route and weights:
            draw = random.random()
            for other, weight in weights.items():
                if draw < weight:
                    target = other
                    break
                draw -= weight
        if target == "$LATEST":
            return latest
        return self.version(latest, int(target))

    def version(self, latest: FunctionRecord, number: int) -> FunctionRecord:
        doc = self.store.version(latest.name, number)
        if doc is None:
            raise not_found(f"Function not found: {self.engine.arn(latest.name)}:{number}")
        return version_record(latest, number, doc)

    def save(self, rec: FunctionRecord) -> None:
        self.store.put_version(rec.name, int(rec.version), version_doc(rec))

    def all(self, latest: FunctionRecord) -> list[FunctionRecord]:
        return [version_record(latest, n, doc) for n, doc in self.store.versions(latest.name)]

    def code_paths(self, name: str) -> set[str]:
        return {doc["code_path"] for _, doc in self.store.versions(name)}

    # -- publishing ---------------------------------------------------------------------------
    def publish(self, req: dict[str, Any]) -> FunctionRecord:
        latest = self.engine.unqualified(req["FunctionName"])
        self.engine.check_revision(latest, req.get("RevisionId"))
        if latest.local:  # the folder may have been edited since it was deployed
            sha, size = code.folder_digest(Path(latest.code_path))
            if sha != latest.code_sha:
                latest.code_sha, latest.code_size = sha, size
                self.engine.save(latest)
        wanted = req.get("CodeSha256")
        if wanted and wanted != latest.code_sha:
            raise invalid(
                f"CodeSHA256 ({wanted}) is different from current CodeSHA256 in $LATEST "
                f"({latest.code_sha}). Please try again."
            )
        last = self.store.latest_version(latest.name)
        if last is not None:
            number, doc = last
            same_config = _comparable(doc["config"]) == _comparable(latest.config)
            if doc["code_sha"] == latest.code_sha and same_config:
                return version_record(latest, number, doc)
        path = self._frozen_code(latest) if latest.local else latest.code_path
        config = copy.deepcopy(latest.config)
        if req.get("Description") is not None:
            config["Description"] = req["Description"]
        number = self.store.next_number("function", latest.name)
        rec = FunctionRecord(latest.name, config, latest.code_sha, latest.code_size, path,
                             False, latest.last_modified, str(uuid.uuid4()),
                             latest.concurrency, tags=latest.tags,
                             version=str(number))  # fmt: skip
        self.save(rec)
        return rec

    def _frozen_code(self, latest: FunctionRecord) -> str:
        """A copy of a local folder as it is now: a version's code never changes."""
        target = self.engine.data_dir / "code" / latest.name / code.code_dir_name(latest.code_sha)
        if not target.is_dir():
            tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.partial")
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(latest.code_path, tmp, ignore=ignore, symlinks=True)
            try:
                os.replace(tmp, target)
            except OSError:  # another publish froze the same code first
                shutil.rmtree(tmp, ignore_errors=True)
        return str(target)

    def delete(self, latest: FunctionRecord, qualifier: str) -> None:
        if qualifier == "$LATEST":
            raise invalid("$LATEST version cannot be deleted without deleting the function.")
        if not qualifier.isdigit():
            raise invalid(f"Deletion of aliases is not supported by DeleteFunction: {qualifier}")
        rec = self.version(latest, int(qualifier))
        users = [a["Name"] for a in self.store.aliases(latest.name) if _points_at(a, rec.version)]
        if users:
            raise conflict(
                "Unable to delete version because the following aliases reference it: "
                f"[{', '.join(users)}]"
            )
        self.store.delete_version(latest.name, int(rec.version))
        self.engine.runtime.retire(rec.pool_key)
        if rec.code_path != latest.code_path and rec.code_path not in self.code_paths(rec.name):
            root = self.engine.data_dir / "code" / latest.name
            if Path(rec.code_path).parent == root:
                shutil.rmtree(rec.code_path, ignore_errors=True)

    # -- aliases ------------------------------------------------------------------------------
    def alias_arn(self, function: str, alias: str) -> str:
        return f"{self.engine.arn(function)}:{alias}"

    def get_alias(self, function: str, name: str) -> dict[str, Any]:
        latest = self.engine.unqualified(function)
        doc = self.store.alias(latest.name, name)
        if doc is None:
            raise not_found(f"Alias not found: {self.alias_arn(latest.name, name)}")
        return doc

    def _check_target(self, latest: FunctionRecord, doc: dict[str, Any]) -> None:
        target = str(doc["FunctionVersion"])
        if not FUNCTION_VERSION.match(target):
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{target}' at 'functionVersion' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "(\\$LATEST|[0-9]+)",
                400,
            )
        if target != "$LATEST":
            self.version(latest, int(target))
        weights = (doc.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        if len(weights) > 1:
            raise invalid("Number of items in AdditionalVersionWeights cannot be greater than 1")
        for other, weight in weights.items():
            if target == "$LATEST" or not str(other).isdigit():
                raise invalid(
                    "$LATEST is not supported for an alias pointing to more than 1 version"
                )
            if str(other) == target:
                raise invalid(
                    f"Invalid function version {other}. Function version {other} is already "
                    "included in routing configuration."
                )
            if not 0.0 <= float(weight) <= 1.0:
                raise invalid(f"Invalid weight {weight}: a weight must be between 0.0 and 1.0.")
            self.version(latest, int(other))

    def create_alias(self, req: dict[str, Any]) -> dict[str, Any]:
        latest = self.engine.unqualified(req["FunctionName"])
        name = req["Name"]
        if not ALIAS_NAME.match(name):
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{name}' at 'name' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "(?!^[0-9]+$)([a-zA-Z0-9-_]+)",
                400,
            )
        if self.store.alias(latest.name, name) is not None:
            raise conflict(f"Alias already exists: {self.alias_arn(latest.name, name)}")
        doc = {
            "Name": name,
            "FunctionVersion": str(req["FunctionVersion"]),
            "Description": req.get("Description") or "",
            "RoutingConfig": req.get("RoutingConfig") or {},
            "RevisionId": str(uuid.uuid4()),
        }
        self._check_target(latest, doc)
        self.store.put_alias(latest.name, doc)
        return self.alias_shape(latest.name, doc)

    def update_alias(self, req: dict[str, Any]) -> dict[str, Any]:
        doc = self.get_alias(req["FunctionName"], req["Name"])
        latest = self.engine.unqualified(req["FunctionName"])
        if req.get("RevisionId") and req["RevisionId"] != doc["RevisionId"]:
            raise AwsError(
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetFunction/GetAlias API to retrieve the latest Revision Id",
                412,
                extra={"Type": "User"},
            )
        if req.get("FunctionVersion") is not None:
            doc["FunctionVersion"] = str(req["FunctionVersion"])
        if req.get("Description") is not None:
            doc["Description"] = req["Description"]
        if req.get("RoutingConfig") is not None:
            doc["RoutingConfig"] = req["RoutingConfig"]
        self._check_target(latest, doc)
        doc["RevisionId"] = str(uuid.uuid4())
        self.store.put_alias(latest.name, doc)
        return self.alias_shape(latest.name, doc)

    def delete_alias(self, function: str, name: str) -> None:
        latest = self.engine.unqualified(function)
        self.store.delete_alias(latest.name, name)  # deleting a missing alias is not an error

    def alias_shape(self, function: str, doc: dict[str, Any]) -> dict[str, Any]:
        out = {"AliasArn": self.alias_arn(function, doc["Name"]), **doc}
        if not (out.get("RoutingConfig") or {}).get("AdditionalVersionWeights"):
            out.pop("RoutingConfig", None)
        return out


def _points_at(alias: dict[str, Any], version: str) -> bool:
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return alias["FunctionVersion"] == version or version in weights
