"""The console's Bedrock API: models with backends and metrics, the streaming try-it endpoint,
guardrails with ApplyGuardrail, prompts; data made through boto3 against the live server."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support import NimbusServer, raw_request

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA = "amazon.nova-micro-v1:0"


def ask(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def wait_for(probe: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    """Metrics are written in a batch just after each invocation: poll until they show."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def model_row(console: Any, model_id: str) -> dict[str, Any]:
    models = console.get("bedrock/models")["models"]
    return next(m for m in models if m["modelId"] == model_id)


def stream(console: Any, body: dict[str, Any], **kwargs: Any) -> tuple[int, Any, dict]:
    return console.request("POST", "bedrock/converse-stream", body=json.dumps(body).encode(),
                           **kwargs)  # fmt: skip


def lines(raw: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in raw.decode().splitlines() if line.strip()]


def test_models_show_catalog_backend_and_last_hour_metrics(console, aws):
    runtime = aws("bedrock-runtime")
    used_in = used_out = 0
    for n in range(3):
        usage = runtime.converse(modelId=NOVA, messages=ask(f"Count to {n + 2}."))["usage"]
        used_in, used_out = used_in + usage["inputTokens"], used_out + usage["outputTokens"]
    with pytest.raises(ClientError):
        runtime.converse(modelId=NOVA, messages=ask("hi"), inferenceConfig={"maxTokens": 10**6})

    def counted() -> dict[str, Any] | None:
        row = model_row(console, NOVA)
        stats = row["stats"]
        return row if stats and stats["invocations"] >= 3 and stats["errors"] >= 1 else None

    row = wait_for(counted, "Nova Micro's invocations and error in the console")
    stats = row["stats"]
    assert stats["inputTokens"] >= used_in and stats["outputTokens"] >= used_out
    assert 0 < stats["latencyP50"] <= stats["latencyP99"]
    assert sum(v for _, v in stats["series"]["invocations"]) == stats["invocations"]
    tokens = sum(v for _, v in stats["series"]["tokens"])
    assert tokens == stats["inputTokens"] + stats["outputTokens"]
    assert row["backend"]["kind"] == "builtin" and row["backend"]["configured"] is False

    listed = console.get("bedrock/models")
    by_id = {m["modelId"]: m for m in listed["models"]}
    for summary in aws("bedrock").list_foundation_models()["modelSummaries"]:
        shown = by_id[summary["modelId"]]
        assert shown["provider"] == summary["providerName"]
        assert shown["inputModalities"] == summary["inputModalities"]
        assert shown["outputModalities"] == summary["outputModalities"]
        assert shown["streaming"] == summary["responseStreamingSupported"]
    assert listed["config"] == {"path": None, "error": None, "routes": 0}
    assert listed["minutes"] == 60 and listed["start"] < listed["end"]


def test_inference_profile_ids_get_their_own_row(console, aws):
    profile = f"us.{HAIKU}"
    aws("bedrock-runtime").converse(modelId=profile, messages=ask("hello"))
    row = wait_for(lambda: next((m for m in console.get("bedrock/models")["models"]
                                 if m["modelId"] == profile and m["stats"]), None),
                   "the inference profile's row")  # fmt: skip
    assert row["modelName"] == "Claude 3 Haiku (inference profile)"
    assert row["stats"]["invocations"] >= 1


def test_model_metrics_series_for_charts(console, aws):
    aws("bedrock-runtime").converse(modelId=HAIKU, messages=ask("Chart me."))

    def charted() -> dict[str, Any] | None:
        got = console.get(f"bedrock/models/{HAIKU}/metrics", minutes=15, period=60)
        return got if got["series"]["invocations"] else None

    got = wait_for(charted, "a chart point")
    assert got["modelId"] == HAIKU and got["period"] == 60
    series = got["series"]
    assert set(series) == {"invocations", "inputTokens", "outputTokens", "tokens", "latency",
                           "errors"}  # fmt: skip
    assert all(got["start"] <= t < got["end"] for t, _ in series["invocations"])
    assert series["latency"][0][1] > 0
    status, body, _ = console.request("GET", f"bedrock/models/{HAIKU}/metrics", {"minutes": "0"})
    assert status == 400 and body["code"] == "BadRequest"


def test_try_it_streams_the_same_answer_as_converse(console, aws):
    prompt = "What is 17 * 3?"
    expected = aws("bedrock-runtime").converse(modelId=HAIKU, messages=ask(prompt))
    status, raw, headers = stream(console, {"modelId": HAIKU, "prompt": prompt})
    assert status == 200 and headers["content-type"].startswith("application/x-ndjson")
    got = lines(raw)
    texts = [line["text"] for line in got if "text" in line]
    assert len(texts) > 1, "the answer should arrive in pieces"
    assert "".join(texts) == expected["output"]["message"]["content"][0]["text"]
    done = got[-1]
    assert done["done"] is True and done["stopReason"] == "end_turn"
    assert done["usage"]["inputTokens"] == expected["usage"]["inputTokens"]
    assert done["usage"]["outputTokens"] == expected["usage"]["outputTokens"]
    assert done["firstTokenMs"] <= done["totalMs"] and done["latencyMs"] >= 0


def test_try_it_applies_a_guardrail(console, guardrail):
    body = {"modelId": HAIKU, "prompt": "Which stocks and funds should I invest my money in?",
            "guardrailId": guardrail["guardrailId"], "guardrailVersion": "DRAFT"}  # fmt: skip
    status, raw, _ = stream(console, body)
    assert status == 200
    got = lines(raw)
    assert "".join(line.get("text", "") for line in got) == "Sorry, I can't take that input."
    assert got[-1]["stopReason"] == "guardrail_intervened"


def test_try_it_refuses_bad_requests(console):
    status, body, _ = stream(console, {"modelId": "anthropic.no-such-model-v1:0", "prompt": "hi"})
    assert status == 404 and body["code"] == "ResourceNotFoundException"
    status, body, _ = stream(console, {"modelId": HAIKU})
    assert status == 400 and body["code"] == "BadRequest" and "prompt" in body["message"]
    status, body, _ = stream(console, {"modelId": HAIKU, "prompt": "hi", "maxTokens": "many"})
    assert status == 400 and body["code"] == "ValidationException"
    status, body, _ = console.request("POST", "bedrock/converse-stream", body=b"{nope")
    assert status == 400 and body["code"] == "BadRequest"
    deep = b"[" * 50_000 + b"]" * 50_000
    status, body, _ = console.request("POST", "bedrock/converse-stream", body=deep)
    assert status == 400 and body["code"] == "BadRequest"
    status, body, _ = stream(console, {"modelId": HAIKU, "prompt": "hi"}, csrf=False)
    assert status == 403 and body["code"] == "Forbidden"


def test_guardrails_listed_with_versions_and_policies(console, aws, guardrail):
    bedrock, gid = aws("bedrock"), guardrail["guardrailId"]
    bedrock.create_guardrail_version(guardrailIdentifier=gid)
    bedrock.create_guardrail_version(guardrailIdentifier=gid)
    shown = next(g for g in console.get("bedrock/guardrails")["guardrails"] if g["id"] == gid)
    assert shown["versions"] == ["DRAFT", "1", "2"]
    assert shown["arn"] == guardrail["guardrailArn"]
    policies = {p["policy"]: p["items"] for p in shown["policies"]}
    assert policies["Denied topics"] == ["Investments"]
    assert policies["Sensitive information"] == ["EMAIL: ANONYMIZE", "PHONE: BLOCK"]
    assert policies["Word filters"] == ["frobnicate"]
    assert "Content filters" not in policies
    assert shown["blockedInputMessaging"] == "Sorry, I can't take that input."


def test_apply_guardrail_shows_action_masked_text_and_fired_policies(console, aws, guardrail):
    gid = guardrail["guardrailId"]
    version = aws("bedrock").create_guardrail_version(guardrailIdentifier=gid)["version"]

    def apply(text: str, **extra: Any) -> tuple[int, Any]:
        body = json.dumps({"text": text, "version": version, **extra}).encode()
        status, out, _ = console.request("POST", f"bedrock/guardrails/{gid}/apply", body=body)
        return status, out

    status, out = apply("Write to lan.nguyen@example.vn for the report.")
    assert status == 200 and out["action"] == "GUARDRAIL_INTERVENED"
    assert out["outputs"] == ["Write to {EMAIL} for the report."]
    assert out["fired"] == [{"policy": "Sensitive information", "item": "EMAIL",
                             "action": "ANONYMIZED", "match": "lan.nguyen@example.vn"}]  # fmt: skip
    status, out = apply("Call me on +1 206 555 0100.", source="OUTPUT")
    assert out["action"] == "GUARDRAIL_INTERVENED"
    assert out["outputs"] == ["Sorry, I can't answer that."]
    assert [(f["item"], f["action"]) for f in out["fired"]] == [("PHONE", "BLOCKED")]
    status, out = apply("The weather is nice today.")
    assert status == 200 and out["action"] == "NONE" and out["fired"] == []

    status, out = apply("hi", version="9")
    assert status == 404 and out["code"] == "ResourceNotFoundException"
    status, out = apply("")
    assert status == 400 and out["code"] == "BadRequest"
    status, out = apply("hi", source="SIDEWAYS")
    assert status == 400 and out["code"] == "ValidationException"
    status, out, _ = console.request("POST", "bedrock/guardrails/nosuchguard00/apply",
                                     body=b'{"text": "hi"}')  # fmt: skip
    assert status == 404 and out["code"] == "ResourceNotFoundException"


def test_prompts_listed_with_versions_and_variables(console, aws):
    agent = aws("bedrock-agent")
    # {{length}} is used but not declared: the console lists it all the same.
    text = {
        "name": "short",
        "templateType": "TEXT",
        "modelId": HAIKU,
        "templateConfiguration": {
            "text": {
                "text": "Write a {{length}} advert for {{product}}.",
                "inputVariables": [{"name": "product"}],
            }
        },
    }
    chat = {"name": "chat", "templateType": "CHAT", "modelId": NOVA, "templateConfiguration": {
        "chat": {"system": [{"text": "You write in {{language}}."}],
                 "messages": [{"role": "user", "content": [{"text": "Advertise {{product}}."}]}],
                 "inputVariables": [{"name": "language"}, {"name": "product"}]}}}  # fmt: skip
    made = [agent.create_prompt(name=f"advert-{uuid.uuid4().hex[:6]}", defaultVariant=v["name"],
                                variants=[v]) for v in (text, chat)]  # fmt: skip
    agent.create_prompt_version(promptIdentifier=made[0]["id"])
    try:
        listed = {p["id"]: p for p in console.get("bedrock/prompts")["prompts"]}
        first, second = listed[made[0]["id"]], listed[made[1]["id"]]
        assert first["versions"] == ["DRAFT", "1"] and second["versions"] == ["DRAFT"]
        assert first["arn"] == made[0]["arn"] and first["defaultVariant"] == "short"
        assert first["variants"] == [{"name": "short", "templateType": "TEXT", "modelId": HAIKU,
                                      "variables": ["product", "length"]}]  # fmt: skip
        assert second["variants"] == [{"name": "chat", "templateType": "CHAT", "modelId": NOVA,
                                       "variables": ["language", "product"]}]  # fmt: skip
    finally:
        for prompt in made:
            agent.delete_prompt(promptIdentifier=prompt["id"])
    shown = [p["id"] for p in console.get("bedrock/prompts")["prompts"]]
    assert not {m["id"] for m in made} & set(shown)


def _server_with_config(tmp_path: Path, text: str) -> NimbusServer:
    data = tmp_path / "data"
    data.mkdir()
    (data / "bedrock-models.toml").write_text(text)
    server = NimbusServer(data)
    server.start()
    return server


def test_models_show_configured_backends_without_secrets(tmp_path):
    config = """
[[models]]
match = "meta.*"
kind = "openai"
base_url = "http://user:s3cret@127.0.0.1:9/v1"
model = "llama3.2"
fallback = ["amazon.nova-micro-v1:0"]

[[models]]
match = "amazon.titan-text-*"
kind = "bedrock"
region = "us-west-2"
"""
    server = _server_with_config(tmp_path, config)
    try:
        reply = raw_request(server.endpoint, "GET", "/_nimbus/console/api/bedrock/models")
        assert reply.status == 200 and b"s3cret" not in reply.body
        listed = json.loads(reply.body)
        by_id = {m["modelId"]: m["backend"] for m in listed["models"]}
        assert by_id["meta.llama3-8b-instruct-v1:0"] == {
            "kind": "openai", "label": "OpenAI-compatible server", "configured": True,
            "match": "meta.*", "baseUrl": "http://127.0.0.1:9/v1", "model": "llama3.2",
            "fallback": ["amazon.nova-micro-v1:0"]}  # fmt: skip
        titan = by_id["amazon.titan-text-express-v1"]
        assert titan["kind"] == "bedrock" and titan["region"] == "us-west-2"
        assert by_id[HAIKU]["kind"] == "builtin" and by_id[HAIKU]["configured"] is False
        assert listed["config"]["routes"] == 2 and listed["config"]["error"] is None
        assert listed["config"]["path"].endswith("bedrock-models.toml")
    finally:
        server.stop()


def test_models_report_an_invalid_backend_config(tmp_path):
    server = _server_with_config(tmp_path, '[[models]]\nmatch = "*"\nkind = "ollama"\n')
    try:
        reply = raw_request(server.endpoint, "GET", "/_nimbus/console/api/bedrock/models")
        config = json.loads(reply.body)["config"]
        assert reply.status == 200 and "kind must be one of" in config["error"]
    finally:
        server.stop()
