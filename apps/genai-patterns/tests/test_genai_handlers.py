"""The Lambda handlers with their collaborators passed in (no patching): POST /generate, the
WebSocket $connect/$disconnect, the ask/stream dispatcher and the asynchronous worker."""

from __future__ import annotations

import base64
import json

import pytest
from genai_support import (
    FakeClientError,
    FakeLambda,
    FakeRuntime,
    MemoryDynamo,
    make_layer,
    management_api,
    prompt_layer,
    rest_generate,
    ws_connections,
    ws_dispatch,
    ws_worker,
)

DOMAIN, STAGE, CONNECTION = "abc123.execute-api.us-east-1.amazonaws.com", "prod", "Cz1=conn"


def http_event(body: object, lang: str | None = None, b64: bool = False) -> dict:
    raw = body if isinstance(body, str) else json.dumps(body)
    headers = {"content-type": "application/json"}
    if lang:
        headers["Accept-Language"] = lang
    if b64:
        raw = base64.b64encode(raw.encode()).decode()
    return {
        "version": "2.0",
        "routeKey": "POST /generate",
        "headers": headers,
        "body": raw,
        "isBase64Encoded": b64,
        "requestContext": {"http": {"method": "POST", "sourceIp": "198.51.100.4"}},
    }


def ws_event(route: str, body: object = None, event_type: str = "MESSAGE") -> dict:
    event = {
        "requestContext": {
            "routeKey": route,
            "eventType": event_type,
            "connectionId": CONNECTION,
            "domainName": DOMAIN,
            "stage": STAGE,
            "apiId": "abc123",
            "identity": {"sourceIp": "198.51.100.4"},
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


def reply_body(reply: dict) -> dict:
    return json.loads(reply["body"])


def posted(clients: dict) -> list[dict]:
    [client] = clients.values()
    assert client.url == f"https://{DOMAIN}/{STAGE}"  # as AWS's samples build it
    assert {c for c, _ in client.posts} <= {CONNECTION}
    return [json.loads(data) for _, data in client.posts]


# ---- POST /generate -----------------------------------------------------------------------------


def test_generate_answers_with_the_outcome() -> None:
    layer, runtime, dynamo, _ = make_layer()
    reply = rest_generate.handle(layer, http_event({"prompt": "Xin chào", "language": "vi"}))
    assert reply["statusCode"] == 200
    assert reply["headers"]["content-type"].startswith("application/json")
    body = reply_body(reply)
    assert body["text"] == runtime.answer and body["cached"] is False
    assert body["usage"]["inputTokens"] > 0 and body["costUsd"] > 0
    assert body["template"] == "chat@1"
    assert dynamo.items("Audit")[0]["pattern"] == {"S": "rest"}


def test_generate_reads_a_base64_body() -> None:
    layer, _, _, _ = make_layer()
    reply = rest_generate.handle(layer, http_event({"prompt": "Hello"}, b64=True))
    assert reply["statusCode"] == 200


@pytest.mark.parametrize(
    ("body", "lang", "status", "key", "words"),
    [
        ("not json", "en", 400, "bad_json", "Invalid JSON"),
        ({"prompt": ""}, "vi", 400, "empty_prompt", "trống"),
        ({"prompt": "x" * 9000}, "en-US,en;q=0.9", 413, "too_long", "8000"),
        ({"prompt": "hi", "template": "nope"}, "vi", 400, "unknown_template", "Không có mẫu"),
    ],
)
def test_generate_refuses_bad_input_in_the_callers_language(body, lang, status, key, words):
    layer, runtime, _, _ = make_layer()
    reply = rest_generate.handle(layer, http_event(body, lang))
    assert reply["statusCode"] == status
    assert reply_body(reply)["error"] == key and words in reply_body(reply)["message"]
    assert not any(c[0] == "converse" for c in runtime.calls)


def test_generate_without_a_model_is_a_503_and_a_bug_is_a_500() -> None:
    failing = ["ServiceUnavailableException"] * 3
    runtime = FakeRuntime(errors={m: list(failing) for m in (
        "anthropic.claude-3-haiku-20240307-v1:0", "meta.llama3-8b-instruct-v1:0")})  # fmt: skip
    layer, _, _, _ = make_layer(runtime)
    reply = rest_generate.handle(layer, http_event({"prompt": "hi"}, "en"))
    assert reply["statusCode"] == 503 and reply_body(reply)["error"] == "unavailable"

    class Broken:
        def generate(self, *args, **kwargs):
            raise RuntimeError("bug")

    reply = rest_generate.handle(Broken(), http_event({"prompt": "hi"}, "en"))
    assert reply["statusCode"] == 500 and reply_body(reply)["error"] == "internal"


# ---- $connect / $disconnect ----------------------------------------------------------------------


def test_connect_records_the_connection_and_disconnect_forgets_it() -> None:
    dynamo = MemoryDynamo()
    connections = ws_connections.Connections(dynamo, "Connections", clock=lambda: 1000.0)
    assert connections.handle(ws_event("$connect", event_type="CONNECT")) == {"statusCode": 200}
    [item] = dynamo.items("Connections")
    assert item["connectionId"] == {"S": CONNECTION}
    assert item["expires_at"] == {"N": str(1000 + 7200)}
    assert "198.51.100.4" not in json.dumps(item)
    connections.handle(ws_event("$disconnect", event_type="DISCONNECT"))
    assert dynamo.items("Connections") == []


# ---- ask / stream / $default: acknowledge and hand off -------------------------------------------


def make_dispatcher(lambda_client: FakeLambda | None = None):
    api, clients = management_api()
    lambda_client = lambda_client or FakeLambda()
    dispatcher = ws_dispatch.Dispatcher(lambda_client, "worker-fn", api, new_id=lambda: "srv1")
    return dispatcher, lambda_client, clients


@pytest.mark.parametrize("action", ["ask", "stream"])
def test_a_request_is_acknowledged_then_handed_to_the_worker_asynchronously(action) -> None:
    dispatcher, lambda_client, clients = make_dispatcher()
    body = {"action": action, "prompt": "Hello", "requestId": "c-1", "language": "en"}
    assert dispatcher.handle(ws_event(action, body)) == {"statusCode": 200}
    assert posted(clients) == [{"requestId": "c-1", "type": "ack", "action": action}]
    [invoke] = lambda_client.invocations
    assert invoke["FunctionName"] == "worker-fn" and invoke["InvocationType"] == "Event"
    job = json.loads(invoke["Payload"])
    assert job == {
        "action": action, "requestId": "c-1", "connectionId": CONNECTION, "domainName": DOMAIN,
        "stage": STAGE, "language": "en", "body": body,
    }  # fmt: skip


def test_an_unsafe_client_request_id_is_replaced() -> None:
    dispatcher, _, clients = make_dispatcher()
    dispatcher.handle(ws_event("ask", {"action": "ask", "prompt": "x", "requestId": "<b>"}))
    assert posted(clients)[0]["requestId"] == "srv1"


@pytest.mark.parametrize(
    ("route", "body", "key"),
    [
        ("$default", "not json", "unknown_action"),
        ("$default", {"action": "sing", "prompt": "x"}, "unknown_action"),
        ("ask", {"action": "ask", "prompt": ""}, "empty_prompt"),
        ("stream", {"action": "stream", "prompt": "x", "model": "huge"}, "bad_parameter"),
    ],
)
def test_bad_messages_get_an_error_and_start_nothing(route, body, key) -> None:
    dispatcher, lambda_client, clients = make_dispatcher()
    assert dispatcher.handle(ws_event(route, body)) == {"statusCode": 200}
    [message] = posted(clients)
    assert message["type"] == "error" and message["error"] == key and message["message"]
    assert lambda_client.invocations == []


def test_a_failed_hand_off_is_reported_to_the_client() -> None:
    failing = FakeLambda(error=FakeClientError("TooManyRequestsException"))
    dispatcher, _, clients = make_dispatcher(failing)
    dispatcher.handle(ws_event("ask", {"action": "ask", "prompt": "x", "language": "vi"}))
    types = [m["type"] for m in posted(clients)]
    assert types == ["ack", "error"]
    assert posted(clients)[1]["error"] == "unavailable"


# ---- the worker ----------------------------------------------------------------------------------


def job(action: str, prompt: str = "Tell me more", **extra) -> dict:
    return {
        "action": action, "requestId": "c-9", "connectionId": CONNECTION, "domainName": DOMAIN,
        "stage": STAGE, "language": "en", "body": {"action": action, "prompt": prompt, **extra},
    }  # fmt: skip


def test_ask_posts_one_answer() -> None:
    layer, runtime, dynamo, _ = make_layer()
    api, clients = management_api()
    assert ws_worker.Worker(layer, api).handle(job("ask")) == {"status": "done"}
    [answer] = posted(clients)
    assert answer["type"] == "answer" and answer["requestId"] == "c-9"
    assert answer["text"] == runtime.answer and answer["usage"]["outputTokens"] > 0
    [row] = dynamo.items("Audit")
    assert row["pattern"] == {"S": "websocket"} and row["sk"]["S"].endswith("#c-9")


def test_stream_posts_each_delta_in_order_then_done() -> None:
    layer, runtime, _, _ = make_layer()
    api, clients = management_api()
    ws_worker.Worker(layer, api).handle(job("stream"))
    messages = posted(clients)
    deltas = [m for m in messages if m["type"] == "delta"]
    assert [m["seq"] for m in deltas] == list(range(len(deltas))) and len(deltas) > 1
    assert "".join(m["text"] for m in deltas) == runtime.answer
    done = messages[-1]
    assert done["type"] == "done" and done["chunks"] == len(deltas)
    assert done["text"] == runtime.answer and not done["replaced"]
    assert [m["type"] for m in messages] == ["delta"] * len(deltas) + ["done"]


def test_deltas_arriving_within_the_window_are_merged() -> None:
    ticks = iter([0.0, 0.0, 0.001, 0.002, 0.050, 0.050, 0.051, 0.2, 0.2])
    sent: list[dict] = []
    coalescer = ws_worker.Coalescer(sent.append, window_ms=20, perf=lambda: next(ticks))
    for piece in ["a", "b", "c", "d", "e"]:
        coalescer.add(piece)
    coalescer.flush()
    assert [m["text"] for m in sent] == ["a", "bcd", "e"]
    assert [m["seq"] for m in sent] == [0, 1, 2]


def test_a_closed_connection_stops_the_stream() -> None:
    layer, runtime, dynamo, _ = make_layer()
    api, clients = management_api(gone={CONNECTION}, gone_after=2)
    assert ws_worker.Worker(layer, api).handle(job("stream")) == {"status": "gone"}
    [client] = clients.values()
    assert len(client.posts) == 2
    assert runtime.streams[0].closed
    assert dynamo.items("Audit")[0]["outcome"] == {"S": "client_gone"}


def test_a_blocked_stream_sends_the_guardrail_message_and_done() -> None:
    layer, runtime, _, _ = make_layer()
    api, clients = management_api()
    ws_worker.Worker(layer, api).handle(job("stream", "my card 4111 1111 1111 1111"))
    messages = posted(clients)
    assert [m["type"] for m in messages] == ["delta", "done"]
    assert messages[0]["text"] == "Blocked input." and messages[1]["guardrail"]["blocked"]
    assert not any(c[0] == "converse_stream" for c in runtime.calls)


def test_worker_errors_are_posted_in_the_callers_language() -> None:
    layer, _, _, _ = make_layer()
    api, clients = management_api()
    bad = job("ask", template="nope")
    bad["language"] = "vi"
    assert ws_worker.Worker(layer, api).handle(bad) == {"status": "unknown_template"}
    [message] = posted(clients)
    assert message["type"] == "error" and "Không có mẫu" in message["message"]


def test_the_layer_is_built_from_the_templates_environment(monkeypatch) -> None:
    env = {
        "SMALL_MODEL_ID": "amazon.nova-micro-v1:0", "LARGE_MODEL_ID": "amazon.nova-pro-v1:0",
        "FALLBACK_MODEL_ID": "", "ROUTE_THRESHOLD_TOKENS": "50", "CACHE_TABLE": "C",
        "AUDIT_TABLE": "A", "GUARDRAIL_ID": "abc", "GUARDRAIL_VERSION": "2",
        "PROMPT_VERSION_ARNS": "arn:aws:bedrock:us-east-1:123456789012:prompt/ABCDEFGHIJ:4",
    }  # fmt: skip
    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):  # fmt: skip
        monkeypatch.setenv(name, value)
    layer = prompt_layer.from_environment(env)
    assert layer.models.fallback == "amazon.nova-micro-v1:0"  # none given: the small model
    assert layer.models.threshold_tokens == 50
    assert layer.guard.label == "abc@2" and layer.cache.table == "C"
    assert layer.catalog.version_arns == [env["PROMPT_VERSION_ARNS"]]
    assert layer.runtime.meta.config.retries["total_max_attempts"] == 1
