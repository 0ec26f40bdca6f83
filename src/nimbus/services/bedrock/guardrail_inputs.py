"""What a guardrail checks on a model call's input, as ApplyGuardrail content blocks.

Converse (AWS's rules): ``guardContent`` blocks of the system prompt always; in the messages,
only their ``guardContent`` blocks when any message has one, else the text of every message
(the request's and the prompt resource's). Plain system text, tool use and tool results are
not evaluated.

InvokeModel: the whole prompt (system and messages), or only the parts between input tags
``<amazon-bedrock-guardrails-guardContent_{tagSuffix}>`` when the body's
``amazon-bedrock-guardrailConfig`` names a ``tagSuffix`` and the prompt carries such tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from nimbus.aws.errors import AwsError

Block = dict[str, Any]
BODY_CONFIG = "amazon-bedrock-guardrailConfig"
_TAG = "amazon-bedrock-guardrails-guardContent_"
_SUFFIX = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MODES = {"SYNCHRONOUS": "sync", "ASYNCHRONOUS": "async"}


def _invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def _text(text: str) -> Block:
    return {"text": {"text": text}}


def converse_contents(messages: list[Block], system: list[Block] | None) -> list[Block]:
    """The content a Converse guardrail checks, from the request's raw messages and system."""
    contents = [b["guardContent"] for b in system or () if "guardContent" in b]
    marked = [
        block["guardContent"]
        for message in messages
        for block in message.get("content") or ()
        if "guardContent" in block
    ]
    if marked:
        return contents + marked
    contents.extend(
        _text(block["text"])
        for message in messages
        for block in message.get("content") or ()
        if "text" in block
    )
    return contents


@dataclass(frozen=True, slots=True)
class BodyConfig:
    """A guarded InvokeModel body's ``amazon-bedrock-guardrailConfig``."""

    tag_suffix: str | None = None
    mode: str = "sync"  # ConverseStream's word for SYNCHRONOUS / ASYNCHRONOUS


def pop_body_config(body: dict[str, Any], guarded: bool) -> BodyConfig:
    """Take ``amazon-bedrock-guardrailConfig`` out of a body (models never see it)."""
    raw = body.pop(BODY_CONFIG, None)
    if raw is None:
        return BodyConfig()
    if not guarded:
        raise _invalid(
            f"The request body has {BODY_CONFIG} but names no guardrail: pass the "
            "X-Amzn-Bedrock-GuardrailIdentifier and X-Amzn-Bedrock-GuardrailVersion headers "
            f"(boto3: guardrailIdentifier, guardrailVersion) or drop {BODY_CONFIG}."
        )
    if not isinstance(raw, dict):
        raise _invalid(f"{BODY_CONFIG} must be a JSON object.")
    suffix = raw.get("tagSuffix")
    if suffix is not None and not (isinstance(suffix, str) and _SUFFIX.fullmatch(suffix)):
        raise _invalid(
            f"{BODY_CONFIG}.tagSuffix must be 1-64 letters, digits, '-' or '_' "
            "(the suffix of your <amazon-bedrock-guardrails-guardContent_...> tags)."
        )
    mode = raw.get("streamProcessingMode", "SYNCHRONOUS")
    if mode not in _MODES:
        raise _invalid(f"{BODY_CONFIG}.streamProcessingMode must be SYNCHRONOUS or ASYNCHRONOUS.")
    return BodyConfig(suffix, _MODES[mode])


def invoke_contents(messages: list[Block], system: list[str], config: BodyConfig) -> list[Block]:
    """The content an InvokeModel guardrail checks, from the parsed body."""
    texts = list(system)
    texts.extend(
        block["text"] for message in messages for block in message["content"] if "text" in block
    )
    if config.tag_suffix:
        name = re.escape(_TAG + config.tag_suffix)
        tagged = re.compile(rf"<{name}>(.*?)</{name}>", re.S)
        parts = [part for text in texts for part in tagged.findall(text)]
        if parts:
            return [_text(part) for part in parts]
    return [_text(text) for text in texts if text]
