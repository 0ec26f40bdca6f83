"""The real thing on a live Nimbus: the stack deployed with ``nimbus deploy`` (guardrail, prompt
versions, HTTP and WebSocket APIs, functions, tables), requests through API Gateway -> Lambda ->
Bedrock (the built-in offline model) -> DynamoDB / CloudWatch, and a real WebSocket client.

The deployment (``on_nimbus`` in conftest.py) is shared with test_genai_on_nimbus_browser.py.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from genai_support import templates

SMALL_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
EMAIL, PHONE, CARD = "lan.nguyen@example.com", "0912 345 678", "4111 1111 1111 1111"


def http(url: str, body: object, language: str = "en") -> tuple[int, dict]:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("content-type", "application/json")
    request.add_header("accept-language", language)
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


@pytest.fixture(scope="module")
def api(on_nimbus) -> str:
    url = on_nimbus.outputs["ApiUrl"].rstrip("/")
    assert url.startswith(on_nimbus.server.endpoint), url
    return url


@pytest.fixture(scope="module")
def ws_url(on_nimbus) -> str:
    url = on_nimbus.outputs["WebSocketUrl"]
    assert url.startswith("ws://127.0.0.1"), url  # the wss:// output resolves to Nimbus
    return url


def generate(api: str, prompt: str, **fields) -> dict:
    status, body = http(f"{api}/generate", {"prompt": prompt, **fields})
    assert status == 200, body
    return body


def unique(text: str) -> str:
    return f"{text} (#{uuid.uuid4().hex[:8]})"


# ---- a WebSocket client ----------------------------------------------------------------------


@pytest.fixture
def socket(ws_url) -> Iterator:
    from websockets.sync.client import connect

    with connect(ws_url, open_timeout=10, max_size=2**20) as ws:
        yield ws


def exchange(ws, message: dict, timeout: float = 60.0) -> list[dict]:
    """Send one request; every message for its requestId up to answer/done/error."""
    request_id = message.setdefault("requestId", f"t{uuid.uuid4().hex[:12]}")
    ws.send(json.dumps(message))
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        reply = json.loads(raw)
        if reply.get("requestId") != request_id:
            continue
        got.append(reply)
        if reply["type"] in ("answer", "done", "error"):
            return got
    raise AssertionError(f"no final message for {request_id}: {got}")


# ---- pattern 1: REST ------------------------------------------------------------------------


def test_rest_generate_answers_with_usage_latency_and_cost(api) -> None:
    body = generate(api, unique("Xin chào! Mẫu đồng bộ là gì?"), language="vi")
    assert body["text"].strip()
    assert body["model"] == SMALL_MODEL and body["route"].startswith("short prompt")
    assert body["template"] == "chat@1"
    assert body["usage"]["inputTokens"] > 0 and body["usage"]["outputTokens"] > 0
    assert body["costUsd"] > 0 and body["latencyMs"] > 0 and body["modelLatencyMs"] >= 0
    assert body["stopReason"] == "end_turn" and body["cached"] is False
    assert body["guardrail"] == {"input": "NONE", "output": "NONE", "findings": [],
                                 "blocked": False}  # fmt: skip


def test_the_same_request_again_comes_from_the_cache(on_nimbus, api) -> None:
    prompt = unique("Explain exact-match caching in one paragraph")
    first = generate(api, prompt)
    second = generate(api, prompt)
    assert not first["cached"] and second["cached"]
    assert second["text"] == first["text"] and second["model"] == first["model"]
    assert second["usage"]["totalTokens"] == 0 and second["costUsd"] == 0
    assert not generate(api, prompt, cache=False)["cached"]
    items = on_nimbus.client("dynamodb").scan(TableName=on_nimbus.outputs["CacheTableName"])
    ttl = [int(i["expires_at"]["N"]) - int(i["created_at"]["N"]) for i in items["Items"]]
    assert ttl and set(ttl) == {3600}
    described = on_nimbus.client("dynamodb").describe_time_to_live(
        TableName=on_nimbus.outputs["CacheTableName"]
    )["TimeToLiveDescription"]
    assert described["TimeToLiveStatus"] == "ENABLED" and described["AttributeName"] == "expires_at"


def test_a_long_prompt_or_the_advert_template_goes_to_the_large_model(api) -> None:
    long = generate(api, unique("Please consider this. " * 120))
    assert long["model"].startswith("anthropic.claude-3-5-sonnet")
    assert long["route"].startswith("long prompt")
    advert = generate(api, unique("A small electric SUV for families"), template="advert")
    assert advert["template"] == "advert@1" and advert["route"] == "template"
    assert advert["model"].startswith("anthropic.claude-3-5-sonnet")


def test_the_guardrail_masks_personal_data_before_the_model_sees_it(api) -> None:
    body = generate(api, unique(f"Repeat after me: write to {EMAIL} or call {PHONE}"))
    assert body["guardrail"]["input"] == "ANONYMIZED"
    assert {"EMAIL", "PHONE"} <= set(body["guardrail"]["findings"])
    assert EMAIL not in body["text"] and "0912" not in body["text"]
    assert not body["guardrail"]["blocked"]


@pytest.mark.parametrize(
    ("prompt", "finding"),
    [
        (f"My card number is {CARD}, is it valid?", "CREDIT_DEBIT_CARD_NUMBER"),
        ("Which stocks should I buy this year?", "topic:Investment advice"),
    ],
)
def test_the_guardrail_blocks_and_the_model_is_not_called(api, prompt, finding) -> None:
    body = generate(api, unique(prompt))
    assert body["guardrail"]["blocked"] and body["guardrail"]["input"] == "BLOCKED"
    assert finding in body["guardrail"]["findings"]
    assert "Sorry, I can't help with that request" in body["text"]
    assert body["stopReason"] == "guardrail_intervened"
    assert body["usage"]["totalTokens"] == 0 and body["model"] == ""


def test_bad_requests_are_refused_in_the_callers_language(api) -> None:
    status, body = http(f"{api}/generate", "not json", language="vi")
    assert status == 400 and body["error"] == "bad_json" and "JSON không hợp lệ" in body["message"]
    status, body = http(f"{api}/generate", {"prompt": "x" * 8001})
    assert status == 413 and body["error"] == "too_long"
    status, body = http(f"{api}/generate", {"prompt": "hi", "template": "poem"})
    assert status == 400 and body["error"] == "unknown_template" and "chat" in body["message"]


# ---- patterns 2 and 3: WebSocket ----------------------------------------------------------------


def test_ask_is_acknowledged_then_answered(socket) -> None:
    got = exchange(socket, {"action": "ask", "prompt": unique("Hello over WebSocket")})
    assert [m["type"] for m in got] == ["ack", "answer"], got
    answer = got[-1]
    assert answer["text"].strip() and answer["usage"]["outputTokens"] > 0
    assert answer["model"] == SMALL_MODEL and answer["costUsd"] > 0


def test_stream_posts_many_deltas_in_order_then_done(socket) -> None:
    prompt = unique("Write a 120 word text about serverless streaming responses")
    got = exchange(socket, {"action": "stream", "prompt": prompt})
    assert got[0]["type"] == "ack" and got[-1]["type"] == "done", got[-1]
    deltas = [m for m in got if m["type"] == "delta"]
    assert len(deltas) >= 5, len(deltas)
    assert [d["seq"] for d in deltas] == list(range(len(deltas)))
    done = got[-1]
    assert done["chunks"] == len(deltas) and not done["replaced"]
    assert "".join(d["text"] for d in deltas) == done["text"]
    assert done["usage"]["outputTokens"] > 0


def test_a_blocked_stream_gets_the_guardrail_message(socket) -> None:
    got = exchange(socket, {"action": "stream", "prompt": unique(f"card {CARD}")})
    assert [m["type"] for m in got] == ["ack", "delta", "done"]
    assert got[-1]["guardrail"]["blocked"]


def test_unknown_actions_and_bad_requests_get_an_error(socket) -> None:
    [error] = exchange(socket, {"action": "sing", "prompt": "la la"})
    assert error["type"] == "error" and error["error"] == "unknown_action"
    [error] = exchange(socket, {"action": "ask", "prompt": ""})
    assert error["error"] == "empty_prompt"


def test_open_connections_are_recorded_and_forgotten(on_nimbus, ws_url) -> None:
    from websockets.sync.client import connect

    table = on_nimbus.outputs["ConnectionsTableName"]
    dynamodb = on_nimbus.client("dynamodb")

    def open_ids() -> set[str]:
        return {i["connectionId"]["S"] for i in dynamodb.scan(TableName=table)["Items"]}

    def wait(condition, what: str) -> None:
        deadline = time.monotonic() + 10
        while not condition():
            assert time.monotonic() < deadline, what
            time.sleep(0.1)

    before = open_ids()
    with connect(ws_url, open_timeout=10):
        wait(lambda: open_ids() - before, "the $connect route did not record the connection")
        ours = open_ids() - before
        item = dynamodb.get_item(TableName=table, Key={"connectionId": {"S": min(ours)}})["Item"]
        assert int(item["expires_at"]["N"]) - int(item["connected_at"]["N"]) == 7200
    wait(lambda: not ours & open_ids(), "the $disconnect route did not forget the connection")


# ---- the prompt layer's records ---------------------------------------------------------------


def audit_rows(on_nimbus) -> list[dict]:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    dynamodb = on_nimbus.client("dynamodb")
    table = on_nimbus.outputs["AuditTableName"]
    rows, key = [], None
    while True:
        page = dynamodb.query(
            TableName=table, KeyConditionExpression="pk = :d",
            ExpressionAttributeValues={":d": {"S": day}},
            **({"ExclusiveStartKey": key} if key else {}),
        )  # fmt: skip
        rows += page["Items"]
        key = page.get("LastEvaluatedKey")
        if not key:
            return rows


def test_every_request_has_an_audit_row_without_personal_data(on_nimbus, api, socket) -> None:
    rest = generate(api, unique(f"Contact {EMAIL} about card {CARD}"))
    asked = exchange(socket, {"action": "ask", "prompt": unique(f"Call me on {PHONE}")})[-1]
    rows = {r["request_id"]["S"]: r for r in audit_rows(on_nimbus)}
    assert rest["requestId"] in rows and asked["requestId"] in rows
    everything = json.dumps(list(rows.values()))
    for secret in (EMAIL, CARD, "4111", "0912 345 678", "lan.nguyen"):
        assert secret not in everything
    blocked = rows[rest["requestId"]]
    assert blocked["outcome"]["S"] == "blocked" and blocked["pattern"]["S"] == "rest"
    assert len(blocked["prompt_sha256"]["S"]) == 64 and "prompt_masked" not in blocked
    answered = rows[asked["requestId"]]
    assert answered["pattern"]["S"] == "websocket" and answered["outcome"]["S"] == "ok"
    assert int(answered["input_tokens"]["N"]) == asked["usage"]["inputTokens"]
    assert float(answered["cost_usd"]["N"]) == pytest.approx(asked["costUsd"])
    assert answered["template"]["S"] == "chat@1"
    assert answered["guardrail"]["S"] == (
        f"{on_nimbus.outputs['GuardrailId']}@{on_nimbus.outputs['GuardrailVersion']}"
    )
    assert "{PHONE}" in answered["prompt_masked"]["S"]


def test_usage_is_published_as_cloudwatch_metrics(on_nimbus, api) -> None:
    generate(api, unique("Metrics please"))
    cloudwatch = on_nimbus.client("cloudwatch")
    deadline = time.monotonic() + 20
    while True:
        metrics = cloudwatch.list_metrics(Namespace="GenAIPatterns", MetricName="InputTokens")
        dimensions = [{d["Name"]: d["Value"] for d in m["Dimensions"]}
                      for m in metrics["Metrics"]]  # fmt: skip
        if {"Pattern": "rest"} in dimensions and {"ModelId": SMALL_MODEL} in dimensions:
            break
        assert time.monotonic() < deadline, dimensions
        time.sleep(0.2)
    names = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace="GenAIPatterns")["Metrics"]}
    assert {"Requests", "OutputTokens", "Latency", "EstimatedCost", "CacheHits"} <= names


def test_the_prompt_templates_are_versioned_in_bedrock(on_nimbus) -> None:
    agent = on_nimbus.client("bedrock-agent")
    arns = on_nimbus.outputs["PromptVersionArns"].split(",")
    assert len(arns) == 3
    for arn in arns:
        base, version = templates.split_version_arn(arn)
        prompt = agent.get_prompt(promptIdentifier=base, promptVersion=version)
        assert prompt["version"] == version == "1"
        chat = prompt["variants"][0]["templateConfiguration"]["chat"]
        assert "{{language}}" in chat["system"][0]["text"]
        assert chat["messages"][0]["content"][0]["text"] == "{{input}}"
    guardrail = on_nimbus.client("bedrock").get_guardrail(
        guardrailIdentifier=on_nimbus.outputs["GuardrailId"],
        guardrailVersion=on_nimbus.outputs["GuardrailVersion"],
    )
    assert guardrail["status"] == "READY"


def test_the_generate_role_cannot_read_the_audit_log(on_nimbus) -> None:
    functions = on_nimbus.client("lambda").list_functions()["Functions"]
    name = next(f["FunctionName"] for f in functions if "GenerateFunction" in f["FunctionName"])
    role = on_nimbus.client("lambda").get_function_configuration(FunctionName=name)["Role"]
    creds = on_nimbus.client("sts").assume_role(RoleArn=role, RoleSessionName="e2e")["Credentials"]
    as_generate = boto3.client(
        "dynamodb",
        endpoint_url=on_nimbus.server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as denied:
        as_generate.scan(TableName=on_nimbus.outputs["AuditTableName"])
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def test_seed_003_direct_handler_describes_an_image(on_nimbus) -> None:
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), (200, 30, 30)).save(buffer, "JPEG")
    lam = on_nimbus.client("lambda")
    reply = lam.invoke(
        FunctionName=on_nimbus.outputs["DirectFunctionName"],
        Payload=json.dumps({"image": base64.b64encode(buffer.getvalue()).decode()}),
    )
    assert "FunctionError" not in reply, reply["Payload"].read()
    answer = json.loads(reply["Payload"].read())
    assert answer["statusCode"] == 200
    assert isinstance(answer["body"], str) and len(answer["body"].split()) > 20
    # Without an image the seed's code fails as it would on AWS: an unhandled KeyError.
    missing = lam.invoke(FunctionName=on_nimbus.outputs["DirectFunctionName"], Payload=b"{}")
    assert missing["FunctionError"] == "Unhandled"
    assert json.loads(missing["Payload"].read())["errorType"] == "KeyError"
