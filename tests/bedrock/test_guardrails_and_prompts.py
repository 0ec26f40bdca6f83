"""guardrailConfig and prompt ARNs in Converse, against tiny fakes of the contract's
``evaluate_guardrail`` and ``render_prompt`` (the real ones belong to other modules)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pytest

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services import registry as registry_module
from nimbus.services.registry import ServiceRegistry

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
PROMPT = "arn:aws:bedrock:us-east-1:000000000000:prompt/PROMPT1234:2"
BLOCKED = "Sorry, I can't talk about that."


class FakeGuardrails:
    """Blocks inputs that mention 'weapons'; masks e-mail addresses in outputs."""

    logging_config = None

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, list[dict[str, Any]]]] = []

    def evaluate_guardrail(
        self,
        identifier: str,
        version: str,
        source: str,
        contents: list[dict[str, Any]],
        output_scope: str = "INTERVENTIONS",
    ) -> dict[str, Any]:
        self.calls.append((identifier, version, source, contents))
        if identifier != "gr-1":
            raise AwsError("ResourceNotFoundException", "no such guardrail", 404)
        text = " ".join(c["text"]["text"] for c in contents)
        if source == "INPUT" and "weapons" in text:
            topic = {"name": "Weapons", "type": "DENY", "action": "BLOCKED"}
            return {
                "action": "GUARDRAIL_INTERVENED",
                "outputs": [{"text": BLOCKED}],
                "assessments": [{"topicPolicy": {"topics": [topic]}}],
                "usage": {},
            }
        if source == "INPUT" and "@" in text:
            masked = [
                {"text": c["text"]["text"].replace("an@example.com", "{EMAIL}")} for c in contents
            ]
            pii = {"match": "an@example.com", "type": "EMAIL", "action": "ANONYMIZED"}
            return {
                "action": "GUARDRAIL_INTERVENED",
                "outputs": masked,
                "usage": {},
                "assessments": [{"sensitiveInformationPolicy": {"piiEntities": [pii]}}],
            }
        if source == "OUTPUT" and "Nimbus" in text:
            return {
                "action": "GUARDRAIL_INTERVENED",
                "outputs": [{"text": text.replace("Nimbus", "{NAME}")}],
                "assessments": [
                    {"wordPolicy": {"customWords": [{"match": "Nimbus", "action": "ANONYMIZED"}]}}
                ],
                "usage": {},
            }
        return {"action": "NONE", "outputs": [], "assessments": [{}], "usage": {}}

    def close(self) -> None:
        pass


class FakePrompts:
    def render_prompt(self, prompt_arn: str, variables: dict[str, Any]) -> dict[str, Any]:
        if "topic" not in variables:
            raise AwsError("ValidationException", "missing variable topic", 400)
        text = f"Write one line about {variables['topic']['text']}."
        return {
            "modelId": HAIKU,
            "messages": [{"role": "user", "content": [{"text": text}]}],
            "system": [{"text": "You are a poet."}],
            "inferenceConfig": {"maxTokens": 300},
        }

    def close(self) -> None:
        pass


@pytest.fixture
def runtime(registry: ServiceRegistry, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setitem(registry_module.PROVIDERS, "bedrock-agent", "fake:FakePrompts")
    registry._providers["bedrock"] = FakeGuardrails()  # type: ignore[assignment]
    registry._providers["bedrock-agent"] = FakePrompts()  # type: ignore[assignment]
    return registry.get("bedrock-runtime")


@pytest.fixture
def rctx(ctx: RequestContext) -> RequestContext:
    return replace(ctx, service="bedrock-runtime")


def _converse(runtime: Any, ctx: RequestContext, **req: Any) -> dict[str, Any]:
    return asyncio.run(runtime.converse(req, ctx))


def _stream(runtime: Any, ctx: RequestContext, **req: Any) -> list[dict[str, Any]]:
    async def collect() -> list[dict[str, Any]]:
        out = await runtime.converse_stream(req, ctx)
        return [event async for event in out["stream"]]

    return asyncio.run(collect())


def _user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


GUARD = {"guardrailIdentifier": "gr-1", "guardrailVersion": "DRAFT", "trace": "enabled"}


def test_blocked_input_never_reaches_the_model(runtime: Any, rctx: RequestContext) -> None:
    out = _converse(
        runtime, rctx, modelId=HAIKU, messages=_user("Tell me about weapons"), guardrailConfig=GUARD
    )
    assert out["stopReason"] == "guardrail_intervened"
    assert out["output"]["message"]["content"][0]["text"] == BLOCKED
    assert out["usage"]["outputTokens"] == 0
    assessment = out["trace"]["guardrail"]["inputAssessment"]["gr-1"]
    assert assessment["topicPolicy"]["topics"][0]["action"] == "BLOCKED"


def test_anonymized_input_reaches_the_model_masked(runtime: Any, rctx: RequestContext) -> None:
    out = _converse(
        runtime,
        rctx,
        modelId=HAIKU,
        messages=_user("Repeat after me: mail an@example.com"),
        guardrailConfig={**GUARD, "trace": "disabled"},
    )
    text = out["output"]["message"]["content"][0]["text"]
    assert "{EMAIL}" in text and "an@example.com" not in text
    assert "trace" not in out


def test_output_is_replaced_when_the_guardrail_intervenes(
    runtime: Any, rctx: RequestContext
) -> None:
    out = _converse(runtime, rctx, modelId=HAIKU, messages=_user("Hello"), guardrailConfig=GUARD)
    assert out["stopReason"] == "guardrail_intervened"
    assert "{NAME}" in out["output"]["message"]["content"][0]["text"]
    trace = out["trace"]["guardrail"]
    assert "Nimbus" in trace["modelOutput"][0] and "gr-1" in trace["outputAssessments"]
    sources = [call[2] for call in runtime.env.registry.get("bedrock").calls]
    assert sources == ["INPUT", "OUTPUT"]


def test_guard_content_blocks_are_what_gets_checked(runtime: Any, rctx: RequestContext) -> None:
    messages = [
        {
            "role": "user",
            "content": [
                {"text": "weapons are mentioned outside"},
                {"guardContent": {"text": {"text": "hello"}}},
            ],
        }
    ]
    out = _converse(runtime, rctx, modelId=HAIKU, messages=messages, guardrailConfig=GUARD)
    assert out["output"]["message"]["content"][0]["text"] != BLOCKED


def test_stream_with_guardrail(runtime: Any, rctx: RequestContext) -> None:
    blocked = _stream(
        runtime, rctx, modelId=HAIKU, messages=_user("weapons"), guardrailConfig=GUARD
    )
    text = "".join(
        e["contentBlockDelta"]["delta"]["text"] for e in blocked if "contentBlockDelta" in e
    )
    assert text == BLOCKED
    assert {"messageStop": {"stopReason": "guardrail_intervened"}} in blocked
    assert "trace" in blocked[-1]["metadata"]
    masked = _stream(runtime, rctx, modelId=HAIKU, messages=_user("Hello"), guardrailConfig=GUARD)
    text = "".join(
        e["contentBlockDelta"]["delta"]["text"] for e in masked if "contentBlockDelta" in e
    )
    assert "{NAME}" in text and "Nimbus" not in text  # sync mode: nothing unchecked went out


def test_unknown_guardrail_is_a_404(runtime: Any, rctx: RequestContext) -> None:
    with pytest.raises(AwsError) as info:
        _converse(
            runtime,
            rctx,
            modelId=HAIKU,
            messages=_user("hi"),
            guardrailConfig={"guardrailIdentifier": "nope", "guardrailVersion": "1"},
        )
    assert (info.value.code, info.value.status) == ("ResourceNotFoundException", 404)


def test_invoke_model_guardrail_headers(runtime: Any, rctx: RequestContext) -> None:
    body = json.dumps(
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 50,
            "messages": [{"role": "user", "content": "weapons"}],
        }
    ).encode()
    req = {
        "modelId": HAIKU,
        "body": body,
        "guardrailIdentifier": "gr-1",
        "guardrailVersion": "1",
        "trace": "ENABLED",
    }
    out = json.loads(asyncio.run(runtime.invoke_model(req, rctx))["body"])
    assert out["content"][0]["text"] == BLOCKED
    assert out["amazon-bedrock-guardrailAction"] == "INTERVENED"
    assert "guardrail" in out["amazon-bedrock-trace"]


def test_apply_guardrail_delegates(runtime: Any, rctx: RequestContext) -> None:
    content = [{"text": {"text": "weapons"}}]
    out = runtime.apply_guardrail(
        {
            "guardrailIdentifier": "gr-1",
            "guardrailVersion": "DRAFT",
            "source": "INPUT",
            "content": content,
        },
        rctx,
    )
    assert out["action"] == "GUARDRAIL_INTERVENED"


def test_prompt_arn_renders_then_appends_the_requests_messages(
    runtime: Any, rctx: RequestContext
) -> None:
    out = _converse(runtime, rctx, modelId=PROMPT, promptVariables={"topic": {"text": "rain"}})
    text = out["output"]["message"]["content"][0]["text"]
    assert "rain" in text and "You are a poet." in text
    follow = [
        {"role": "assistant", "content": [{"text": "Rain falls."}]},
        *_user("Another, about snow"),
    ]
    out = _converse(
        runtime, rctx, modelId=PROMPT, promptVariables={"topic": {"text": "rain"}}, messages=follow
    )
    assert "snow" in out["output"]["message"]["content"][0]["text"]
    with pytest.raises(AwsError) as info:
        _converse(runtime, rctx, modelId=PROMPT, promptVariables={})
    assert info.value.code == "ValidationException"
