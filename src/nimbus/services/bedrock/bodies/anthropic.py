"""Anthropic Messages bodies on Bedrock (``anthropic_version: bedrock-2023-05-31``)."""

from __future__ import annotations

import hashlib
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.bedrock.backends.base import ChatRequest, ChatResult
from nimbus.services.bedrock.bodies.common import (
    Body,
    b64decode,
    check_keys,
    get_float,
    get_int,
    get_list,
    malformed,
)
from nimbus.services.bedrock.catalog import FoundationModel

VERSION = "bedrock-2023-05-31"
_KEYS = frozenset(
    {
        "anthropic_version",
        "anthropic_beta",
        "max_tokens",
        "messages",
        "system",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "tools",
        "tool_choice",
        "metadata",
        "thinking",
    }
)
_MEDIA = {"image/jpeg": "jpeg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
_STOP = {"end_turn": "end_turn", "max_tokens": "max_tokens", "stop_sequence": "stop_sequence"}


def _short_name(model: FoundationModel) -> str:
    """``anthropic.claude-3-sonnet-20240229-v1:0`` -> ``claude-3-sonnet-20240229``."""
    name = model.model_id.removeprefix("anthropic.")
    return name.rsplit("-v", 1)[0] if "-v" in name else name


def message_id(request_id: str) -> str:
    return "msg_bdrk_" + hashlib.sha256(request_id.encode()).hexdigest()[:24]


def _block(block: Any, path: str, model: FoundationModel) -> dict[str, Any]:
    if not isinstance(block, dict):
        raise malformed(f"{path}: expected type: JSONObject")
    kind = block.get("type")
    if kind == "text":
        if not isinstance(block.get("text"), str):
            raise malformed(f"{path}: required key [text] not found")
        return {"text": block["text"]}
    if kind == "image":
        if "IMAGE" not in model.input_modalities:
            raise AwsError("ValidationException", f"{model.model_id} does not accept images.", 400)
        source = block.get("source")
        if not isinstance(source, dict) or source.get("type") != "base64":
            raise malformed(f"{path}/source: expected a base64 source")
        media = source.get("media_type")
        if media not in _MEDIA:
            raise malformed(f"{path}/source/media_type: {media} is not a valid enum value")
        data = b64decode(source.get("data"), f"{path}/source/data")
        return {"image": {"format": _MEDIA[media], "source": {"bytes": data}}}
    if kind in ("tool_result", "tool_use", "document"):
        text = block.get("content") or block.get("input") or block.get("source", {}).get("data")
        return {"text": text if isinstance(text, str) else str(text or "")}
    raise malformed(f"{path}/type: {kind} is not a valid enum value")


def _messages(body: Body, model: FoundationModel) -> list[dict[str, Any]]:
    raw = get_list(body, "messages", "#", dict)
    if not raw:
        raise AwsError("ValidationException", "messages: at least one message is required", 400)
    out = []
    for index, message in enumerate(raw):
        path = f"#/messages/{index}"
        check_keys(message, path, ("role", "content"), frozenset({"role", "content"}))
        role = message["role"]
        if role not in ("user", "assistant"):
            raise malformed(f"{path}/role: {role} is not a valid enum value")
        content = message["content"]
        if isinstance(content, str):
            blocks = [{"text": content}]
        elif isinstance(content, list):
            blocks = [_block(b, f"{path}/content/{i}", model) for i, b in enumerate(content)]
        else:
            raise malformed(f"{path}/content: expected type: String or JSONArray")
        out.append({"role": role, "content": blocks})
    if out[0]["role"] != "user":
        raise AwsError(
            "ValidationException", "messages: the first message must use the user role", 400
        )
    return out


def _system(body: Body) -> list[str]:
    system = body.get("system")
    if system is None:
        return []
    if isinstance(system, str):
        return [system] if system else []
    if isinstance(system, list):
        return [b["text"] for b in system if isinstance(b, dict) and isinstance(b.get("text"), str)]
    raise malformed("#/system: expected type: String or JSONArray")


class AnthropicCodec:
    def parse(self, body: Body, model: FoundationModel) -> ChatRequest:
        check_keys(body, "#", ("anthropic_version", "max_tokens", "messages"), _KEYS)
        if body["anthropic_version"] != VERSION:
            raise malformed(
                f"#/anthropic_version: {body['anthropic_version']} is not a valid enum value"
            )
        max_tokens = get_int(body, "max_tokens", "#", 1) or 1
        if max_tokens > model.max_output_tokens:
            raise AwsError(
                "ValidationException",
                f"max_tokens: {max_tokens} > {model.max_output_tokens}, which is the maximum "
                f"allowed number of output tokens for {_short_name(model)}",
                400,
            )
        get_int(body, "top_k", "#", 0, 500)
        return ChatRequest(
            model_id=model.model_id,
            messages=_messages(body, model),
            system=_system(body),
            max_tokens=max_tokens,
            temperature=get_float(body, "temperature", "#", 0.0, 1.0),
            top_p=get_float(body, "top_p", "#", 0.0, 1.0),
            stop_sequences=get_list(body, "stop_sequences", "#"),
        )

    def response(self, result: ChatResult, model: FoundationModel, request_id: str) -> Body:
        return {
            "id": message_id(request_id),
            "type": "message",
            "role": "assistant",
            "model": _short_name(model),
            "content": [{"type": "text", "text": result.text}],
            "stop_reason": _STOP.get(result.stop_reason, "end_turn"),
            "stop_sequence": result.stop_sequence,
            "usage": {"input_tokens": result.input_tokens, "output_tokens": result.output_tokens},
        }

    def stream_start(
        self, model: FoundationModel, request_id: str, input_tokens: int
    ) -> list[Body]:
        message = {
            "id": message_id(request_id),
            "type": "message",
            "role": "assistant",
            "model": _short_name(model),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1},
        }
        return [
            {"type": "message_start", "message": message},
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ]

    def stream_delta(self, text: str, output_tokens: int) -> Body:
        return {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text},
        }

    def stream_end(self, result: ChatResult, metrics: Body) -> list[Body]:
        return [
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": _STOP.get(result.stop_reason, "end_turn"),
                    "stop_sequence": result.stop_sequence,
                },
                "usage": {"output_tokens": result.output_tokens},
            },
            {"type": "message_stop", "amazon-bedrock-invocationMetrics": metrics},
        ]
