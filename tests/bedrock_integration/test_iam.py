"""IAM for guarded calls and prompts: bedrock:InvokeModel on the model, bedrock:ApplyGuardrail on
the guardrail, bedrock:RenderPrompt on the prompt (AWS's inference prerequisites)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import error_of

from .conftest import HAIKU, allow, client_for_user, config, user

MODEL_ARN = f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"
INVOKE = allow(["bedrock:InvokeModel"], [MODEL_ARN])


def _denied(call: Any, **kwargs: Any) -> str:
    code, status, message = error_of(call, **kwargs)
    assert (code, status) == ("AccessDeniedException", 403)
    return message


def test_guardrail_needs_apply_guardrail_on_its_arn(
    nimbus: Any, strict: dict[str, Any], masking: dict[str, Any]
) -> None:
    invoke_only = client_for_user(nimbus, INVOKE)
    assert invoke_only.converse(modelId=HAIKU, messages=user("Hello"))["output"]
    message = _denied(
        invoke_only.converse, modelId=HAIKU, messages=user("Hello"), guardrailConfig=config(strict)
    )
    assert "bedrock:ApplyGuardrail" in message
    granted = client_for_user(nimbus, INVOKE, allow(["bedrock:ApplyGuardrail"], [strict["arn"]]))
    reply = granted.converse(
        modelId=HAIKU, messages=user("Should I buy Tesla stock?"), guardrailConfig=config(strict)
    )
    assert reply["stopReason"] == "guardrail_intervened"
    _denied(  # the grant names one guardrail, not another
        granted.converse, modelId=HAIKU, messages=user("Hi"), guardrailConfig=config(masking)
    )
    streaming = client_for_user(
        nimbus, allow(["bedrock:InvokeModelWithResponseStream"], [MODEL_ARN])
    )
    assert list(streaming.converse_stream(modelId=HAIKU, messages=user("Hi"))["stream"])
    message = _denied(
        streaming.converse_stream,
        modelId=HAIKU,
        messages=user("Hi"),
        guardrailConfig=config(strict),
    )
    assert "bedrock:ApplyGuardrail" in message


def test_guardrail_without_model_permission_is_denied(nimbus: Any, strict: dict[str, Any]) -> None:
    guard_only = client_for_user(nimbus, allow(["bedrock:ApplyGuardrail"], [strict["arn"]]))
    _denied(guard_only.converse, modelId=HAIKU, messages=user("Hi"), guardrailConfig=config(strict))
    assert (
        guard_only.apply_guardrail(
            guardrailIdentifier=strict["id"],
            guardrailVersion="1",
            source="INPUT",
            content=[{"text": {"text": "Hi"}}],
        )["action"]
        == "NONE"
    )


def test_invoke_model_guardrail_headers_need_apply_guardrail(
    nimbus: Any, strict: dict[str, Any]
) -> None:
    body = json.dumps(
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 100,
            "messages": [{"role": "user", "content": "Hi"}],
        }
    )
    headers = {"guardrailIdentifier": strict["id"], "guardrailVersion": "1"}
    _denied(client_for_user(nimbus, INVOKE).invoke_model, modelId=HAIKU, body=body, **headers)
    granted = client_for_user(nimbus, INVOKE, allow(["bedrock:ApplyGuardrail"], [strict["arn"]]))
    reply = json.loads(granted.invoke_model(modelId=HAIKU, body=body, **headers)["body"].read())
    assert reply["amazon-bedrock-guardrailAction"] == "NONE"


@pytest.fixture
def echo_version(prompt: Any, agent: Any) -> dict[str, Any]:
    variant = {
        "name": "echo",
        "templateType": "TEXT",
        "modelId": HAIKU,
        "templateConfiguration": {"text": {"text": "Repeat after me: {{x}}"}},
    }
    return agent.create_prompt_version(promptIdentifier=prompt([variant])["id"])


def test_prompts_need_render_prompt_and_the_model(
    nimbus: Any, echo_version: dict[str, Any], strict: dict[str, Any]
) -> None:
    arn = echo_version["arn"]
    variables = {"x": {"text": "hello"}}
    _denied(client_for_user(nimbus, INVOKE).converse, modelId=arn, promptVariables=variables)
    render_only = client_for_user(nimbus, allow(["bedrock:RenderPrompt"], [arn]))
    _denied(render_only.converse, modelId=arn, promptVariables=variables)
    both = client_for_user(nimbus, INVOKE, allow(["bedrock:RenderPrompt"], [arn]))
    assert (
        "hello"
        in both.converse(modelId=arn, promptVariables=variables)["output"]["message"]["content"][0][
            "text"
        ]
    )
    message = _denied(
        both.converse, modelId=arn, promptVariables=variables, guardrailConfig=config(strict)
    )
    assert "bedrock:ApplyGuardrail" in message
