"""ConverseStream with a guardrail, sync and async stream processing, parsed by boto3."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import BLOCKED_INPUT, HAIKU, config, user

ECHO_PII = "Repeat after me: write to an.nguyen@example.com or call 0912 345 678"


def _stream(brt: Any, text: str, guard: dict[str, Any]) -> list[dict[str, Any]]:
    reply = brt.converse_stream(modelId=HAIKU, messages=user(text), guardrailConfig=guard)
    return list(reply["stream"])


def _deltas(events: list[dict[str, Any]]) -> list[str]:
    return [e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e]


def _stop(events: list[dict[str, Any]]) -> str:
    return next(e["messageStop"]["stopReason"] for e in events if "messageStop" in e)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_blocked_input_streams_the_blocked_message(
    brt: Any, strict: dict[str, Any], mode: str
) -> None:
    events = _stream(brt, "Should I buy Tesla stock?", config(strict, streamProcessingMode=mode))
    assert list(events[0]) == ["messageStart"]
    assert "".join(_deltas(events)) == BLOCKED_INPUT
    assert _stop(events) == "guardrail_intervened"
    metadata = events[-1]["metadata"]
    topics = metadata["trace"]["guardrail"]["inputAssessment"][strict["id"]]["topicPolicy"]
    assert topics["topics"][0]["action"] == "BLOCKED"
    assert metadata["usage"]["outputTokens"] == 0


def test_sync_mode_never_sends_unchecked_text(brt: Any, masking: dict[str, Any]) -> None:
    events = _stream(brt, ECHO_PII, config(masking, streamProcessingMode="sync"))
    deltas = _deltas(events)
    assert all("example.com" not in d and "345" not in d for d in deltas)
    assert "write to {EMAIL} or call {PHONE}" in "".join(deltas)
    assert _stop(events) == "guardrail_intervened"
    trace = events[-1]["metadata"]["trace"]["guardrail"]
    assert trace["outputAssessments"][masking["id"]][0]["sensitiveInformationPolicy"]


def test_sync_is_the_default_mode(brt: Any, masking: dict[str, Any]) -> None:
    joined = "".join(_deltas(_stream(brt, ECHO_PII, config(masking, trace="disabled"))))
    assert "{EMAIL}" in joined and "example.com" not in joined


def test_async_mode_streams_at_once_and_reports_the_intervention(
    brt: Any, masking: dict[str, Any]
) -> None:
    events = _stream(brt, ECHO_PII, config(masking, streamProcessingMode="async"))
    deltas = _deltas(events)
    assert len(deltas) > 1  # token by token, not held back for the guardrail
    # AWS does not mask in async mode: the verdict arrives after the text went out.
    assert "an.nguyen@example.com" in "".join(deltas)
    assert _stop(events) == "guardrail_intervened"
    trace = events[-1]["metadata"]["trace"]["guardrail"]
    assert masking["id"] in trace["outputAssessments"]


def test_clean_stream_with_guardrail_streams_tokens(brt: Any, strict: dict[str, Any]) -> None:
    events = _stream(brt, "What is 17 * 23?", config(strict, trace="disabled"))
    assert "391" in "".join(_deltas(events))
    assert _stop(events) == "end_turn"
    assert "trace" not in events[-1]["metadata"]
