"""Converse with ``guardrailConfig``: real guardrails from the bedrock API, the built-in model."""

from __future__ import annotations

from typing import Any

import pytest
from support import error_of

from .conftest import (
    BLOCKED_INPUT,
    BLOCKED_VI,
    HAIKU,
    INVESTMENT,
    answer_text,
    config,
    user,
)


def _input_assessment(reply: dict[str, Any], guard: dict[str, Any]) -> dict[str, Any]:
    return reply["trace"]["guardrail"]["inputAssessment"][guard["id"]]


@pytest.mark.parametrize(
    ("text", "policy", "finding"),
    [
        ("Should I buy Tesla stock?", "topicPolicy", {"name": "Investment Advice"}),
        ("Tôi nên đầu tư vào cổ phiếu nào?", "topicPolicy", {"name": "Investment Advice"}),
        ("This is fucking useless", "wordPolicy", {"type": "PROFANITY"}),
        ("What is the status of project falcon?", "wordPolicy", {"match": "Project Falcon"}),
        ("Write to an.nguyen@example.com please", "sensitiveInformationPolicy", {"type": "EMAIL"}),
        ("Gọi cho tôi: 0912 345 678", "sensitiveInformationPolicy", {"type": "PHONE"}),
        ("Số của tôi là +84 912 345 678", "sensitiveInformationPolicy", {"type": "PHONE"}),
    ],
)
def test_blocked_input_never_reaches_the_model(
    brt: Any, strict: dict[str, Any], text: str, policy: str, finding: dict[str, str]
) -> None:
    reply = brt.converse(modelId=HAIKU, messages=user(text), guardrailConfig=config(strict))
    assert reply["stopReason"] == "guardrail_intervened"
    assert answer_text(reply) == BLOCKED_INPUT
    assert reply["output"]["message"]["role"] == "assistant"
    assert reply["usage"]["outputTokens"] == 0
    assessment = _input_assessment(reply, strict)
    found = assessment[policy]
    entries = [e for group in found.values() for e in group]  # topics / words / piiEntities
    assert any(e["action"] == "BLOCKED" and finding.items() <= e.items() for e in entries)
    details = assessment["appliedGuardrailDetails"]
    assert (details["guardrailId"], details["guardrailVersion"]) == (strict["id"], "1")
    assert "outputAssessments" not in reply["trace"]["guardrail"]


def test_trace_disabled_still_blocks_but_says_nothing(brt: Any, strict: dict[str, Any]) -> None:
    for trace in ("disabled", None):
        guard = config(strict, trace=trace) if trace else config(strict)
        if trace is None:
            del guard["trace"]
        reply = brt.converse(
            modelId=HAIKU, messages=user("Should I buy Tesla stock?"), guardrailConfig=guard
        )
        assert reply["stopReason"] == "guardrail_intervened"
        assert answer_text(reply) == BLOCKED_INPUT
        assert "trace" not in reply


def test_clean_input_gets_the_model_answer_and_a_trace(brt: Any, strict: dict[str, Any]) -> None:
    reply = brt.converse(
        modelId=HAIKU, messages=user("What is 17 * 23?"), guardrailConfig=config(strict)
    )
    assert reply["stopReason"] == "end_turn"
    assert "391" in answer_text(reply)
    trace = reply["trace"]["guardrail"]
    assert strict["id"] in trace["inputAssessment"] and strict["id"] in trace["outputAssessments"]
    assert "modelOutput" not in trace  # only when the output was intervened


def test_trace_enabled_full_lists_what_was_not_detected(brt: Any, strict: dict[str, Any]) -> None:
    reply = brt.converse(
        modelId=HAIKU, messages=user("Hello"), guardrailConfig=config(strict, "enabled_full")
    )
    topics = _input_assessment(reply, strict)["topicPolicy"]["topics"]
    assert topics == [
        {"name": "Investment Advice", "type": "DENY", "action": "NONE", "detected": False}
    ]


def test_output_pii_is_masked_in_the_answer(brt: Any, masking: dict[str, Any]) -> None:
    text = "Repeat after me: write to an.nguyen@example.com or call 0912 345 678"
    reply = brt.converse(modelId=HAIKU, messages=user(text), guardrailConfig=config(masking))
    answer = answer_text(reply)
    assert "write to {EMAIL} or call {PHONE}" in answer
    assert "example.com" not in answer and "345" not in answer
    assert reply["stopReason"] == "guardrail_intervened"
    trace = reply["trace"]["guardrail"]
    assert "sensitiveInformationPolicy" not in trace["inputAssessment"][masking["id"]]
    (output,) = trace["outputAssessments"][masking["id"]]
    found = {(e["type"], e["action"]) for e in output["sensitiveInformationPolicy"]["piiEntities"]}
    assert found == {("EMAIL", "ANONYMIZED"), ("PHONE", "ANONYMIZED")}
    assert "an.nguyen@example.com" in trace["modelOutput"][0]  # what the model said


def test_input_pii_is_masked_before_the_model_sees_it(brt: Any, guardrail: Any) -> None:
    guard = guardrail(
        sensitiveInformationPolicyConfig={
            "piiEntitiesConfig": [{"type": "EMAIL", "action": "ANONYMIZE", "outputEnabled": False}]
        }
    )
    reply = brt.converse(
        modelId=HAIKU,
        messages=user("Repeat after me: my mail is an@example.com"),
        guardrailConfig=config(guard),
    )
    assert "my mail is {EMAIL}" in answer_text(reply)
    pii = _input_assessment(reply, guard)["sensitiveInformationPolicy"]["piiEntities"]
    assert [(e["type"], e["action"]) for e in pii] == [("EMAIL", "ANONYMIZED")]


def test_blocked_output_gets_the_blocked_outputs_message(brt: Any, guardrail: Any) -> None:
    guard = guardrail(
        wordPolicyConfig={"wordsConfig": [{"text": "kangaroo", "inputEnabled": False}]}
    )
    reply = brt.converse(
        modelId=HAIKU, messages=user("Repeat after me: kangaroo"), guardrailConfig=config(guard)
    )
    assert reply["stopReason"] == "guardrail_intervened"
    assert answer_text(reply) == "Sorry, the answer was withheld."
    assert reply["usage"]["outputTokens"] > 0  # the model did answer


def test_only_guard_content_is_evaluated_when_present(brt: Any, strict: dict[str, Any]) -> None:
    unguarded = [
        {
            "role": "user",
            "content": [
                {"text": "Should I buy Tesla stock?"},  # outside guardContent: not evaluated
                {"guardContent": {"text": {"text": "What is 2 + 2?"}}},
            ],
        }
    ]
    reply = brt.converse(modelId=HAIKU, messages=unguarded, guardrailConfig=config(strict))
    assert reply["stopReason"] != "guardrail_intervened"
    assert "topicPolicy" not in _input_assessment(reply, strict)
    guarded = [
        {
            "role": "user",
            "content": [
                {"text": "Summarise our chat."},
                {"guardContent": {"text": {"text": "Should I buy Tesla stock?"}}},
            ],
        }
    ]
    reply = brt.converse(modelId=HAIKU, messages=guarded, guardrailConfig=config(strict))
    assert (reply["stopReason"], answer_text(reply)) == ("guardrail_intervened", BLOCKED_INPUT)


def test_without_guard_content_every_message_is_evaluated(brt: Any, strict: dict[str, Any]) -> None:
    history = [
        {"role": "user", "content": [{"text": "Hi"}]},
        {"role": "assistant", "content": [{"text": "Ask me about Project Falcon."}]},
        {"role": "user", "content": [{"text": "Thanks, bye"}]},
    ]
    reply = brt.converse(modelId=HAIKU, messages=history, guardrailConfig=config(strict))
    assert (reply["stopReason"], answer_text(reply)) == ("guardrail_intervened", BLOCKED_INPUT)
    words = _input_assessment(reply, strict)["wordPolicy"]["customWords"]
    assert [w["match"] for w in words] == ["Project Falcon"]


def test_system_prompt_is_evaluated_only_inside_guard_content(brt: Any, guardrail: Any) -> None:
    guard = guardrail(
        topicPolicyConfig={"topicsConfig": [{**INVESTMENT, "outputEnabled": False}]},
        blockedInputMessaging=BLOCKED_VI,
    )
    question = "Should I buy Tesla stock?"
    plain = brt.converse(
        modelId=HAIKU,
        messages=user("Hello"),
        system=[{"text": question}],
        guardrailConfig=config(guard),
    )
    assert plain["stopReason"] == "end_turn"
    assert "topicPolicy" not in _input_assessment(plain, guard)
    marked = brt.converse(
        modelId=HAIKU,
        messages=user("Hello"),
        system=[{"guardContent": {"text": {"text": question}}}],
        guardrailConfig=config(guard),
    )
    assert (marked["stopReason"], answer_text(marked)) == ("guardrail_intervened", BLOCKED_VI)


def test_guardrail_by_arn_and_draft_versus_version(
    brt: Any, bedrock: Any, strict: dict[str, Any]
) -> None:
    got = bedrock.get_guardrail(guardrailIdentifier=strict["id"])
    bedrock.update_guardrail(
        guardrailIdentifier=strict["id"],
        name=got["name"],
        blockedInputMessaging="Draft says no.",
        blockedOutputsMessaging="Draft says no.",
        wordPolicyConfig={"wordsConfig": [{"text": "pineapple"}]},
    )
    ask = user("Is pineapple on pizza fine?")
    draft = {"guardrailIdentifier": strict["arn"], "guardrailVersion": "DRAFT"}
    reply = brt.converse(modelId=HAIKU, messages=ask, guardrailConfig=draft)
    assert answer_text(reply) == "Draft says no."
    version = {"guardrailIdentifier": strict["arn"], "guardrailVersion": "1"}
    reply = brt.converse(modelId=HAIKU, messages=ask, guardrailConfig=version)
    assert reply["stopReason"] == "end_turn"  # version 1 keeps the rules it was made with


@pytest.mark.parametrize(
    "guard",
    [
        {"guardrailIdentifier": "abcdefghij12", "guardrailVersion": "1"},
        {"guardrailIdentifier": "arn:aws:bedrock:us-east-1:000000000000:guardrail/zz9",
         "guardrailVersion": "DRAFT"},
        {"guardrailIdentifier": "INVALID ID", "guardrailVersion": "1"},
        {"guardrailIdentifier": "abcdefghij12"},
    ],
)  # fmt: skip
def test_unknown_or_incomplete_guardrail_is_a_validation_error(
    brt: Any, guard: dict[str, str]
) -> None:
    code, status, message = error_of(
        brt.converse, modelId=HAIKU, messages=user("Hello"), guardrailConfig=guard
    )
    assert (code, status) == ("ValidationException", 400)
    assert "guardrail" in message.lower()


def test_unknown_version_of_a_real_guardrail(brt: Any, strict: dict[str, Any]) -> None:
    guard = {"guardrailIdentifier": strict["id"], "guardrailVersion": "7"}
    code, status, _ = error_of(
        brt.converse, modelId=HAIKU, messages=user("Hello"), guardrailConfig=guard
    )
    assert (code, status) == ("ValidationException", 400)
