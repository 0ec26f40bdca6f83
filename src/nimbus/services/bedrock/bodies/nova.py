"""Amazon Nova bodies (``schemaVersion: messages-v1``): Converse-like JSON with base64 images."""

from __future__ import annotations

from typing import Any

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

_KEYS = frozenset({"schemaVersion", "messages", "system", "inferenceConfig", "toolConfig"})
_CONFIG = frozenset(
    {
        "maxTokens",
        "max_new_tokens",
        "temperature",
        "topP",
        "top_p",
        "topK",
        "top_k",
        "stopSequences",
    }
)


def _content(blocks: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(blocks, list) or not blocks:
        raise malformed(f"{path}: expected a non-empty JSONArray")
    out = []
    for index, block in enumerate(blocks):
        where = f"{path}/{index}"
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            out.append({"text": block["text"]})
        elif isinstance(block, dict) and isinstance(block.get("image"), dict):
            image = block["image"]
            data = b64decode(
                (image.get("source") or {}).get("bytes"), f"{where}/image/source/bytes"
            )
            out.append({"image": {"format": image.get("format", "png"), "source": {"bytes": data}}})
        else:
            raise malformed(f"{where}: expected a text or image block")
    return out


class NovaCodec:
    def parse(self, body: Body, model: FoundationModel) -> ChatRequest:
        check_keys(body, "#", ("messages",), _KEYS)
        messages = []
        for index, message in enumerate(get_list(body, "messages", "#", dict)):
            path = f"#/messages/{index}"
            check_keys(message, path, ("role", "content"), frozenset({"role", "content"}))
            if message["role"] not in ("user", "assistant"):
                raise malformed(f"{path}/role: {message['role']} is not a valid enum value")
            messages.append(
                {
                    "role": message["role"],
                    "content": _content(message["content"], f"{path}/content"),
                }
            )
        if not messages:
            raise malformed("#/messages: expected minimum item count: 1, found: 0")
        system = [
            b["text"] for b in get_list(body, "system", "#", dict) if isinstance(b.get("text"), str)
        ]
        config = body.get("inferenceConfig") or {}
        if not isinstance(config, dict):
            raise malformed("#/inferenceConfig: expected type: JSONObject")
        check_keys(config, "#/inferenceConfig", (), _CONFIG)
        path = "#/inferenceConfig"
        limit = get_int(config, "maxTokens", path, 1, model.max_output_tokens)
        limit = limit or get_int(config, "max_new_tokens", path, 1, model.max_output_tokens)
        return ChatRequest(
            model_id=model.model_id,
            messages=messages,
            system=system,
            max_tokens=limit or model.default_max_tokens,
            temperature=get_float(config, "temperature", path, 0.0, 1.0),
            top_p=get_float(config, "topP", path, 0.0, 1.0)
            or get_float(config, "top_p", path, 0.0, 1.0),
            stop_sequences=get_list(config, "stopSequences", path),
        )

    def response(self, result: ChatResult, model: FoundationModel, request_id: str) -> Body:
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": result.text}]}},
            "stopReason": result.stop_reason,
            "usage": _usage(result),
        }

    def stream_start(
        self, model: FoundationModel, request_id: str, input_tokens: int
    ) -> list[Body]:
        return [{"messageStart": {"role": "assistant"}}]

    def stream_delta(self, text: str, output_tokens: int) -> Body:
        return {"contentBlockDelta": {"delta": {"text": text}, "contentBlockIndex": 0}}

    def stream_end(self, result: ChatResult, metrics: Body) -> list[Body]:
        return [
            {"contentBlockStop": {"contentBlockIndex": 0}},
            {"messageStop": {"stopReason": result.stop_reason}},
            {
                "metadata": {"usage": _usage(result), "metrics": {}, "trace": {}},
                "amazon-bedrock-invocationMetrics": metrics,
            },
        ]


def _usage(result: ChatResult) -> Body:
    return {
        "inputTokens": result.input_tokens,
        "outputTokens": result.output_tokens,
        "totalTokens": result.input_tokens + result.output_tokens,
    }
