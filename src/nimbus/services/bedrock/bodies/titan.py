"""Amazon Titan Text and Titan Embeddings bodies."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nimbus.aws.errors import AwsError
from nimbus.services.bedrock.backends.base import ChatRequest, ChatResult, EmbedResult
from nimbus.services.bedrock.bodies.common import (
    Body,
    check_keys,
    get_float,
    get_int,
    get_list,
    get_str,
    malformed,
)
from nimbus.services.bedrock.catalog import FoundationModel

_TEXT_KEYS = frozenset({"inputText", "textGenerationConfig"})
_CONFIG_KEYS = frozenset({"temperature", "topP", "maxTokenCount", "stopSequences"})
_REASON = {"end_turn": "FINISH", "max_tokens": "LENGTH", "stop_sequence": "STOP_CRITERIA_MET"}
# Titan's chat convention: "User: ...\nBot:" (the trailing cue is not part of the question).
_BOT_CUE = re.compile(r"\n?\s*(Bot|Assistant)\s*:\s*$")
_USER_CUE = re.compile(r"^\s*User\s*:\s*")


class TitanTextCodec:
    def parse(self, body: Body, model: FoundationModel) -> ChatRequest:
        check_keys(body, "#", ("inputText",), _TEXT_KEYS)
        text = get_str(body, "inputText", "#") or ""
        if not text.strip():
            raise malformed("#/inputText: expected minLength: 1, actual: 0")
        config = body.get("textGenerationConfig") or {}
        if not isinstance(config, dict):
            raise malformed("#/textGenerationConfig: expected type: JSONObject")
        path = "#/textGenerationConfig"
        check_keys(config, path, (), _CONFIG_KEYS)
        limit = get_int(config, "maxTokenCount", path, 0, model.max_output_tokens)
        prompt = _USER_CUE.sub("", _BOT_CUE.sub("", text))
        return ChatRequest(
            model_id=model.model_id,
            messages=[{"role": "user", "content": [{"text": prompt}]}],
            max_tokens=model.default_max_tokens if limit is None else limit,
            temperature=get_float(config, "temperature", path, 0.0, 1.0),
            top_p=get_float(config, "topP", path, 0.0, 1.0),
            stop_sequences=get_list(config, "stopSequences", path),
        )

    def response(self, result: ChatResult, model: FoundationModel, request_id: str) -> Body:
        return {
            "inputTextTokenCount": result.input_tokens,
            "results": [
                {
                    "tokenCount": result.output_tokens,
                    "outputText": result.text,
                    "completionReason": _REASON.get(result.stop_reason, "FINISH"),
                }
            ],
        }

    def stream_start(
        self, model: FoundationModel, request_id: str, input_tokens: int
    ) -> list[Body]:
        self._input_tokens: int | None = input_tokens
        return []

    def stream_delta(self, text: str, output_tokens: int) -> Body:
        chunk: Body = {
            "outputText": text,
            "index": 0,
            "totalOutputTextTokenCount": output_tokens,
            "completionReason": None,
        }
        if self._input_tokens is not None:
            chunk["inputTextTokenCount"] = self._input_tokens
            self._input_tokens = None
        return chunk

    def stream_end(self, result: ChatResult, metrics: Body) -> list[Body]:
        return [
            {
                "outputText": "",
                "index": 0,
                "totalOutputTextTokenCount": result.output_tokens,
                "completionReason": _REASON.get(result.stop_reason, "FINISH"),
                "inputTextTokenCount": result.input_tokens,
                "amazon-bedrock-invocationMetrics": metrics,
            }
        ]


@dataclass(slots=True)
class EmbedRequest:
    text: str
    dimensions: int
    normalize: bool
    types: list[str]


def parse_embed(body: Body, model: FoundationModel) -> EmbedRequest:
    v2 = len(model.embedding_dimensions) > 1
    keys = {"inputText", "dimensions", "normalize", "embeddingTypes"} if v2 else {"inputText"}
    check_keys(body, "#", ("inputText",), frozenset(keys))
    text = get_str(body, "inputText", "#") or ""
    if not text:
        raise malformed("#/inputText: expected minLength: 1, actual: 0")
    dimensions = body.get("dimensions", model.embedding_dimensions[0])
    if dimensions not in model.embedding_dimensions:
        allowed = ", ".join(str(d) for d in model.embedding_dimensions)
        raise malformed(f"#/dimensions: {dimensions} is not a valid enum value (use {allowed})")
    normalize = body.get("normalize", True)
    if not isinstance(normalize, bool):
        raise malformed("#/normalize: expected type: Boolean")
    types = get_list(body, "embeddingTypes", "#") or ["float"]
    for kind in types:
        if kind not in ("float", "binary"):
            raise malformed(f"#/embeddingTypes: {kind} is not a valid enum value")
    if len(text) > 50000:
        raise AwsError("ValidationException", "inputText is longer than 50,000 characters.", 400)
    return EmbedRequest(text, int(dimensions), normalize, types)


def embed_response(request: EmbedRequest, result: EmbedResult, v2: bool) -> Body:
    body: Body = {"embedding": result.vector, "inputTextTokenCount": result.input_tokens}
    if v2:
        by_type: Body = {}
        if "float" in request.types:
            by_type["float"] = result.vector
        if "binary" in request.types:
            by_type["binary"] = [1 if v > 0 else 0 for v in result.vector]
        body["embeddingsByType"] = by_type
    return body
