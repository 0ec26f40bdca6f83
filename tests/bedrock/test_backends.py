"""Backends chosen per model id: an OpenAI-compatible server (a real local HTTP server speaking
the API, with SSE streaming), real Bedrock (pass-through to a second Nimbus standing in for
AWS), retries, fallback, timeouts and the concurrency quota, all through boto3."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EventStreamError
from support import NimbusServer, free_port

from .conftest import error_code, jpeg, user_message
from .fake_openai import FakeOpenAI

OPENAI_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
FALLS_BACK = "anthropic.claude-3-5-sonnet-20240620-v1:0"
DEAD = "anthropic.claude-3-5-sonnet-20241022-v2:0"
SLOW = "anthropic.claude-3-opus-20240229-v1:0"
STALLS = "anthropic.claude-3-7-sonnet-20250219-v1:0"
REFUSED = "anthropic.claude-sonnet-4-20250514-v1:0"
QUOTA = "anthropic.claude-3-5-haiku-20241022-v1:0"
PASS_THROUGH = "meta.llama3-8b-instruct-v1:0"


def _config(fake: str, dead: str, upstream: str) -> str:
    return f"""
[[models]]
match = "anthropic.claude-3-haiku-*"
kind = "openai"
base_url = "{fake}"
model = "fake-llm"
retries = 2
backoff = 0.01

[[models]]
match = "ollama.*"
kind = "openai"
base_url = "{fake}"

[[models]]
match = "{FALLS_BACK}"
kind = "openai"
base_url = "{dead}"
retries = 1
backoff = 0.01
fallback = ["amazon.titan-text-express-v1"]

[[models]]
match = "{DEAD}"
kind = "openai"
base_url = "{dead}"
retries = 0

[[models]]
match = "{SLOW}"
token_delay_ms = 50
timeout = 0.3

[[models]]
match = "{STALLS}"
kind = "openai"
base_url = "{fake}"
model = "stalls"
timeout = 0.5
retries = 0

[[models]]
match = "{REFUSED}"
kind = "openai"
base_url = "{fake}"
model = "refuses"

[[models]]
match = "{QUOTA}"
token_delay_ms = 30
max_concurrency = 1

[[models]]
match = "amazon.titan-embed-text-v2:0"
kind = "openai"
base_url = "{fake.replace("http://", "http://user:s3cret@")}"
embedding_model = "fake-embed"

[[models]]
match = "amazon.titan-embed-text-v1"
kind = "bedrock"
base_url = "{upstream}"
profile = "nimbus-test"
region = "us-east-1"

[[models]]
match = "meta.*"
kind = "bedrock"
base_url = "{upstream}"
profile = "nimbus-test"
region = "us-east-1"
"""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NimbusServer]:
    """A second Nimbus standing in for Amazon Bedrock."""
    server = NimbusServer(tmp_path_factory.mktemp("upstream") / "data")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def routed(
    tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAI, upstream: NimbusServer
) -> Iterator[NimbusServer]:
    folder = tmp_path_factory.mktemp("routed")
    config = folder / "bedrock-models.toml"
    config.write_text(_config(fake.url, f"http://127.0.0.1:{free_port()}/v1", upstream.endpoint))
    credentials = folder / "credentials"
    credentials.write_text(
        "[nimbus-test]\naws_access_key_id = test\naws_secret_access_key = test\n"
    )
    env = {
        "NIMBUS_BEDROCK_MODELS": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_CONFIG_FILE": str(Path(folder / "no-config")),
    }
    server = NimbusServer(folder / "data", env=env)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def brt(routed: NimbusServer) -> Any:
    return routed.client("bedrock-runtime")


def _text(response: dict[str, Any]) -> str:
    return response["output"]["message"]["content"][0]["text"]


def test_openai_backend_answers_converse(brt: Any, fake: FakeOpenAI) -> None:
    response = brt.converse(
        modelId=OPENAI_MODEL,
        messages=user_message("hello there"),
        system=[{"text": "Be kind."}],
        inferenceConfig={"temperature": 0.2},
    )
    assert _text(response) == "Echo from fake-llm: hello there"
    assert response["usage"] == {"inputTokens": 11, "outputTokens": 5, "totalTokens": 16}
    sent = fake.calls("fake-llm")[-1]
    assert sent["messages"][0] == {"role": "system", "content": "Be kind."}
    assert sent["temperature"] == 0.2 and sent["stream"] is False


def test_openai_backend_streams_server_sent_events(brt: Any, fake: FakeOpenAI) -> None:
    events = list(
        brt.converse_stream(modelId=OPENAI_MODEL, messages=user_message("one two three"))["stream"]
    )
    deltas = [e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e]
    assert "".join(deltas) == "Echo from fake-llm: one two three" and len(deltas) == 6
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 6
    assert fake.calls("fake-llm")[-1]["stream_options"] == {"include_usage": True}


def test_openai_backend_limits_and_images(brt: Any, fake: FakeOpenAI) -> None:
    picture = {"image": {"format": "jpeg", "source": {"bytes": jpeg()}}}
    response = brt.converse(
        modelId=OPENAI_MODEL,
        inferenceConfig={"maxTokens": 2},
        messages=[{"role": "user", "content": [{"text": "look"}, picture]}],
    )
    assert response["stopReason"] == "max_tokens"
    parts = fake.calls("fake-llm")[-1]["messages"][-1]["content"]
    assert parts[1]["image_url"]["url"].startswith("data:image/jpeg;base64,")


def test_invoke_model_body_through_the_openai_backend(brt: Any) -> None:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "from invoke"}],
    }
    answer = json.loads(
        brt.invoke_model(modelId=OPENAI_MODEL, body=json.dumps(body))["body"].read()
    )
    assert answer["content"][0]["text"] == "Echo from fake-llm: from invoke"
    assert answer["usage"]["input_tokens"] == 11


def test_a_configured_model_id_outside_the_catalog(brt: Any) -> None:
    assert (
        _text(brt.converse(modelId="ollama.llama3", messages=user_message("hi")))
        == "Echo from ollama.llama3: hi"
    )


def test_openai_embeddings(brt: Any, fake: FakeOpenAI) -> None:
    response = brt.invoke_model(
        modelId="amazon.titan-embed-text-v2:0", body=json.dumps({"inputText": "vec"})
    )
    answer = json.loads(response["body"].read())
    assert len(answer["embedding"]) == 8
    assert abs(sum(v * v for v in answer["embedding"]) - 1.0) < 1e-6
    assert fake.calls("fake-embed")[-1]["input"] == "vec"
    served_by = response["ResponseMetadata"]["HTTPHeaders"]["x-nimbus-embedding-model"]
    assert "fake-embed via http://127.0.0.1:" in served_by and "s3cret" not in served_by


def test_retries_a_failing_backend(brt: Any, fake: FakeOpenAI) -> None:
    before = len(fake.calls("fake-llm"))
    fake.fail_next = 2
    assert _text(brt.converse(modelId=OPENAI_MODEL, messages=user_message("again"))).endswith(
        "again"
    )
    assert len(fake.calls("fake-llm")) - before == 3


def test_falls_back_when_the_backend_is_down(brt: Any) -> None:
    response = brt.converse(modelId=FALLS_BACK, messages=user_message("Hello"))
    assert "offline model" in _text(response)  # answered by the built-in fallback model
    events = list(brt.converse_stream(modelId=FALLS_BACK, messages=user_message("Hello"))["stream"])
    assert "metadata" in events[-1]


def test_unavailable_when_every_backend_fails(brt: Any) -> None:
    with pytest.raises(ClientError) as info:
        brt.converse(modelId=DEAD, messages=user_message("hi"))
    assert error_code(info) == ("ServiceUnavailableException", 503)


def test_backend_refusal_is_a_model_error(brt: Any) -> None:
    with pytest.raises(ClientError) as info:
        brt.converse(modelId=REFUSED, messages=user_message("hi"))
    assert error_code(info) == ("ModelErrorException", 424)
    assert info.value.response["originalStatusCode"] == 400


def test_per_model_timeout(brt: Any) -> None:
    with pytest.raises(ClientError) as info:
        brt.converse(modelId=SLOW, messages=user_message("Tell me a long story about clouds."))
    assert error_code(info) == ("ModelTimeoutException", 408)
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 300,
        "messages": [{"role": "user", "content": "Tell me about clouds"}],
    }
    with pytest.raises(ClientError) as info:
        brt.invoke_model(modelId=SLOW, body=json.dumps(body))
    assert error_code(info) == ("ModelTimeoutException", 408)


def test_stream_that_stalls_ends_with_an_exception_event(brt: Any) -> None:
    stream = brt.converse_stream(modelId=STALLS, messages=user_message("hi"))["stream"]
    seen = []
    with pytest.raises(EventStreamError) as info:
        for event in stream:
            seen.append(event)
    assert info.value.response["Error"]["Code"] == "modelStreamErrorException"
    assert any("contentBlockDelta" in e for e in seen)


def test_concurrency_quota_throttles(brt: Any) -> None:
    stream = iter(brt.converse_stream(modelId=QUOTA, messages=user_message("Hello"))["stream"])
    next(stream)  # the stream holds the model's only slot until it ends
    with pytest.raises(ClientError) as info:
        brt.converse(modelId=QUOTA, messages=user_message("Hello"))
    assert error_code(info) == ("ThrottlingException", 429)
    list(stream)
    assert _text(brt.converse(modelId=QUOTA, messages=user_message("Hello")))


def test_a_dropped_stream_stops_the_model_and_frees_its_slot(brt: Any) -> None:
    # About 500 tokens at 30 ms each: the model would hold the only slot for ~15 s.
    ask = user_message("Write a 500 word car advert.")
    response = brt.converse_stream(modelId=QUOTA, messages=ask)
    stream = iter(response["stream"])
    next(stream)
    response["stream"].close()  # the client goes away mid-answer
    deadline = time.monotonic() + 3.0
    while True:
        try:
            answer = brt.converse(modelId=QUOTA, messages=user_message("Hello"))
            break
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ThrottlingException"
            assert time.monotonic() < deadline, "the dropped stream still holds the slot"
            time.sleep(0.1)
    assert _text(answer)


def test_real_bedrock_pass_through(brt: Any, upstream: NimbusServer) -> None:
    direct = upstream.client("bedrock-runtime").converse(
        modelId=PASS_THROUGH, messages=user_message("What is 3+4?")
    )
    relayed = brt.converse(modelId=PASS_THROUGH, messages=user_message("What is 3+4?"))
    assert _text(relayed) == _text(direct) and "7" in _text(relayed)
    assert relayed["usage"] == direct["usage"]
    events = list(
        brt.converse_stream(modelId=PASS_THROUGH, messages=user_message("What is 3+4?"))["stream"]
    )
    text = "".join(
        e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e
    )
    assert text == _text(direct)
    body = {"prompt": "What is 3+4?", "max_gen_len": 100}
    generation = json.loads(
        brt.invoke_model(modelId=PASS_THROUGH, body=json.dumps(body))["body"].read()
    )
    assert "7" in generation["generation"]


def test_real_bedrock_errors_come_back_unchanged(brt: Any) -> None:
    # Nimbus routes any meta.* id to "AWS", which does not know this one.
    with pytest.raises(ClientError) as info:
        brt.converse(modelId="meta.llama9-unknown-v1:0", messages=user_message("hi"))
    assert error_code(info) == ("ResourceNotFoundException", 404)
    assert "from Amazon Bedrock" in info.value.response["Error"]["Message"]


def test_real_bedrock_embeddings_pass_through(brt: Any, upstream: NimbusServer) -> None:
    body = json.dumps({"inputText": "a vector from the other side"})
    direct = upstream.client("bedrock-runtime").invoke_model(
        modelId="amazon.titan-embed-text-v1", body=body
    )
    relayed = brt.invoke_model(modelId="amazon.titan-embed-text-v1", body=body)
    assert json.loads(relayed["body"].read()) == json.loads(direct["body"].read())
