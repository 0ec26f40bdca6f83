"""The prompt layer with fake clients passed in: templates and versions, routing, retries and
fallback, guardrails, the cache, cost, audit records and metrics."""

from __future__ import annotations

import json

import pytest
from genai_support import (
    MODELS,
    Clock,
    FakeAgent,
    FakeClientError,
    FakeRuntime,
    MemoryDynamo,
    make_layer,
    prompt_layer,
    templates,
)
from prompt_layer.audit import mask, sha256
from prompt_layer.routing import ModelsFailed, Retrier, estimate_tokens, route
from prompt_layer.usage import estimated_cost

Request = prompt_layer.Request
LayerError = prompt_layer.LayerError


def audit_rows(dynamo: MemoryDynamo) -> list[dict]:
    return dynamo.items("Audit")


def metric_lines(emitted: list[str]) -> list[dict]:
    return [json.loads(line) for line in emitted if line.startswith("{")]


# ---- templates ----------------------------------------------------------------------------------


def catalog() -> templates.Catalog:
    agent = FakeAgent()
    return templates.Catalog(agent, [agent.arn(name, "1") for name in agent.ids])


def test_the_templates_render_each_placeholder_once() -> None:
    chat = catalog().get("chat")
    assert set(catalog().templates()) == {"chat", "summarize", "advert"}
    assert chat.version == "1" and chat.arn.endswith(":1")
    assert set(chat.variables) == {"input", "language"}
    assert (chat.tier, chat.max_tokens, chat.temperature) == ("auto", 512, 0.3)
    assert catalog().get("advert").tier == "large"
    rendered = templates.render(chat, {"input": "What is {{language}}?", "language": "English"})
    assert "Answer in English" in rendered.system[0]
    assert rendered.messages == [("user", "What is {{language}}?")]  # never expanded
    assert rendered.converse_fields() == {
        "messages": [{"role": "user", "content": [{"text": "What is {{language}}?"}]}],
        "system": [{"text": rendered.system[0]}],
    }


def test_unknown_template_and_missing_variable_are_400s() -> None:
    with pytest.raises(LayerError) as unknown:
        catalog().get("poem")
    assert unknown.value.status == 400 and unknown.value.key == "unknown_template"
    assert "chat" in unknown.value.message("en")
    with pytest.raises(LayerError) as missing:
        templates.render(catalog().get("chat"), {"input": "x"})
    assert missing.value.key == "missing_variable" and "language" in missing.value.message("vi")


def test_prompt_versions_come_from_bedrock_prompt_management_once() -> None:
    agent = FakeAgent(version="3")
    layer, runtime, _, _ = make_layer(agent=agent)
    first = layer.generate(Request("Hi there", "chat", "en"), "rest")
    layer.generate(Request("Summarize me", "summarize", "en"), "rest")
    assert first.template == "chat@3"
    assert len(agent.calls) == len(agent.ids)  # read once per execution environment
    assert {c["promptVersion"] for c in agent.calls} == {"3"}
    assert all(":" not in c["promptIdentifier"].rsplit("/", 1)[1] for c in agent.calls)
    sent = runtime.calls[-1][1] if runtime.calls[-1][0] == "converse" else runtime.calls[-2][1]
    assert sent["inferenceConfig"]["maxTokens"] == 400  # summarize's own setting


def test_a_prompt_arn_without_a_version_is_refused() -> None:
    with pytest.raises(ValueError):
        templates.split_version_arn("arn:aws:bedrock:us-east-1:123456789012:prompt/ABCDEFGHIJ")
    arn, version = templates.split_version_arn(
        "arn:aws:bedrock:us-east-1:123456789012:prompt/ABCDEFGHIJ:12"
    )
    assert arn.endswith("prompt/ABCDEFGHIJ") and version == "12"


# ---- routing, retries, fallback ------------------------------------------------------------------


def test_routing_rule() -> None:
    short = route(MODELS, "What is 2 + 2?")
    assert short.model == MODELS.small and short.reason.startswith("short prompt")
    long = route(MODELS, "word " * 100)
    assert estimate_tokens("word " * 100) > MODELS.threshold_tokens
    assert long.model == MODELS.large and long.reason.startswith("long prompt")
    assert route(MODELS, "hi", template_tier="large").model == MODELS.large
    assert route(MODELS, "word " * 100, requested="small").model == MODELS.small


def test_transient_errors_are_retried_with_growing_delays() -> None:
    slept: list[float] = []
    calls: list[str] = []
    errors = ["ThrottlingException", "ModelTimeoutException"]

    def call(model: str) -> str:
        calls.append(model)
        if errors:
            raise FakeClientError(errors.pop(0))
        return "ok"

    retrier = Retrier(attempts=3, base_delay=0.1, sleep=slept.append, jitter=lambda: 1.0)
    assert retrier.run(["a", "b"], call) == ("ok", "a", [
        {"model": "a", "error": "ThrottlingException"},
        {"model": "a", "error": "ModelTimeoutException"},
    ])  # fmt: skip
    assert calls == ["a", "a", "a"] and slept == [0.1, 0.2]


def test_after_the_retries_or_on_an_unusable_model_the_fallback_answers() -> None:
    retrier = Retrier(attempts=2, sleep=lambda s: None)

    def throttled_a(model: str) -> str:
        if model == "a":
            raise FakeClientError("ServiceUnavailableException")
        return model

    assert retrier.run(["a", "b"], throttled_a)[:2] == ("b", "b")

    def denied_a(model: str) -> str:
        if model == "a":
            raise FakeClientError("AccessDeniedException")
        return model

    _, model, tries = retrier.run(["a", "b"], denied_a)
    assert model == "b" and tries == [{"model": "a", "error": "AccessDeniedException"}]


def test_a_bad_request_is_not_retried_and_all_failing_raises() -> None:
    retrier = Retrier(sleep=lambda s: None)
    with pytest.raises(FakeClientError):
        retrier.run(
            ["a", "b"], lambda m: (_ for _ in ()).throw(FakeClientError("ValidationException"))
        )
    with pytest.raises(ModelsFailed) as failed:
        retrier.run(
            ["a", "b"], lambda m: (_ for _ in ()).throw(FakeClientError("ThrottlingException"))
        )
    assert len(failed.value.tries) == 6


def test_the_layer_falls_back_and_says_so() -> None:
    runtime = FakeRuntime(errors={MODELS.small: ["ThrottlingException"] * 3})
    layer, runtime, dynamo, emitted = make_layer(runtime)
    outcome = layer.generate(Request("Hello", "chat", "en"), "rest")
    assert outcome.model == MODELS.fallback and outcome.fallback
    assert [c[1]["modelId"] for c in runtime.calls if c[0] == "converse"] == [MODELS.small] * 3 + [
        MODELS.fallback
    ]
    [row] = audit_rows(dynamo)
    assert row["routed_model"]["S"] == MODELS.small and row["fallback"] == {"BOOL": True}
    assert len(row["tries"]["L"]) == 3
    assert metric_lines(emitted)[0]["Fallbacks"] == 1


def test_no_model_answering_is_a_503_with_an_audit_record() -> None:
    failing = ["ServiceUnavailableException"] * 3
    runtime = FakeRuntime(errors={MODELS.small: list(failing), MODELS.fallback: list(failing)})
    layer, _, dynamo, emitted = make_layer(runtime)
    with pytest.raises(LayerError) as failed:
        layer.generate(Request("Hello", "chat", "en"), "rest")
    assert failed.value.status == 503 and failed.value.key == "unavailable"
    [row] = audit_rows(dynamo)
    assert row["outcome"]["S"] == "error" and row["error"]["S"] == "unavailable"
    assert metric_lines(emitted)[0]["Errors"] == 1


# ---- the answer, usage and cost ------------------------------------------------------------------


def test_generate_answers_with_usage_cost_and_the_language_asked_for() -> None:
    layer, runtime, _, _ = make_layer()
    outcome = layer.generate(Request("Thủ đô của Việt Nam là gì?", "chat", "vi"), "rest")
    sent = runtime.calls[-2][1]  # converse, then the output guardrail
    assert runtime.calls[-2][0] == "converse" and runtime.calls[-1][0] == "apply_guardrail"
    assert "Answer in Vietnamese" in sent["system"][0]["text"]
    assert sent["messages"] == [
        {"role": "user", "content": [{"text": "Thủ đô của Việt Nam là gì?"}]}
    ]
    assert sent["inferenceConfig"] == {"maxTokens": 512, "temperature": 0.3}
    assert outcome.text == runtime.answer and outcome.model == MODELS.small
    assert outcome.input_tokens > 0 and outcome.output_tokens > 0
    expected = estimated_cost(MODELS.small, outcome.input_tokens, outcome.output_tokens)
    assert outcome.cost_usd == expected > 0
    assert outcome.model_latency_ms == 7 and outcome.latency_ms >= 0
    body = outcome.to_json()
    assert body["usage"]["totalTokens"] == outcome.input_tokens + outcome.output_tokens
    assert body["guardrail"] == {
        "input": "NONE",
        "output": "NONE",
        "findings": [],
        "blocked": False,
    }


def test_costs_know_inference_profiles_and_unknown_models_cost_nothing() -> None:
    assert estimated_cost("us.anthropic.claude-3-haiku-20240307-v1:0", 1_000_000, 0) == 0.25
    assert estimated_cost("some.unknown-model", 1000, 1000) == 0.0


@pytest.mark.parametrize(
    ("body", "status", "key"),
    [
        (None, 400, "bad_json"),
        ([], 400, "bad_json"),
        ({}, 400, "empty_prompt"),
        ({"prompt": "   "}, 400, "empty_prompt"),
        ({"prompt": "x" * 8001}, 413, "too_long"),
        ({"prompt": "x", "model": "huge"}, 400, "bad_parameter"),
        ({"prompt": "x", "maxTokens": 0}, 400, "bad_parameter"),
        ({"prompt": "x", "maxTokens": True}, 400, "bad_parameter"),
        ({"prompt": "x", "temperature": 2}, 400, "bad_parameter"),
        ({"prompt": "x", "cache": "yes"}, 400, "bad_parameter"),
        ({"prompt": "x", "template": 7}, 400, "bad_parameter"),
    ],
)
def test_bad_requests(body, status, key) -> None:
    with pytest.raises(LayerError) as refused:
        prompt_layer.parse_request(body, "en")
    assert (refused.value.status, refused.value.key) == (status, key)
    assert refused.value.message("vi") and refused.value.message("en")


# ---- the cache -----------------------------------------------------------------------------------


def test_an_identical_request_is_answered_from_the_cache() -> None:
    layer, runtime, dynamo, emitted = make_layer()
    first = layer.generate(Request("Hello cache", "chat", "en"), "rest")
    second = layer.generate(Request("Hello cache", "chat", "en"), "rest")
    assert not first.cached and second.cached
    assert second.text == first.text and second.model == first.model
    assert second.input_tokens == 0 and second.cost_usd == 0
    assert sum(1 for c in runtime.calls if c[0] == "converse") == 1
    [entry] = dynamo.items("Cache")
    assert int(entry["expires_at"]["N"]) == int(Clock().now) + 3600
    assert len(entry["key"]["S"]) == 64
    assert [m["CacheHits"] for m in metric_lines(emitted)] == [0, 1]


def test_the_cache_key_covers_parameters_language_and_opt_out() -> None:
    layer, _, _, _ = make_layer()
    layer.generate(Request("Same words", "chat", "en"), "rest")
    assert not layer.generate(Request("Same words", "chat", "en", max_tokens=100), "rest").cached
    assert not layer.generate(Request("Same words", "chat", "vi"), "rest").cached
    assert not layer.generate(Request("Same words", "chat", "en", use_cache=False), "rest").cached
    assert layer.generate(Request("Same words", "chat", "en"), "rest").cached


def test_an_expired_entry_is_not_used() -> None:
    clock = Clock()
    layer, _, _, _ = make_layer(clock=clock, ttl=60)
    layer.generate(Request("Hello", "chat", "en"), "rest")
    clock.now += 61  # DynamoDB's TTL deletes lazily; the read checks the time itself
    assert not layer.generate(Request("Hello", "chat", "en"), "rest").cached


# ---- guardrails ----------------------------------------------------------------------------------


def test_masked_input_is_what_the_model_sees_and_what_the_audit_keeps() -> None:
    layer, runtime, dynamo, _ = make_layer()
    outcome = layer.generate(Request("Mail me at lan@example.com please", "chat", "en"), "rest")
    sent = next(c[1] for c in runtime.calls if c[0] == "converse")
    assert "lan@example.com" not in json.dumps(sent) and "{EMAIL}" in json.dumps(sent)
    assert outcome.guardrail_input == "ANONYMIZED" and outcome.findings == ["EMAIL"]
    [row] = audit_rows(dynamo)
    assert "lan@example.com" not in json.dumps(row)
    assert row["prompt_sha256"]["S"] == sha256("Mail me at lan@example.com please")
    assert "{EMAIL}" in row["prompt_masked"]["S"]


def test_blocked_input_never_reaches_the_model() -> None:
    layer, runtime, dynamo, emitted = make_layer()
    outcome = layer.generate(Request("My card is 4111 1111 1111 1111", "chat", "en"), "rest")
    assert outcome.blocked and outcome.text == "Blocked input."
    assert outcome.stop_reason == "guardrail_intervened"
    assert not any(c[0] == "converse" for c in runtime.calls)
    [row] = audit_rows(dynamo)
    assert row["outcome"]["S"] == "blocked" and "prompt_masked" not in row
    assert "4111" not in json.dumps(row)
    assert row["findings"] == {"L": [{"S": "CREDIT_DEBIT_CARD_NUMBER"}]}
    assert metric_lines(emitted)[0]["GuardrailInterventions"] == 1


def test_a_blocked_answer_is_replaced_and_not_cached() -> None:
    runtime = FakeRuntime(answer="Buy these stocks now!")
    layer, runtime, dynamo, _ = make_layer(runtime)
    outcome = layer.generate(Request("Any tips?", "chat", "en"), "rest")
    assert outcome.text == "Blocked output." and outcome.guardrail_output == "BLOCKED"
    assert outcome.findings == ["topic:Investment advice"]
    assert dynamo.items("Cache") == []


def test_without_a_guardrail_nothing_is_checked() -> None:
    layer, runtime, _, _ = make_layer(guardrail="")
    layer.generate(Request("Mail me at lan@example.com", "chat", "en"), "rest")
    assert not any(c[0] == "apply_guardrail" for c in runtime.calls)


# ---- audit and metrics ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("write to lan.nguyen+x@mail.example.vn", "lan.nguyen"),
        ("card 4111-1111-1111-1111 exp", "4111"),
        ("gọi 0912 345 678 nhé", "345"),
        ("call +84 912 345 678", "345"),
        ("key AKIAABCDEFGHIJKLMNOP here", "AKIAABCDEFGHIJKLMNOP"),
        ("password: hunter2", "hunter2"),
        ("CCCD 001203004567", "001203004567"),
    ],
)
def test_mask_hides_what_looks_personal_or_secret(text: str, hidden: str) -> None:
    assert hidden not in mask(text)


def test_every_request_has_an_audit_record_and_a_metrics_line() -> None:
    layer, _, dynamo, emitted = make_layer()
    outcome = layer.generate(Request("Hello audit", "chat", "en"), "rest", caller="203.0.113.7")
    [row] = audit_rows(dynamo)
    assert row["pk"]["S"] == "2025-06-15" and row["sk"]["S"].endswith(f"#{outcome.request_id}")
    assert row["pattern"]["S"] == "rest" and row["outcome"]["S"] == "ok"
    assert row["caller"]["S"] == sha256("203.0.113.7")[:16] and "203.0.113.7" not in json.dumps(row)
    assert row["template"]["S"] == "chat@1" and row["guardrail"]["S"] == "gr1@1"
    assert int(row["input_tokens"]["N"]) == outcome.input_tokens
    assert float(row["cost_usd"]["N"]) == outcome.cost_usd
    assert row["answer_sha256"]["S"] == sha256(outcome.text)
    assert int(row["expires_at"]["N"]) == int(Clock().now) + 90 * 86400
    [line] = metric_lines(emitted)
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "GenAIPatterns"
    assert directive["Dimensions"] == [["Pattern"], ["ModelId"], []]
    names = {m["Name"] for m in directive["Metrics"]}
    assert {"InputTokens", "OutputTokens", "Latency", "EstimatedCost", "CacheHits"} <= names
    assert line["Pattern"] == "rest" and line["ModelId"] == MODELS.small
    assert line["InputTokens"] == outcome.input_tokens


def test_a_failing_cache_costs_a_model_call_not_the_answer() -> None:
    class Broken:
        enabled = True

        def get(self, key: str):
            raise FakeClientError("InternalServerError")

        def put(self, key: str, entry) -> None:
            raise FakeClientError("InternalServerError")

    layer, runtime, _, emitted = make_layer()
    layer.cache = Broken()
    assert layer.generate(Request("Hello", "chat", "en"), "rest").text == runtime.answer
    assert any("cache read failed" in line for line in emitted)
    assert any("cache write failed" in line for line in emitted)


def test_a_failing_guardrail_is_a_503_not_a_crash() -> None:
    class Throttled(FakeRuntime):
        def apply_guardrail(self, **kwargs) -> dict:
            raise FakeClientError("ThrottlingException")

    layer, _, dynamo, _ = make_layer(Throttled())
    with pytest.raises(LayerError) as failed:
        layer.generate(Request("Hello", "chat", "en"), "rest")
    assert failed.value.status == 503
    assert audit_rows(dynamo)[0]["error"]["S"] == "ThrottlingException"


def test_an_audit_failure_does_not_lose_the_answer() -> None:
    dynamo = MemoryDynamo()
    layer, _, _, emitted = make_layer(dynamo=dynamo)
    dynamo.fail = FakeClientError("ProvisionedThroughputExceededException")
    outcome = layer.generate(Request("Hello", "chat", "en", use_cache=False), "rest")
    assert outcome.text
    assert any("audit write failed" in line for line in emitted)


# ---- streaming -----------------------------------------------------------------------------------


def test_stream_hands_over_each_delta_in_order() -> None:
    layer, runtime, _, _ = make_layer()
    deltas: list[str] = []
    outcome = layer.stream(Request("Stream it", "chat", "en"), "stream", "conn1", deltas.append)
    assert len(deltas) == len(runtime.answer.split()) > 1
    assert "".join(deltas) == outcome.text == runtime.answer
    assert outcome.output_tokens == len(runtime.answer.split()) and outcome.model_latency_ms == 9
    assert not outcome.replaced


def test_a_stream_failing_before_its_first_text_falls_back() -> None:
    runtime = FakeRuntime(errors={MODELS.small: ["ThrottlingException"] * 3})
    layer, runtime, _, _ = make_layer(runtime)
    deltas: list[str] = []
    outcome = layer.stream(Request("Stream it", "chat", "en"), "stream", "c", deltas.append)
    assert outcome.model == MODELS.fallback and "".join(deltas) == runtime.answer


def test_a_stream_breaking_midway_is_a_503() -> None:
    layer, _, dynamo, _ = make_layer(FakeRuntime(stream_error_after=3))
    deltas: list[str] = []
    with pytest.raises(LayerError) as broke:
        layer.stream(Request("Stream it", "chat", "en"), "stream", "c", deltas.append)
    assert broke.value.status == 503 and len(deltas) == 2
    assert audit_rows(dynamo)[0]["outcome"]["S"] == "error"


def test_a_streamed_answer_the_guardrail_masks_is_replaced() -> None:
    runtime = FakeRuntime(answer="Write to boss@example.com today")
    layer, runtime, _, _ = make_layer(runtime)
    deltas: list[str] = []
    outcome = layer.stream(Request("Who?", "chat", "en"), "stream", "c", deltas.append)
    assert "".join(deltas) == runtime.answer
    assert outcome.replaced and outcome.text == "Write to {EMAIL} today"
    assert outcome.guardrail_output == "ANONYMIZED"


def test_a_client_that_goes_away_stops_the_stream() -> None:
    layer, runtime, dynamo, _ = make_layer()
    seen: list[str] = []

    def gone_after_two(text: str) -> None:
        seen.append(text)
        if len(seen) == 2:
            raise prompt_layer.ClientGone("c")

    with pytest.raises(prompt_layer.ClientGone):
        layer.stream(Request("Stream it", "chat", "en"), "stream", "c", gone_after_two)
    assert runtime.streams[0].closed
    assert audit_rows(dynamo)[0]["outcome"]["S"] == "client_gone"


def test_a_cached_answer_streams_as_one_delta() -> None:
    layer, runtime, _, _ = make_layer()
    layer.generate(Request("Cached stream", "chat", "en"), "rest")
    deltas: list[str] = []
    outcome = layer.stream(Request("Cached stream", "chat", "en"), "stream", "c", deltas.append)
    assert outcome.cached and deltas == [runtime.answer]
