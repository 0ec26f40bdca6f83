"""Lambda's rules: functions and their code, configuration, concurrency and resource policy."""

from __future__ import annotations

import json
import logging
import re
import shutil
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from nimbus.aws.errors import AwsError
from nimbus.services.lambda_ import code, deps
from nimbus.services.lambda_.code import invalid
from nimbus.services.lambda_.layers import Layers
from nimbus.services.lambda_.runtime import RESERVED_ENV, Runtime
from nimbus.services.lambda_.store import FunctionRecord, LambdaStore
from nimbus.services.lambda_.versions import Versions

log = logging.getLogger("nimbus.lambda")
_INTERPRETER = f"python{sys.version_info.major}.{sys.version_info.minor}"

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")
SETTABLE = ("Runtime", "Role", "Handler", "Description", "Timeout", "MemorySize",
            "Environment", "DeadLetterConfig", "TracingConfig", "EphemeralStorage",
            "Layers")  # fmt: skip
Staged = tuple[str, int, str]  # CodeSha256, CodeSize, the unpacked code folder


def not_found(arn: str) -> AwsError:
    return AwsError(
        "ResourceNotFoundException", f"Function not found: {arn}", 404, extra={"Type": "User"}
    )


def conflict(message: str) -> AwsError:
    return AwsError("ResourceConflictException", message, 409, extra={"Type": "User"})


def timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


class LambdaEngine:
    def __init__(self, data_dir: Path, region: str, account_id: str, registry: Any,
                 base_url: str) -> None:  # fmt: skip
        self.data_dir = data_dir
        self.region = region
        self.account_id = account_id
        self.registry = registry
        self.told_about: set[str] = set()  # runtimes already reported as differing
        self.store = LambdaStore(data_dir)
        self.runtime = Runtime(registry, region, base_url)
        self.runtime.reserved_total = self.store.reserved_total()
        self._cache: dict[str, FunctionRecord] = {}
        self.versions = Versions(self)
        self.layers = Layers(self)

    def close(self) -> None:
        self.runtime.close()
        self.store.close()

    # -- names --------------------------------------------------------------------------------
    def arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def split_name(self, name_or_arn: str) -> tuple[str, str | None]:
        """A name, full or partial ARN, optionally with ``:qualifier`` -> (name, qualifier)."""
        parts = name_or_arn.split(":")
        if name_or_arn.startswith("arn:") and len(parts) >= 7:
            return parts[6], parts[7] if len(parts) > 7 else None
        if len(parts) >= 3 and parts[1] == "function":
            return parts[2], parts[3] if len(parts) > 3 else None
        if len(parts) == 2:
            return parts[0], parts[1]
        return name_or_arn, None

    def function(
        self, name_or_arn: str, qualifier: str | None = None, route: bool = False
    ) -> FunctionRecord:
        """$LATEST, a published version, or the version an alias points at (``route``: pick
        by the alias's weights, as an invoke does)."""
        name, qual = self.split_name(name_or_arn)
        if qualifier and qual and qualifier != qual:
            raise invalid(
                "The derived qualifier from the function name does not match the specified "
                "qualifier."
            )
        qual = qualifier or qual
        rec = self._cache.get(name)
        if rec is None:
            rec = self.store.get(name)
            if rec is None:
                raise not_found(self.arn(name) + (f":{qual}" if qual else ""))
            self._cache[name] = rec
        if qual not in (None, "$LATEST"):
            return self.versions.resolve(rec, qual, route)
        return rec

    def unqualified(self, name_or_arn: str) -> FunctionRecord:
        """The function itself, for operations that take no version or alias."""
        rec = self.function(name_or_arn)
        if rec.version != "$LATEST":
            raise invalid(f"This operation does not take a qualified function name: {name_or_arn}")
        return rec

    def save(self, rec: FunctionRecord) -> None:
        if rec.version != "$LATEST":
            self.versions.save(rec)
            return
        self.store.put(rec)
        self._cache[rec.name] = rec

    # -- validation ---------------------------------------------------------------------------
    def _check_config(self, cfg: dict[str, Any]) -> None:
        runtime = cfg.get("Runtime")
        if runtime is not None and not str(runtime).startswith("python3"):
            raise invalid(
                f"The runtime parameter of {runtime} is not supported by Nimbus, which runs "
                "python3.x functions on its own interpreter."
            )
        if runtime is not None and runtime != _INTERPRETER and runtime not in self.told_about:
            self.told_about.add(runtime)  # once per runtime, not per function
            log.warning(
                "%s functions run on %s, the interpreter Nimbus runs on (%s)",
                runtime, _INTERPRETER, sys.executable,
            )  # fmt: skip
        if "Role" in cfg:
            self._check_role(cfg["Role"])
        variables = (cfg.get("Environment") or {}).get("Variables") or {}
        reserved = sorted(k for k in variables if k in RESERVED_ENV)
        if reserved:
            raise invalid(
                "Lambda was unable to configure your environment variables because the "
                "environment variables you have provided contains reserved keys that are "
                f"currently not supported for modification. Reserved keys used in this "
                f"request: {', '.join(reserved)}"
            )
        if len(json.dumps(variables)) > 4096:
            raise invalid(
                "Lambda was unable to configure your environment variables because the "
                "environment variables you have provided exceeded the 4KB limit."
            )

    def _check_role(self, role: str) -> None:
        if not ROLE_ARN.match(role or ""):
            raise AwsError(
                "ValidationException",
                f"1 validation error detected: Value '{role}' at 'role' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
                400,
            )
        try:
            found = self.registry.get("iam").engine.role_by_arn(role)
        except AwsError:
            found = None
        trust = unquote(json.dumps((found or {}).get("AssumeRolePolicyDocument") or ""))
        if found is None or "lambda.amazonaws.com" not in trust:
            raise invalid("The role defined for the function cannot be assumed by Lambda.")

    # -- code ---------------------------------------------------------------------------------
    def zip_bytes(self, spec: dict[str, Any]) -> bytes:
        if spec.get("ZipFile") is not None:
            return spec["ZipFile"]
        bucket, key = spec.get("S3Bucket"), spec.get("S3Key")
        if bucket and key:
            from nimbus.services.s3.conditions import Preconditions

            s3 = self.registry.get("s3").engine
            try:
                read = s3.read_object(bucket, key, Preconditions())
            except AwsError:
                raise invalid(
                    f"Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: "
                    f"The specified key does not exist. (bucket {bucket}, key {key})"
                ) from None
            return b"".join(read.body)
        if spec.get("ImageUri"):
            raise invalid("Nimbus runs Zip packages only; container images are not supported.")
        raise invalid("Please provide a source for function code.")

    def stage(self, name: str, spec: dict[str, Any]) -> Staged:
        """Unpack a package into its content-named folder (before anything else changes)."""
        data = self.zip_bytes(spec)
        sha = code.sha256_b64(data)
        target = self.data_dir / "code" / name / code.code_dir_name(sha)
        if not target.is_dir():
            code.unpack_zip(data, target)
        return sha, len(data), str(target)

    def has_requirements(self, code_dir: str | Path) -> bool:
        return deps.requirements_of(code_dir) is not None

    def install_requirements(self, name: str, code_dir: str | Path) -> str | None:
        """Blocking (pip): run it in a thread. -> the folder with the installed packages."""
        return deps.ensure(self.data_dir, code_dir, name)

    def _drop_old_code(self, name: str, keep: str) -> None:
        folder = self.data_dir / "code" / name
        used = {keep, *self.versions.code_paths(name)}  # a published version's code stays
        if folder.is_dir():
            for child in folder.iterdir():
                if str(child) not in used:
                    shutil.rmtree(child, ignore_errors=True)

    # -- functions ----------------------------------------------------------------------------
    def check_create(self, req: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(name, configuration) of a valid CreateFunction request for a new function."""
        name = req["FunctionName"]
        if not NAME.match(name):
            name = self.split_name(name)[0]
        if self.store.get(name) is not None:
            raise conflict(f"Function already exist: {name}")
        if req.get("PackageType") == "Image":
            raise invalid("Nimbus runs Zip packages only; container images are not supported.")
        for required in ("Runtime", "Handler"):
            if not req.get(required):
                raise invalid(f"{required} must be specified for Zip packages.")
        cfg = {k: req[k] for k in SETTABLE if req.get(k) is not None}
        self._check_config(cfg)
        self._derive(cfg)
        return name, cfg

    def create(self, req: dict[str, Any], staged: Staged | None = None,
               installed: str | None = None) -> FunctionRecord:  # fmt: skip
        name, cfg = self.check_create(req)
        sha, size, path = staged or self.stage(name, req.get("Code") or {})
        self._derive(cfg, installed)
        return self._new(name, cfg, sha, size, path, False, req.get("Tags") or {})

    def create_from_folder(self, name: str, folder: str | Path, cfg: dict[str, Any],
                           installed: str | None = None) -> FunctionRecord:  # fmt: skip
        """A function whose code is a local folder used in place (edits apply on next invoke)."""
        folder = Path(folder).resolve()
        sha, size = code.folder_digest(folder)
        cfg = {k: v for k, v in cfg.items() if k in SETTABLE and v is not None}
        cfg.setdefault("Runtime", "python3.11")
        self._check_config(cfg)
        existing = self.store.get(name)
        if existing is not None:
            before = existing.config
            existing.config = {**before, **cfg}
            if "Layers" not in cfg:
                existing.config.pop("Layers", None)
            self._derive(existing.config, installed, before)
            existing.code_sha, existing.code_size, existing.code_path = sha, size, str(folder)
            existing.local = True
            return self._touch(existing)
        self._derive(cfg, installed)
        return self._new(name, cfg, sha, size, str(folder), True, {})

    def _derive(self, cfg: dict[str, Any], installed: str | bool | None = False,
                before: dict[str, Any] | None = None) -> None:  # fmt: skip
        """Internal members: installed requirements and layers -> the worker's extra sys.path
        (``installed``: the requirements folder, None for none, False to keep the current one).
        Unchanged ``Layers`` keep their folders, even of a layer version deleted since."""
        if installed is not False:
            cfg.pop("_Deps", None)
            if installed:
                cfg["_Deps"] = installed
        if before and before.get("Layers") == cfg.get("Layers") and "_LayerDirs" in before:
            info, dirs = before["_LayerInfo"], before["_LayerDirs"]
        else:
            info, dirs = self.layers.resolve(cfg.get("Layers") or [])
        cfg["_LayerInfo"], cfg["_LayerDirs"] = info, dirs
        cfg["_LayerPaths"] = ([cfg["_Deps"]] if cfg.get("_Deps") else []) + dirs

    def _new(self, name: str, cfg: dict[str, Any], sha: str, size: int, path: str, local: bool,
             tags: dict[str, str]) -> FunctionRecord:  # fmt: skip
        cfg.setdefault("Timeout", 3)
        cfg.setdefault("MemorySize", 128)
        cfg.setdefault("Description", "")
        rec = FunctionRecord(name, cfg, sha, size, path, local, timestamp(), str(uuid.uuid4()),
                             tags=dict(tags))  # fmt: skip
        self.save(rec)
        return rec

    def _touch(self, rec: FunctionRecord) -> FunctionRecord:
        rec.last_modified = timestamp()
        rec.revision = str(uuid.uuid4())
        self.save(rec)
        self.runtime.retire(rec.name)
        return rec

    def check_revision(self, rec: FunctionRecord, revision: str | None) -> None:
        if revision and revision != rec.revision:
            raise AwsError(
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetFunction/GetAlias API to retrieve the latest Revision Id",
                412,
                extra={"Type": "User"},
            )

    def update_code(self, req: dict[str, Any], staged: Staged | None = None,
                    installed: str | None = None) -> FunctionRecord:  # fmt: skip
        rec = self.unqualified(req["FunctionName"])
        self.check_revision(rec, req.get("RevisionId"))
        sha, size, path = staged or self.stage(rec.name, req)
        config = dict(rec.config)
        self._derive(config, installed, rec.config)
        rec.config = config
        rec.code_sha, rec.code_size, rec.code_path, rec.local = sha, size, path, False
        self._touch(rec)
        self._drop_old_code(rec.name, path)
        return rec

    def update_config(self, req: dict[str, Any]) -> FunctionRecord:
        rec = self.unqualified(req["FunctionName"])
        self.check_revision(rec, req.get("RevisionId"))
        changes = {k: req[k] for k in SETTABLE if req.get(k) is not None}
        self._check_config(changes)
        config = {**rec.config, **changes}
        self._derive(config, before=rec.config)
        rec.config = config
        return self._touch(rec)

    def delete(self, name_or_arn: str, qualifier: str | None) -> None:
        name, qual = self.split_name(name_or_arn)
        qual = qualifier or qual
        rec = self.function(name)
        if qual is not None:
            self.versions.delete(rec, qual)
            return
        self.store.delete(rec.name)
        self.versions.store.delete_function(rec.name)
        self._cache.pop(rec.name, None)
        for key in [k for k in self.runtime.pools if k.split(":")[0] == rec.name]:
            self.runtime.retire(key)
        self.runtime.reserved_total = self.store.reserved_total()
        shutil.rmtree(self.data_dir / "code" / rec.name, ignore_errors=True)

    def set_concurrency(self, name_or_arn: str, value: int | None) -> FunctionRecord:
        rec = self.unqualified(name_or_arn)
        if value is not None:
            others = self.store.reserved_total(excluding=rec.name)
            if others + value > self.runtime.account_limit:
                raise invalid(
                    "Specified ReservedConcurrentExecutions for function decreases account's "
                    f"UnreservedConcurrentExecution below its minimum value of [0] (account "
                    f"concurrency limit {self.runtime.account_limit})."
                )
        if self.runtime.pools.get(rec.name) and self.runtime.pools[rec.name].in_flight:
            pass  # in-flight invocations finish under the old accounting
        rec.concurrency = value
        self.save(rec)
        self.runtime.reserved_total = self.store.reserved_total()
        return rec

    # -- shapes -------------------------------------------------------------------------------
    def configuration(self, rec: FunctionRecord) -> dict[str, Any]:
        cfg = rec.config
        arn = self.arn(rec.name)
        out: dict[str, Any] = {
            "FunctionName": rec.name,
            "FunctionArn": arn if rec.version == "$LATEST" else f"{arn}:{rec.version}",
            "Runtime": cfg.get("Runtime"),
            "Role": cfg.get("Role"),
            "Handler": cfg.get("Handler"),
            "CodeSize": rec.code_size,
            "Description": cfg.get("Description", ""),
            "Timeout": cfg.get("Timeout", 3),
            "MemorySize": cfg.get("MemorySize", 128),
            "LastModified": rec.last_modified,
            "CodeSha256": rec.code_sha,
            "Version": rec.version,
            "TracingConfig": cfg.get("TracingConfig") or {"Mode": "PassThrough"},
            "RevisionId": rec.revision,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
            "EphemeralStorage": cfg.get("EphemeralStorage") or {"Size": 512},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{rec.name}"},
        }
        if cfg.get("Environment"):
            out["Environment"] = {"Variables": cfg["Environment"].get("Variables") or {}}
        if cfg.get("DeadLetterConfig"):
            out["DeadLetterConfig"] = cfg["DeadLetterConfig"]
        if cfg.get("_LayerInfo"):
            out["Layers"] = cfg["_LayerInfo"]
        return out
