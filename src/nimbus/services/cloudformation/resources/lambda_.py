"""AWS::Lambda::Function/Permission/Version/Alias/EventInvokeConfig via the Lambda provider.

A function whose code is a local folder (SAM ``CodeUri: src/``) runs that folder in place, so an
edited handler takes effect on the next invoke without a redeploy.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.cloudformation.resources.base import (
    Applied,
    Deployment,
    Handler,
    Replace,
    changed,
    tags_list,
)
from nimbus.services.cloudformation.sam import LOCAL_CODE_BUCKET

_CONFIG = (
    "Runtime",
    "Role",
    "Handler",
    "Description",
    "Timeout",
    "MemorySize",
    "Environment",
    "Layers",
    "TracingConfig",
    "DeadLetterConfig",
    "EphemeralStorage",
    "LoggingConfig",
    "Architectures",
)
_UPDATABLE = tuple(k for k in _CONFIG if k != "Architectures")


def _inline_zip(source: str, runtime: str) -> bytes:
    """``Code.ZipFile`` is source text; AWS stores it as index.py / index.js in a zip."""
    name = "index.js" if runtime.startswith("nodejs") else "index.py"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, source)
    return buf.getvalue()


def _config(props: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    out = {k: props[k] for k in keys if props.get(k) is not None}
    for k in ("Timeout", "MemorySize"):
        if k in out:
            out[k] = int(out[k])  # a Ref to a parameter gives a string
    return out


class Function(Handler):
    type = "AWS::Lambda::Function"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        name = props.get("FunctionName") or d.generated_name(logical_id)
        return await self._deploy(d, name, props, None)

    async def _deploy(self, d: Deployment, name: str, props: dict, old: dict | None) -> Applied:
        code = props.get("Code") or {}
        lam = d.provider("lambda")
        if code.get("S3Bucket") == LOCAL_CODE_BUCKET:
            env = (props.get("Environment") or {}).get("Variables")
            out = await lam.create_function_from_folder(
                name,
                code["S3Key"],
                handler=props["Handler"],
                role=props["Role"],
                runtime=props.get("Runtime", "python3.11"),
                timeout=int(props.get("Timeout", 3)),
                memory_size=int(props.get("MemorySize", 128)),
                environment={k: str(v) for k, v in env.items()} if env is not None else None,
                description=props.get("Description", ""),
                layers=props.get("Layers"),
            )
        elif old is None:
            req = {
                "FunctionName": name,
                **_config(props, _CONFIG),
                "Code": self._code(props),
                "Tags": {t["Key"]: t["Value"] for t in tags_list(props)} or None,
            }
            out = await d.call("lambda", "create_function", req)
        else:
            if changed(props, old, "Code"):
                await d.call(
                    "lambda", "update_function_code", {"FunctionName": name, **self._code(props)}
                )
            out = await d.call(
                "lambda",
                "update_function_configuration",
                {"FunctionName": name, **_config(props, _UPDATABLE)},
            )
        if props.get("ReservedConcurrentExecutions") is not None:
            await d.call(
                "lambda",
                "put_function_concurrency",
                {
                    "FunctionName": name,
                    "ReservedConcurrentExecutions": int(props["ReservedConcurrentExecutions"]),
                },
            )
        return Applied(name, {"Arn": out["FunctionArn"]})

    def _code(self, props: dict[str, Any]) -> dict[str, Any]:
        code = dict(props.get("Code") or {})
        if "ZipFile" in code:
            return {"ZipFile": _inline_zip(code["ZipFile"], props.get("Runtime", "python3.11"))}
        return {
            k: v
            for k, v in code.items()
            if k in ("S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri")
        }

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        if changed(props, old, "FunctionName", "PackageType"):
            raise Replace()
        if old.get("ReservedConcurrentExecutions") and not props.get(
            "ReservedConcurrentExecutions"
        ):
            await d.call("lambda", "delete_function_concurrency", {"FunctionName": physical_id})
        return await self._deploy(d, physical_id, props, old)

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call("lambda", "delete_function", {"FunctionName": physical_id})


class Permission(Handler):
    type = "AWS::Lambda::Permission"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        statement_id = d.generated_name(logical_id, 100)
        await d.call(
            "lambda",
            "add_permission",
            {
                "FunctionName": props["FunctionName"],
                "StatementId": statement_id,
                "Action": props["Action"],
                "Principal": props["Principal"],
                "SourceArn": props.get("SourceArn"),
                "SourceAccount": props.get("SourceAccount"),
                "EventSourceToken": props.get("EventSourceToken"),
                "PrincipalOrgID": props.get("PrincipalOrgID"),
                "FunctionUrlAuthType": props.get("FunctionUrlAuthType"),
            },
        )
        return Applied(statement_id, {})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        try:
            await d.call(
                "lambda",
                "remove_permission",
                {"FunctionName": props["FunctionName"], "StatementId": physical_id},
            )
        except AwsError as err:
            if err.code != "ResourceNotFoundException":  # the function went first
                raise


class Version(Handler):
    type = "AWS::Lambda::Version"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        out = await d.call(
            "lambda",
            "publish_version",
            {
                "FunctionName": props["FunctionName"],
                "Description": props.get("Description"),
                "CodeSha256": props.get("CodeSha256"),
            },
        )
        return Applied(out["FunctionArn"], {"Version": out["Version"]})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        name, _, version = physical_id.rpartition(":")
        try:
            await d.call("lambda", "delete_function", {"FunctionName": name, "Qualifier": version})
        except AwsError as err:
            # A publish with no change gives back an existing version: another Version
            # resource (or an alias) may still use it, and then it stays.
            if err.code != "ResourceConflictException":
                raise


class Alias(Handler):
    type = "AWS::Lambda::Alias"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        out = await d.call("lambda", "create_alias", _alias_request(props))
        return Applied(out["AliasArn"], {})

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        if changed(props, old, "FunctionName", "Name"):
            raise Replace()
        req = _alias_request(props)
        req.setdefault("Description", "")
        req.setdefault("RoutingConfig", {"AdditionalVersionWeights": {}})
        out = await d.call("lambda", "update_alias", req)
        return Applied(out["AliasArn"], {})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call(
            "lambda", "delete_alias", {"FunctionName": props["FunctionName"], "Name": props["Name"]}
        )


def _alias_request(props: dict[str, Any]) -> dict[str, Any]:
    req: dict[str, Any] = {
        "FunctionName": props["FunctionName"],
        "Name": props["Name"],
        "FunctionVersion": str(props["FunctionVersion"]),
        "Description": props.get("Description"),
    }
    weights = (props.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or []
    if weights:  # CloudFormation lists {FunctionVersion, FunctionWeight}; the API takes a map
        req["RoutingConfig"] = {
            "AdditionalVersionWeights": {
                str(w["FunctionVersion"]): float(w["FunctionWeight"]) for w in weights
            }
        }
    return req


class EventInvokeConfig(Handler):
    type = "AWS::Lambda::EventInvokeConfig"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        qualifier = str(props.get("Qualifier") or "$LATEST")
        await d.call(
            "lambda",
            "put_function_event_invoke_config",
            {
                "FunctionName": props["FunctionName"],
                "Qualifier": qualifier,
                "MaximumRetryAttempts": props.get("MaximumRetryAttempts"),
                "MaximumEventAgeInSeconds": props.get("MaximumEventAgeInSeconds"),
                "DestinationConfig": props.get("DestinationConfig"),
            },
        )
        return Applied(d.generated_name(logical_id), {})

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        await self.create(d, logical_id, props)
        return Applied(physical_id, {})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call(
            "lambda",
            "delete_function_event_invoke_config",
            {
                "FunctionName": props["FunctionName"],
                "Qualifier": str(props.get("Qualifier") or "$LATEST"),
            },
        )


HANDLERS: list[Handler] = [Function(), Permission(), Version(), Alias(), EventInvokeConfig()]
