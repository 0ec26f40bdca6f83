"""AWS::Bedrock::Guardrail, GuardrailVersion, Prompt and PromptVersion.

Their properties are the API's request members in PascalCase, so they are passed on with the
first letter of each key lowered (``TopicPolicyConfig`` -> ``topicPolicyConfig``). Ref and
Fn::GetAtt follow CloudFormation's documentation: a guardrail's Ref is its ARN, a guardrail
version's is ``id|version``, a prompt's and a prompt version's are their ARNs.
"""

from __future__ import annotations

from typing import Any

from nimbus.services.cloudformation.resources.base import Applied, Deployment, Handler

_GUARDRAIL_KEYS = (
    "Name",
    "Description",
    "BlockedInputMessaging",
    "BlockedOutputsMessaging",
    "TopicPolicyConfig",
    "ContentPolicyConfig",
    "WordPolicyConfig",
    "SensitiveInformationPolicyConfig",
    "ContextualGroundingPolicyConfig",
    "KmsKeyArn",
)
_PROMPT_KEYS = ("Name", "Description", "DefaultVariant", "Variants")


def camel(value: Any) -> Any:
    """CloudFormation's PascalCase property tree as the API's camelCase request members."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def _request(props: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return camel({k: props[k] for k in keys if props.get(k) is not None})


def _tags(props: dict[str, Any]) -> list[dict[str, str]] | None:
    tags = props.get("Tags")
    return [{"key": t["Key"], "value": str(t["Value"])} for t in tags] if tags else None


class Guardrail(Handler):
    type = "AWS::Bedrock::Guardrail"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        req = _request(props, _GUARDRAIL_KEYS)
        req.setdefault("name", d.generated_name(logical_id, 50))
        out = await d.call("bedrock", "create_guardrail", {**req, "tags": _tags(props)})
        return await self._applied(d, out["guardrailId"])

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        req = _request(props, _GUARDRAIL_KEYS)
        req.setdefault("name", (await self._get(d, physical_id))["name"])
        await d.call("bedrock", "update_guardrail", {"guardrailIdentifier": physical_id, **req})
        return await self._applied(d, physical_id)

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call("bedrock", "delete_guardrail", {"guardrailIdentifier": physical_id})

    async def _get(self, d: Deployment, identifier: str) -> dict[str, Any]:
        return await d.call("bedrock", "get_guardrail", {"guardrailIdentifier": identifier})

    async def _applied(self, d: Deployment, identifier: str) -> Applied:
        got = await self._get(d, identifier)
        attributes = {
            "GuardrailArn": got["guardrailArn"],
            "GuardrailId": got["guardrailId"],
            "Version": got.get("version", "DRAFT"),
            "Status": got.get("status", "READY"),
            "CreatedAt": str(got.get("createdAt", "")),
            "UpdatedAt": str(got.get("updatedAt", "")),
        }
        return Applied(got["guardrailArn"], attributes)


class GuardrailVersion(Handler):
    type = "AWS::Bedrock::GuardrailVersion"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        req = {"guardrailIdentifier": props["GuardrailIdentifier"]}
        if props.get("Description"):
            req["description"] = props["Description"]
        out = await d.call("bedrock", "create_guardrail_version", req)
        got = await d.call(
            "bedrock",
            "get_guardrail",
            {"guardrailIdentifier": out["guardrailId"], "guardrailVersion": out["version"]},
        )
        attributes = {
            "GuardrailArn": got["guardrailArn"],
            "GuardrailId": out["guardrailId"],
            "Version": out["version"],
        }
        return Applied(f"{out['guardrailId']}|{out['version']}", attributes)

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        guardrail, _, version = physical_id.partition("|")
        await d.call(
            "bedrock",
            "delete_guardrail",
            {"guardrailIdentifier": guardrail, "guardrailVersion": version},
        )


class Prompt(Handler):
    type = "AWS::Bedrock::Prompt"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        req = _request(props, _PROMPT_KEYS)
        req.setdefault("name", d.generated_name(logical_id, 100))
        if props.get("CustomerEncryptionKeyArn"):
            req["customerEncryptionKeyArn"] = props["CustomerEncryptionKeyArn"]
        out = await d.call("bedrock-agent", "create_prompt", {**req, "tags": _tag_map(props)})
        return _prompt_applied(out)

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        req = _request(props, _PROMPT_KEYS)
        if "name" not in req:
            got = await d.call("bedrock-agent", "get_prompt", {"promptIdentifier": physical_id})
            req["name"] = got["name"]
        out = await d.call(
            "bedrock-agent", "update_prompt", {"promptIdentifier": physical_id, **req}
        )
        return _prompt_applied(out)

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call("bedrock-agent", "delete_prompt", {"promptIdentifier": physical_id})


class PromptVersion(Handler):
    type = "AWS::Bedrock::PromptVersion"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        req = {"promptIdentifier": props["PromptArn"]}
        if props.get("Description"):
            req["description"] = props["Description"]
        out = await d.call("bedrock-agent", "create_prompt_version", req)
        applied = _prompt_applied(out)
        applied.attributes["PromptId"] = out["id"]
        return applied

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        prompt, _, version = physical_id.rpartition(":")
        await d.call(
            "bedrock-agent",
            "delete_prompt",
            {"promptIdentifier": prompt, "promptVersion": version},
        )


def _tag_map(props: dict[str, Any]) -> dict[str, str] | None:
    tags = props.get("Tags")
    if isinstance(tags, dict):  # AWS::Bedrock::Prompt takes tags as a map
        return {str(k): str(v) for k, v in tags.items()} or None
    return {t["Key"]: str(t["Value"]) for t in tags} if tags else None


def _prompt_applied(out: dict[str, Any]) -> Applied:
    attributes = {
        "Arn": out["arn"],
        "Id": out["id"],
        "Version": out.get("version", "DRAFT"),
        "CreatedAt": str(out.get("createdAt", "")),
        "UpdatedAt": str(out.get("updatedAt", "")),
    }
    return Applied(out["arn"], attributes)


HANDLERS: list[Handler] = [Guardrail(), GuardrailVersion(), Prompt(), PromptVersion()]
