"""What every InvokeModel body codec shares: AWS's "Malformed input request" checks, the
invocation metrics a stream's last chunk carries, and the codec interface.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Protocol

from nimbus.aws.errors import AwsError
from nimbus.services.bedrock.backends.base import ChatRequest, ChatResult
from nimbus.services.bedrock.catalog import FoundationModel

Body = dict[str, Any]


def malformed(detail: str) -> AwsError:
    # The wording Bedrock answers schema violations with.
    return AwsError(
        "ValidationException",
        f"Malformed input request: {detail}, please reformat your input and try again.",
        400,
    )


def load_json(raw: bytes) -> Body:
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise malformed(
            "#: expected type: JSONObject, found: String (the body is not JSON)"
        ) from None
    except RecursionError:  # the decoder recurses once per nesting level
        raise malformed("#: the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise malformed(f"#: expected type: JSONObject, found: {_json_type(body)}")
    return body


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float):
        return "Integer" if isinstance(value, int) else "Number"
    return {str: "String", list: "JSONArray", dict: "JSONObject"}.get(type(value), "Null")


def check_keys(body: Body, path: str, required: tuple[str, ...], allowed: frozenset[str]) -> None:
    for key in required:
        if key not in body:
            raise malformed(f"{path}: required key [{key}] not found")
    for key in body:
        if key not in allowed:
            raise malformed(f"{path}: extraneous key [{key}] is not permitted")


def get_int(body: Body, key: str, path: str, low: int, high: int | None = None) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise malformed(f"{path}/{key}: expected type: Integer, found: {_json_type(value)}")
    if value < low:
        raise malformed(f"{path}/{key}: {value} is not greater or equal to {low}")
    if high is not None and value > high:
        raise malformed(f"{path}/{key}: {value} is not less or equal to {high}")
    return value


def get_float(body: Body, key: str, path: str, low: float, high: float) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise malformed(f"{path}/{key}: expected type: Number, found: {_json_type(value)}")
    if not low <= value <= high:
        raise malformed(f"{path}/{key}: {value} is not between {low} and {high}")
    return float(value)


def get_str(body: Body, key: str, path: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise malformed(f"{path}/{key}: expected type: String, found: {_json_type(value)}")
    return value


def get_list(body: Body, key: str, path: str, item: type = str) -> list[Any]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise malformed(f"{path}/{key}: expected type: JSONArray, found: {_json_type(value)}")
    for index, entry in enumerate(value):
        if not isinstance(entry, item):
            found = _json_type(entry)
            raise malformed(f"{path}/{key}/{index}: expected type: {item.__name__}, found: {found}")
    return value


def b64decode(data: Any, path: str) -> bytes:
    if not isinstance(data, str):
        raise malformed(f"{path}: expected type: String, found: {_json_type(data)}")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise malformed(f"{path}: the image data is not valid base64") from None


def invocation_metrics(result: ChatResult, latency_ms: int, first_byte_ms: int) -> Body:
    return {
        "inputTokenCount": result.input_tokens,
        "outputTokenCount": result.output_tokens,
        "invocationLatency": latency_ms,
        "firstByteLatency": first_byte_ms,
    }


class TextCodec(Protocol):
    """One text family's InvokeModel request and response bodies, whole and streamed."""

    def parse(self, body: Body, model: FoundationModel) -> ChatRequest: ...

    def response(self, result: ChatResult, model: FoundationModel, request_id: str) -> Body: ...

    def stream_start(
        self, model: FoundationModel, request_id: str, input_tokens: int
    ) -> list[Body]:
        """Chunks before the first text."""

    def stream_delta(self, text: str, output_tokens: int) -> Body: ...

    def stream_end(self, result: ChatResult, metrics: Body) -> list[Body]:
        """Chunks after the last text; the last carries ``amazon-bedrock-invocationMetrics``."""
