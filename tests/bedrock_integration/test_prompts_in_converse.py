"""Prompts from bedrock-agent prompt management run by Converse / ConverseStream."""

from __future__ import annotations

from typing import Any

import pytest
from support import error_of

from .conftest import BLOCKED_INPUT, HAIKU, answer_text, config

TEXT_VARIANT = {
    "name": "echo",
    "templateType": "TEXT",
    "modelId": HAIKU,
    "templateConfiguration": {
        "text": {"text": "Repeat after me: {{phrase}}", "inputVariables": [{"name": "phrase"}]}
    },
    "inferenceConfiguration": {"text": {"maxTokens": 300, "temperature": 0.1}},
}
CHAT_VARIANT = {
    "name": "adverts",
    "templateType": "CHAT",
    "modelId": HAIKU,
    "templateConfiguration": {
        "chat": {
            "system": [{"text": "You write {{tone}} car adverts."}],
            "messages": [
                {"role": "user", "content": [{"text": "Write an advert for the {{model}}."}]}
            ],
            "inputVariables": [{"name": "tone"}, {"name": "model"}],
        }
    },
}


def _variables(**values: str) -> dict[str, dict[str, str]]:
    return {name: {"text": value} for name, value in values.items()}


@pytest.fixture
def echo(prompt: Any, agent: Any) -> dict[str, Any]:
    """A prompt whose default TEXT variant echoes {{phrase}}, with version 1 published."""
    created = prompt([TEXT_VARIANT], default="echo")
    return agent.create_prompt_version(promptIdentifier=created["id"])


def test_text_variant_version_with_variables(brt: Any, echo: dict[str, Any]) -> None:
    assert echo["arn"].endswith(":1")
    reply = brt.converse(modelId=echo["arn"], promptVariables=_variables(phrase="xin chào bạn"))
    assert "xin chào bạn" in answer_text(reply)
    assert reply["stopReason"] == "end_turn"


def test_chat_variant_fills_system_and_messages(brt: Any, prompt: Any, agent: Any) -> None:
    created = prompt([CHAT_VARIANT])
    version = agent.create_prompt_version(promptIdentifier=created["arn"])
    reply = brt.converse(
        modelId=version["arn"], promptVariables=_variables(tone="playful", model="VinFast VF 8")
    )
    answer = answer_text(reply)
    assert "VinFast VF 8" in answer  # the filled user message reached the model
    assert "You write playful car adverts." in answer  # and so did the filled system prompt
    assert "{{" not in answer


def test_request_messages_follow_the_prompts(brt: Any, prompt: Any, agent: Any) -> None:
    created = prompt([CHAT_VARIANT])
    version = agent.create_prompt_version(promptIdentifier=created["id"])
    follow_up = [
        {"role": "assistant", "content": [{"text": "Drive the future."}]},
        {"role": "user", "content": [{"text": "Repeat after me: shorter please"}]},
    ]
    reply = brt.converse(
        modelId=version["arn"],
        promptVariables=_variables(tone="calm", model="Corolla"),
        messages=follow_up,
    )
    assert "shorter please" in answer_text(reply)


def test_versions_keep_their_template(brt: Any, agent: Any, echo: dict[str, Any]) -> None:
    changed = {**TEXT_VARIANT}
    changed["templateConfiguration"] = {
        "text": {"text": "Repeat after me: v2 {{phrase}}", "inputVariables": [{"name": "phrase"}]}
    }
    agent.update_prompt(
        promptIdentifier=echo["id"], name=echo["name"], variants=[changed], defaultVariant="echo"
    )
    two = agent.create_prompt_version(promptIdentifier=echo["id"])
    variables = _variables(phrase="hello")
    assert "v2 hello" not in answer_text(
        brt.converse(modelId=echo["arn"], promptVariables=variables)
    )
    assert "v2 hello" in answer_text(brt.converse(modelId=two["arn"], promptVariables=variables))


def test_missing_variable_is_a_validation_error(brt: Any, echo: dict[str, Any]) -> None:
    for variables in ({}, _variables(other="x")):
        code, status, message = error_of(
            brt.converse, modelId=echo["arn"], promptVariables=variables
        )
        assert (code, status) == ("ValidationException", 400)
        assert "phrase" in message


@pytest.mark.parametrize(
    "extra",
    [
        {"inferenceConfig": {"maxTokens": 50}},
        {"system": [{"text": "Be brief."}]},
        {"additionalModelRequestFields": {"top_k": 5}},
        {
            "toolConfig": {
                "tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "object"}}}}]
            }
        },
    ],
)
def test_fields_the_prompt_owns_are_rejected(
    brt: Any, echo: dict[str, Any], extra: dict[str, Any]
) -> None:
    code, status, message = error_of(
        brt.converse, modelId=echo["arn"], promptVariables=_variables(phrase="x"), **extra
    )
    assert (code, status) == ("ValidationException", 400)
    assert next(iter(extra)) in message


def test_prompt_variables_without_a_prompt_are_ignored(brt: Any) -> None:
    reply = brt.converse(
        modelId=HAIKU,
        messages=[{"role": "user", "content": [{"text": "Hello"}]}],
        promptVariables=_variables(phrase="x"),
    )
    assert reply["stopReason"] == "end_turn"


def test_unknown_prompt_or_version(brt: Any, echo: dict[str, Any]) -> None:
    base = echo["arn"].rsplit(":", 1)[0]
    for arn in (f"{base}:9", base.rsplit("/", 1)[0] + "/ZZZZZZZZZZ:1"):
        code, status, _ = error_of(
            brt.converse, modelId=arn, promptVariables=_variables(phrase="x")
        )
        assert (code, status) == ("ResourceNotFoundException", 404)


def test_stream_runs_a_prompt(brt: Any, echo: dict[str, Any]) -> None:
    reply = brt.converse_stream(modelId=echo["arn"], promptVariables=_variables(phrase="tạm biệt"))
    events = list(reply["stream"])
    text = "".join(
        e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e
    )
    assert "tạm biệt" in text
    assert events[-1]["metadata"]["usage"]["inputTokens"] > 0


def test_guardrail_evaluates_the_rendered_prompt(
    brt: Any, echo: dict[str, Any], strict: dict[str, Any]
) -> None:
    reply = brt.converse(
        modelId=echo["arn"],
        promptVariables=_variables(phrase="Should I buy Tesla stock?"),
        guardrailConfig=config(strict),
    )
    assert (reply["stopReason"], answer_text(reply)) == ("guardrail_intervened", BLOCKED_INPUT)
    assert strict["id"] in reply["trace"]["guardrail"]["inputAssessment"]
