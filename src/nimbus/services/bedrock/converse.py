"""Converse requests checked the way Bedrock checks them, and Converse outputs."""

from __future__ import annotations

from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.bedrock.backends.base import ChatRequest, ChatResult
from nimbus.services.bedrock.catalog import FoundationModel

_TEXTUAL = ("text", "guardContent", "toolResult", "toolUse", "document", "reasoningContent")
_IGNORED = ("cachePoint",)


def _invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def _block_text(block: dict[str, Any]) -> str | None:
    """The text a backend sees for a non-image block (tool blocks flattened to text)."""
    if "text" in block:
        return block["text"]
    if "guardContent" in block:
        return (block["guardContent"].get("text") or {}).get("text", "")
    if "toolResult" in block:
        parts = block["toolResult"].get("content") or []
        return "\n".join(str(p.get("text", p.get("json", ""))) for p in parts)
    if "toolUse" in block:
        return str(block["toolUse"].get("input", ""))
    if "reasoningContent" in block:
        return ((block["reasoningContent"].get("reasoningText") or {}).get("text")) or ""
    if "document" in block:
        return f"[document {block['document'].get('name', '')}]"
    return None


def _content(blocks: list[dict[str, Any]], model: FoundationModel | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for block in blocks:
        if "image" in block:
            if model is not None and "IMAGE" not in model.input_modalities:
                raise _invalid(
                    "This model doesn't support the image content block that you "
                    "provided. Try again with a model that supports images."
                )
            source = block["image"].get("source") or {}
            if "bytes" not in source:
                raise _invalid(
                    "Nimbus reads images from source.bytes only; pass the image "
                    "bytes instead of an S3 location."
                )
            out.append({"image": {"format": block["image"]["format"], "source": source}})
        elif any(k in block for k in _IGNORED):
            continue
        elif any(k in block for k in ("video", "audio")):
            raise _invalid("This model doesn't support the media content block that you provided.")
        else:
            text = _block_text(block)
            if text is None:
                raise _invalid("A content block must hold exactly one of its members.")
            out.append({"text": text})
    return out


def messages_of(raw: list[dict[str, Any]], model: FoundationModel | None) -> list[dict[str, Any]]:
    if not raw or raw[0].get("role") != "user":
        raise _invalid(
            "A conversation must start with a user message. Try again with a "
            "conversation that starts with a user message."
        )
    messages = []
    previous = None
    for message in raw:
        role = message["role"]
        if role == previous:
            raise _invalid(
                "A conversation must alternate between user and assistant roles. "
                "Make sure the conversation alternates between user and assistant "
                "roles and try again."
            )
        previous = role
        if not message.get("content"):
            raise _invalid(
                "The content field in the Message object at messages."
                f"{len(messages)}.content is empty. Add a ContentBlock object to "
                "the content field and try again."
            )
        messages.append({"role": role, "content": _content(message["content"], model)})
    return messages


def system_of(raw: list[dict[str, Any]] | None) -> list[str]:
    out = []
    for block in raw or ():
        text = _block_text(block)
        if text:
            out.append(text)
    return out


def chat_request(model_id: str, model: FoundationModel | None, req: dict[str, Any]) -> ChatRequest:
    config = req.get("inferenceConfig") or {}
    limit = model.max_output_tokens if model is not None else None
    max_tokens = config.get("maxTokens")
    if max_tokens is not None and limit is not None and max_tokens > limit:
        raise _invalid(
            f"The maximum tokens you requested exceeds the model limit of {limit}. "
            f"Try again with a maximum tokens value that is lower than {limit}."
        )
    for name in ("temperature", "topP"):
        value = config.get(name)
        if value is not None and not 0.0 <= value <= 1.0:
            raise _invalid(f"The value of inferenceConfig.{name} must be between 0 and 1.")
    default = model.default_max_tokens if model is not None else 512
    return ChatRequest(
        model_id=model_id,
        messages=messages_of(req.get("messages") or [], model),
        system=system_of(req.get("system")),
        max_tokens=max_tokens or default,
        temperature=config.get("temperature"),
        top_p=config.get("topP"),
        stop_sequences=list(config.get("stopSequences") or []),
    )


def usage(result: ChatResult) -> dict[str, int]:
    return {
        "inputTokens": result.input_tokens,
        "outputTokens": result.output_tokens,
        "totalTokens": result.input_tokens + result.output_tokens,
    }


def output(result: ChatResult, latency_ms: int) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": result.text}]}},
        "stopReason": result.stop_reason,
        "usage": usage(result),
        "metrics": {"latencyMs": latency_ms},
    }


def guardrail_inputs(messages: list[dict[str, Any]], raw: list[dict[str, Any]]) -> list[str]:
    """What a guardrail checks on input: guardContent blocks when the request marks any,
    else the text of the last user message (Bedrock's rule)."""
    guarded = [
        (block["guardContent"].get("text") or {}).get("text", "")
        for message in raw
        for block in message.get("content") or ()
        if "guardContent" in block
    ]
    if guarded:
        return guarded
    for message in reversed(messages):
        if message["role"] == "user":
            return [b["text"] for b in message["content"] if "text" in b]
    return []
