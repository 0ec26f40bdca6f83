"""A stored prompt variant filled with variable values, as Converse request members.

Placeholders are ``{{name}}`` exactly, as in Bedrock prompt management. A TEXT template becomes
one user message; a CHAT template gives its messages and system blocks. Every placeholder the
template uses must get a value; values for names the template does not use are ignored.
"""

from __future__ import annotations

import re
from typing import Any

from nimbus.aws.errors import validation

PLACEHOLDER = re.compile(r"\{\{([0-9a-zA-Z_-]+)\}\}")
_INFERENCE = ("maxTokens", "temperature", "topP", "stopSequences")


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def _values(variables: dict[str, Any] | None) -> dict[str, str]:
    """Converse's ``promptVariables`` (``{"name": {"text": "value"}}``) as plain strings."""
    values: dict[str, str] = {}
    for name, value in (variables or {}).items():
        if isinstance(value, dict):
            if "text" not in value:
                raise validation(
                    f"The prompt variable '{name}' needs a text value: {{'text': ...}}."
                )
            value = value["text"]
        values[name] = str(value)
    return values


def _fill(text: str, values: dict[str, str], missing: list[str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in values:
            return values[name]
        if name not in missing:
            missing.append(name)
        return m.group(0)

    return PLACEHOLDER.sub(sub, text)


def _blocks(blocks: list[dict], values: dict[str, str], missing: list[str]) -> list[dict]:
    out = []
    for block in blocks:
        if "text" in block:
            out.append({**block, "text": _fill(block["text"], values, missing)})
        else:
            out.append(dict(block))  # cachePoint and the like pass through
    return out


def render(variant: dict[str, Any], variables: dict[str, Any] | None, where: str) -> dict:
    """``{"modelId", "messages", "system"?, "inferenceConfig"?, "toolConfig"?,
    "additionalModelRequestFields"?}`` for one prompt variant; ``where`` names the prompt."""
    model_id = variant.get("modelId")
    if not model_id:
        raise validation(f"The prompt {where} has no modelId in its variant '{variant['name']}'.")
    values = _values(variables)
    missing: list[str] = []
    config = variant["templateConfiguration"]
    out: dict[str, Any] = {"modelId": model_id}
    if variant["templateType"] == "TEXT":
        text = _fill(config["text"]["text"], values, missing)
        out["messages"] = [{"role": "user", "content": [{"text": text}]}]
    else:
        chat = config["chat"]
        out["messages"] = [
            {"role": m["role"], "content": _blocks(m["content"], values, missing)}
            for m in chat["messages"]
        ]
        if chat.get("system"):
            out["system"] = _blocks(chat["system"], values, missing)
        if chat.get("toolConfiguration"):
            out["toolConfig"] = chat["toolConfiguration"]
    if missing:
        names = ", ".join(f"'{n}'" for n in missing)
        raise validation(
            f"The prompt {where} needs a value for the variable(s) {names}: pass them in "
            'promptVariables as {"name": {"text": "value"}}.'
        )
    inference = (variant.get("inferenceConfiguration") or {}).get("text") or {}
    config_out = {k: inference[k] for k in _INFERENCE if inference.get(k) is not None}
    if config_out:
        out["inferenceConfig"] = config_out
    if variant.get("additionalModelRequestFields"):
        out["additionalModelRequestFields"] = variant["additionalModelRequestFields"]
    return out
