"""InvokeModel / InvokeModelWithResponseStream with the guardrail headers, Anthropic bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import error_of

from .conftest import BLOCKED_INPUT, HAIKU

TAG = "amazon-bedrock-guardrails-guardContent_"


def _body(text: str, **extra: Any) -> str:
    return json.dumps(
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 400,
            "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
            **extra,
        }
    )


def _invoke(brt: Any, text: str, guard: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    headers = {}
    if guard is not None:
        headers = {"guardrailIdentifier": guard["id"], "guardrailVersion": guard["version"]}
    reply = brt.invoke_model(modelId=HAIKU, body=_body(text, **extra), **headers)
    return json.loads(reply["body"].read())


def test_blocked_input_body_with_action_and_trace(brt: Any, strict: dict[str, Any]) -> None:
    reply = brt.invoke_model(
        modelId=HAIKU,
        body=_body("Should I buy Tesla stock?"),
        guardrailIdentifier=strict["arn"],
        guardrailVersion=strict["version"],
        trace="ENABLED",
    )
    body = json.loads(reply["body"].read())
    assert body["content"] == [{"type": "text", "text": BLOCKED_INPUT}]
    assert (body["type"], body["role"]) == ("message", "assistant")
    assert body["amazon-bedrock-guardrailAction"] == "INTERVENED"
    guardrail = body["amazon-bedrock-trace"]["guardrail"]
    topics = guardrail["input"][strict["id"]]["topicPolicy"]["topics"]
    assert topics[0]["name"] == "Investment Advice" and topics[0]["action"] == "BLOCKED"
    assert "outputs" not in guardrail


def test_trace_only_when_enabled(brt: Any, strict: dict[str, Any]) -> None:
    body = _invoke(brt, "Should I buy Tesla stock?", strict)
    assert body["amazon-bedrock-guardrailAction"] == "INTERVENED"
    assert "amazon-bedrock-trace" not in body


def test_clean_input_keeps_the_model_body_and_says_none(brt: Any, strict: dict[str, Any]) -> None:
    body = _invoke(brt, "What is 17 * 23?", strict)
    assert body["amazon-bedrock-guardrailAction"] == "NONE"
    assert "391" in body["content"][0]["text"]
    assert body["stop_reason"] == "end_turn" and body["usage"]["output_tokens"] > 0
    plain = _invoke(brt, "What is 17 * 23?", None)
    assert "amazon-bedrock-guardrailAction" not in plain


def test_output_pii_is_masked_with_outputs_in_the_trace(brt: Any, masking: dict[str, Any]) -> None:
    reply = brt.invoke_model(
        modelId=HAIKU,
        body=_body("Repeat after me: mail an.nguyen@example.com now"),
        guardrailIdentifier=masking["id"],
        guardrailVersion=masking["version"],
        trace="ENABLED",
    )
    body = json.loads(reply["body"].read())
    assert "mail {EMAIL} now" in body["content"][0]["text"]
    assert "example.com" not in body["content"][0]["text"]
    assert body["amazon-bedrock-guardrailAction"] == "INTERVENED"
    guardrail = body["amazon-bedrock-trace"]["guardrail"]
    (output,) = guardrail["outputs"]
    pii = output[masking["id"]]["sensitiveInformationPolicy"]["piiEntities"]
    assert [(e["type"], e["action"]) for e in pii] == [("EMAIL", "ANONYMIZED")]
    assert "an.nguyen@example.com" in guardrail["modelOutput"][0]


def test_input_tags_limit_what_is_evaluated(brt: Any, strict: dict[str, Any]) -> None:
    config = {"amazon-bedrock-guardrailConfig": {"tagSuffix": "xyz"}}
    outside = f"Should I buy Tesla stock? <{TAG}xyz>What is 2 + 2?</{TAG}xyz>"
    body = _invoke(brt, outside, strict, **config)
    assert body["amazon-bedrock-guardrailAction"] == "NONE"
    inside = f"Context: tickers. <{TAG}xyz>Should I buy Tesla stock?</{TAG}xyz>"
    body = _invoke(brt, inside, strict, **config)
    assert body["amazon-bedrock-guardrailAction"] == "INTERVENED"
    assert body["content"][0]["text"] == BLOCKED_INPUT
    other_suffix = f"Should I buy Tesla stock? <{TAG}abc>hi</{TAG}abc>"
    body = _invoke(brt, other_suffix, strict, **config)  # no tag with this suffix: all of it
    assert body["amazon-bedrock-guardrailAction"] == "INTERVENED"


def test_guardrail_config_in_the_body_needs_a_guardrail(brt: Any) -> None:
    body = _body("hi", **{"amazon-bedrock-guardrailConfig": {"tagSuffix": "xyz"}})
    code, status, message = error_of(brt.invoke_model, modelId=HAIKU, body=body)
    assert (code, status) == ("ValidationException", 400)
    assert "amazon-bedrock-guardrailConfig" in message


@pytest.mark.parametrize(
    "headers",
    [
        {"guardrailIdentifier": "abcdefghij12", "guardrailVersion": "1"},
        {"guardrailIdentifier": "abcdefghij12"},
    ],
)
def test_unknown_or_incomplete_guardrail(brt: Any, headers: dict[str, str]) -> None:
    code, status, _ = error_of(brt.invoke_model, modelId=HAIKU, body=_body("hi"), **headers)
    assert (code, status) == ("ValidationException", 400)


def _chunks(reply: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(e["chunk"]["bytes"]) for e in reply["body"] if "chunk" in e]


def test_stream_blocked_input_ends_with_action_and_trace(brt: Any, strict: dict[str, Any]) -> None:
    reply = brt.invoke_model_with_response_stream(
        modelId=HAIKU,
        body=_body("Should I buy Tesla stock?"),
        guardrailIdentifier=strict["id"],
        guardrailVersion=strict["version"],
        trace="ENABLED",
    )
    chunks = _chunks(reply)
    text = "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta")
    assert text == BLOCKED_INPUT
    last = chunks[-1]
    assert last["type"] == "message_stop"
    assert last["amazon-bedrock-guardrailAction"] == "INTERVENED"
    assert strict["id"] in last["amazon-bedrock-trace"]["guardrail"]["input"]


@pytest.mark.parametrize("mode", ["SYNCHRONOUS", "ASYNCHRONOUS"])
def test_stream_output_masking_by_processing_mode(
    brt: Any, masking: dict[str, Any], mode: str
) -> None:
    config = {"amazon-bedrock-guardrailConfig": {"streamProcessingMode": mode}}
    reply = brt.invoke_model_with_response_stream(
        modelId=HAIKU,
        body=_body("Repeat after me: mail an.nguyen@example.com now", **config),
        guardrailIdentifier=masking["id"],
        guardrailVersion=masking["version"],
    )
    chunks = _chunks(reply)
    text = "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta")
    if mode == "SYNCHRONOUS":
        assert "{EMAIL}" in text and "example.com" not in text
    else:
        assert "an.nguyen@example.com" in text  # sent before the guardrail's verdict
    assert chunks[-1]["amazon-bedrock-guardrailAction"] == "INTERVENED"
