"""AWS::Bedrock::Guardrail, GuardrailVersion, Prompt and PromptVersion through their providers.

Template properties are the API's members in PascalCase, so a request is the properties with
each key's first letter lowered (a few renamed), values typed by botocore's input shape (a Ref
to a parameter gives "0.5" where the API wants 0.5) and checked like a wire request. Ref gives
what CloudFormation documents: the guardrail's ARN, ``id|version`` for a guardrail version, and
the prompt's (version's) ARN.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import botocore.session
from botocore.model import Shape

from nimbus.aws.errors import AwsError
from nimbus.aws.protocol.validate import validate
from nimbus.services.cloudformation.resources.base import Applied, Deployment, Handler

# Members whose values are free-form documents or maps: their keys stay as written.
_OPAQUE = frozenset({"Json", "AdditionalModelRequestFields", "Tags"})
_RENAMED = {"ContentFiltersTierConfig": "tierConfig", "TopicsTierConfig": "tierConfig",
            "KmsKeyArn": "kmsKeyId"}  # fmt: skip
_SESSION = botocore.session.get_session()


def _camel(value: Any) -> Any:
    if isinstance(value, list):
        return [_camel(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        name = _RENAMED.get(key) or key[:1].lower() + key[1:]
        out[name] = item if key in _OPAQUE else _camel(item)
    return out


def _typed(shape: Shape, value: Any, path: str = "") -> Any:
    """Template values (strings from parameters) as the types the input shape declares."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        return {k: _typed(members[k], v, f"{path}{k}.") if k in members else v
                for k, v in value.items()}  # fmt: skip
    if kind == "list" and isinstance(value, list):
        return [_typed(shape.member, v, path) for v in value]  # type: ignore[attr-defined]
    if isinstance(value, str) and kind in ("float", "double", "integer", "long"):
        try:
            return float(value) if kind in ("float", "double") else int(value)
        except ValueError:
            raise AwsError(
                "ValidationException",
                f"The property {path.rstrip('.')} must be a {kind}, not '{value}'.",
                400,
            ) from None
    if isinstance(value, str) and kind == "boolean":
        return value.lower() == "true"
    return value


def _request(service: str, operation: str, props: dict[str, Any], **extra: Any) -> dict:
    shape = _SESSION.get_service_model(service).operation_model(operation).input_shape
    req = _typed(shape, {**_camel(props), **extra})
    req = {k: v for k, v in req.items() if k in shape.members and v is not None}
    validate(shape, req, "ValidationException")
    return req


def _tags_list(props: dict[str, Any]) -> list[dict[str, str]] | None:
    tags = [{"key": t["Key"], "value": str(t["Value"])} for t in props.get("Tags") or []]
    return tags or None


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


async def _gone_ok(d: Deployment, service: str, operation: str, req: dict[str, Any]) -> None:
    try:
        await d.call(service, operation, req)
    except AwsError as err:
        if err.code != "ResourceNotFoundException":
            raise


class Guardrail(Handler):
    type = "AWS::Bedrock::Guardrail"

    def _req(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> dict[str, Any]:
        name = props.get("Name") or d.generated_name(logical_id, 50).replace("_", "-")
        body = {k: v for k, v in props.items() if k != "Tags"}
        return _request("bedrock", "CreateGuardrail", body, name=name, tags=_tags_list(props))

    async def _applied(self, d: Deployment, arn: str) -> Applied:
        got = await d.call("bedrock", "get_guardrail", {"guardrailIdentifier": arn})
        return Applied(arn, {
            "GuardrailArn": arn, "GuardrailId": got["guardrailId"], "Version": got["version"],
            "Status": got["status"], "StatusReasons": got["statusReasons"],
            "FailureRecommendations": got["failureRecommendations"],
            "CreatedAt": _iso(got["createdAt"]), "UpdatedAt": _iso(got["updatedAt"]),
        })  # fmt: skip

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        out = await d.call("bedrock", "create_guardrail", self._req(d, logical_id, props))
        return await self._applied(d, out["guardrailArn"])

    async def update(self, d: Deployment, logical_id: str, physical_id: str,
                     props: dict[str, Any], old: dict[str, Any]) -> Applied:  # fmt: skip
        req = self._req(d, logical_id, props)
        if not props.get("Name"):  # keep the generated name
            got = await d.call("bedrock", "get_guardrail", {"guardrailIdentifier": physical_id})
            req["name"] = got["name"]
        req.pop("tags", None)
        await d.call("bedrock", "update_guardrail", {**req, "guardrailIdentifier": physical_id})
        return await self._applied(d, physical_id)

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await _gone_ok(d, "bedrock", "delete_guardrail", {"guardrailIdentifier": physical_id})


class GuardrailVersion(Handler):
    type = "AWS::Bedrock::GuardrailVersion"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        req = _request("bedrock", "CreateGuardrailVersion", props)
        out = await d.call("bedrock", "create_guardrail_version", req)
        gid, version = out["guardrailId"], out["version"]
        arn = d.arn("bedrock", f"guardrail/{gid}")
        return Applied(f"{gid}|{version}",
                       {"GuardrailArn": arn, "GuardrailId": gid, "Version": version})  # fmt: skip

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        gid, _, version = physical_id.partition("|")
        await _gone_ok(d, "bedrock", "delete_guardrail",
                       {"guardrailIdentifier": gid, "guardrailVersion": version})  # fmt: skip


def _prompt_attributes(out: dict[str, Any]) -> dict[str, Any]:
    return {"Arn": out["arn"], "Id": out["id"], "Version": out["version"],
            "CreatedAt": _iso(out["createdAt"]), "UpdatedAt": _iso(out["updatedAt"])}  # fmt: skip


class Prompt(Handler):
    type = "AWS::Bedrock::Prompt"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        name = props.get("Name") or d.generated_name(logical_id, 100).replace("_", "-")
        out = await d.call("bedrock-agent", "create_prompt",
                           _request("bedrock-agent", "CreatePrompt", props, name=name))  # fmt: skip
        return Applied(out["arn"], _prompt_attributes(out))

    async def update(self, d: Deployment, logical_id: str, physical_id: str,
                     props: dict[str, Any], old: dict[str, Any]) -> Applied:  # fmt: skip
        name = props.get("Name")
        if not name:
            got = await d.call("bedrock-agent", "get_prompt", {"promptIdentifier": physical_id})
            name = got["name"]
        body = {k: v for k, v in props.items() if k != "Tags"}
        req = _request("bedrock-agent", "UpdatePrompt", body, name=name,
                       promptIdentifier=physical_id)  # fmt: skip
        out = await d.call("bedrock-agent", "update_prompt", req)
        return Applied(physical_id, _prompt_attributes(out))

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await _gone_ok(d, "bedrock-agent", "delete_prompt", {"promptIdentifier": physical_id})


class PromptVersion(Handler):
    type = "AWS::Bedrock::PromptVersion"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        req = {"promptIdentifier": props.get("PromptArn"), "description": props.get("Description"),
               "tags": props.get("Tags")}  # fmt: skip
        req = _request("bedrock-agent", "CreatePromptVersion", {}, **req)
        out = await d.call("bedrock-agent", "create_prompt_version", req)
        attributes = {**_prompt_attributes(out), "PromptId": out["id"], "Name": out["name"],
                      "Variants": out.get("variants") or []}  # fmt: skip
        for member, attribute in (
            ("defaultVariant", "DefaultVariant"),
            ("customerEncryptionKeyArn", "CustomerEncryptionKeyArn"),
        ):
            if out.get(member):
                attributes[attribute] = out[member]  # fmt: skip
        return Applied(out["arn"], attributes)

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        prompt, _, version = physical_id.rpartition(":")
        await _gone_ok(d, "bedrock-agent", "delete_prompt",
                       {"promptIdentifier": prompt, "promptVersion": version})  # fmt: skip


HANDLERS: list[Handler] = [Guardrail(), GuardrailVersion(), Prompt(), PromptVersion()]
