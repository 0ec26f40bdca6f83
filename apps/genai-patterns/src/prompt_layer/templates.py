"""Versioned prompt templates from Amazon Bedrock Prompt management.

template.yaml declares each template as an ``AWS::Bedrock::Prompt`` (a CHAT variant: system
instructions with ``{{language}}`` and a user message ``{{input}}``; its inference settings; and
metadata ``template`` = its name, ``tier`` = a routing hint) and pins an
``AWS::Bedrock::PromptVersion`` of it. TEXT variants work too (one user message). Functions get
the version ARNs (``PROMPT_VERSION_ARNS``) and read them with GetPrompt once per execution
environment, so a deploy pins exact template versions.

The layer renders the text itself rather than passing the prompt ARN as Converse's ``modelId``,
because Bedrock fixes the model of a managed prompt and this layer routes between models.
Placeholders are Bedrock's ``{{name}}``; values are inserted in one pass, so a ``{{x}}`` typed by
a user is never expanded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from prompt_layer.errors import LayerError

PLACEHOLDER = re.compile(r"\{\{\s*([0-9A-Za-z_-]+)\s*\}\}")
_VERSIONED_ARN = re.compile(
    r"^(arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:prompt/[0-9A-Za-z]{10}):(\d+)$"
)


@dataclass(frozen=True)
class Template:
    name: str
    version: str  # a Bedrock prompt version: "1", "2", ...
    arn: str  # the version's ARN
    system: tuple[str, ...]  # system prompt blocks
    messages: tuple[tuple[str, str], ...]  # (role, text)
    variables: tuple[str, ...]
    tier: str  # auto | small | large: a routing hint
    max_tokens: int | None = None
    temperature: float | None = None

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


def from_prompt(prompt: dict) -> Template:
    """A Template from a GetPrompt response."""
    variants = prompt.get("variants") or []
    wanted = prompt.get("defaultVariant")
    variant = next(
        (v for v in variants if v.get("name") == wanted), variants[0] if variants else None
    )
    if variant is None:
        raise ValueError(f"prompt {prompt.get('arn')} has no variant")
    return _template(variant, prompt["name"], str(prompt["version"]), prompt["arn"])


def _template(variant: dict, name: str, version: str, arn: str) -> Template:
    meta = {m["key"]: m["value"] for m in variant.get("metadata") or []}
    config = variant["templateConfiguration"]
    if "chat" in config:
        chat = config["chat"]
        system = tuple(b["text"] for b in chat.get("system") or [] if "text" in b)
        messages = tuple(
            (m["role"], "".join(b.get("text", "") for b in m.get("content") or []))
            for m in chat.get("messages") or []
        )
        declared = chat.get("inputVariables") or []
    else:
        system, messages = (), (("user", config["text"]["text"]),)
        declared = config["text"].get("inputVariables") or []
    found = {n for text in (*system, *(t for _, t in messages)) for n in PLACEHOLDER.findall(text)}
    inference = (variant.get("inferenceConfiguration") or {}).get("text") or {}
    return Template(
        name=meta.get("template", name),
        version=version,
        arn=arn,
        system=system,
        messages=messages,
        variables=tuple([v["name"] for v in declared] or sorted(found)),
        tier=meta.get("tier", "auto"),
        max_tokens=inference.get("maxTokens"),
        temperature=inference.get("temperature"),
    )


def split_version_arn(arn: str) -> tuple[str, str]:
    """(prompt ARN, version) of ``arn:...:prompt/ID:VERSION``."""
    match = _VERSIONED_ARN.match(arn.strip())
    if not match:
        raise ValueError(f"not a prompt version ARN: {arn!r}")
    return match.group(1), match.group(2)


class Catalog:
    """The templates this deployment uses, read once (lazily) from Bedrock."""

    def __init__(self, agent, version_arns: list[str]) -> None:
        self.agent = agent
        self.version_arns = [a for a in version_arns if a.strip()]
        self._templates: dict[str, Template] | None = None

    def templates(self) -> dict[str, Template]:
        if self._templates is None:
            loaded = [self._fetch(arn) for arn in self.version_arns]
            self._templates = {t.name: t for t in loaded}
        return self._templates

    def _fetch(self, version_arn: str) -> Template:
        arn, version = split_version_arn(version_arn)
        return from_prompt(self.agent.get_prompt(promptIdentifier=arn, promptVersion=version))

    def get(self, name: str) -> Template:
        templates = self.templates()
        if name not in templates:
            raise LayerError(400, "unknown_template", name=name[:40], names=", ".join(templates))
        return templates[name]


@dataclass(frozen=True)
class Rendered:
    system: list[str]
    messages: list[tuple[str, str]]

    def converse_fields(self) -> dict:
        """Converse's ``messages`` (and ``system`` when there is one)."""
        fields: dict = {
            "messages": [{"role": r, "content": [{"text": t}]} for r, t in self.messages]
        }
        if self.system:
            fields["system"] = [{"text": t} for t in self.system]
        return fields

    def all_text(self) -> str:
        return "\n".join([*self.system, *(t for _, t in self.messages)])


def render(template: Template, values: dict[str, str]) -> Rendered:
    """The template with each {{name}} replaced by its value (one pass per text)."""
    for name in template.variables:
        if name not in values:
            raise LayerError(400, "missing_variable", name=name)

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise LayerError(400, "missing_variable", name=name)
        return values[name]

    return Rendered(
        [PLACEHOLDER.sub(value, text) for text in template.system],
        [(role, PLACEHOLDER.sub(value, text)) for role, text in template.messages],
    )
