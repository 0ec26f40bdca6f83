"""InvokeModel and InvokeModelWithResponseStream with each family's request/response bodies."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import HAIKU, LLAMA, NOVA, SONNET, TITAN_EMBED, TITAN_TEXT, error_code, jpeg_b64


def _invoke(brt: Any, model_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    response = brt.invoke_model(
        modelId=model_id,
        body=json.dumps(body),
        contentType="application/json",
        accept="application/json",
    )
    assert response["contentType"] == "application/json"
    return json.loads(response["body"].read()), response["ResponseMetadata"]["HTTPHeaders"]


def _stream(brt: Any, model_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = brt.invoke_model_with_response_stream(modelId=model_id, body=json.dumps(body))
    return [json.loads(event["chunk"]["bytes"]) for event in response["body"]]


def _claude(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 300,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def test_anthropic_messages_with_text_and_base64_image(brt: Any) -> None:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 1000,
        "system": "You write adverts.",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Create a 100 word car advert"},
                    {
                        "type": "image",
                        "source": {
                            "type": "base64",
                            "media_type": "image/jpeg",
                            "data": jpeg_b64(),
                        },
                    },
                ],
            }
        ],
    }
    answer, headers = _invoke(brt, SONNET, body)
    assert answer["type"] == "message" and answer["role"] == "assistant"
    assert answer["id"].startswith("msg_bdrk_")
    assert answer["model"] == "claude-3-sonnet-20240229"
    assert answer["stop_reason"] in ("end_turn", "max_tokens")
    text = answer["content"][0]["text"]
    assert answer["content"][0]["type"] == "text" and "jpeg" in text
    usage = answer["usage"]
    assert headers["x-amzn-bedrock-input-token-count"] == str(usage["input_tokens"])
    assert headers["x-amzn-bedrock-output-token-count"] == str(usage["output_tokens"])


def test_anthropic_stream_chunks(brt: Any) -> None:
    chunks = _stream(brt, HAIKU, _claude("What is 9 * 9?"))
    kinds = [c["type"] for c in chunks]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    text = "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta")
    assert "81" in text
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["outputTokenCount"] == chunks[-2]["usage"]["output_tokens"]
    whole, _ = _invoke(brt, HAIKU, _claude("What is 9 * 9?"))
    assert whole["content"][0]["text"] == text


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"max_tokens": 10, "messages": []}, "required key [anthropic_version]"),
        ({"anthropic_version": "bedrock-2023-05-31", "messages": []}, "required key [max_tokens]"),
        ({**_claude("hi"), "foo": 1}, "extraneous key [foo]"),
        ({**_claude("hi"), "max_tokens": 0}, "max_tokens"),
        ({**_claude("hi"), "max_tokens": 999999}, "maximum allowed number of output tokens"),
        ({**_claude("hi"), "anthropic_version": "2023-06-01"}, "anthropic_version"),
        ({**_claude("hi"), "messages": [{"role": "robot", "content": "x"}]}, "role"),
    ],
)
def test_anthropic_body_errors(brt: Any, body: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ClientError) as info:
        _invoke(brt, HAIKU, body)
    assert error_code(info) == ("ValidationException", 400)
    assert fragment in info.value.response["Error"]["Message"]


def test_body_that_is_not_json(brt: Any) -> None:
    with pytest.raises(ClientError) as info:
        brt.invoke_model(modelId=HAIKU, body=b"{not json")
    assert error_code(info) == ("ValidationException", 400)


def test_body_nested_too_deeply(brt: Any) -> None:
    deep = b'{"x":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    for call in (brt.invoke_model, brt.invoke_model_with_response_stream):
        with pytest.raises(ClientError) as info:
            call(modelId=HAIKU, body=deep)
        assert error_code(info) == ("ValidationException", 400)
    with pytest.raises(ClientError) as info:
        brt.count_tokens(modelId=HAIKU, input={"invokeModel": {"body": deep}})
    assert error_code(info) == ("ValidationException", 400)


def test_titan_text_whole_and_streamed(brt: Any) -> None:
    body = {
        "inputText": "User: What is 5 + 5?\nBot:",
        "textGenerationConfig": {"maxTokenCount": 80},
    }
    answer, _ = _invoke(brt, TITAN_TEXT, body)
    result = answer["results"][0]
    assert "10" in result["outputText"]
    assert result["completionReason"] in ("FINISH", "LENGTH")
    assert answer["inputTextTokenCount"] > 0
    chunks = _stream(brt, TITAN_TEXT, body)
    assert "".join(c["outputText"] for c in chunks) == result["outputText"]
    assert chunks[-1]["completionReason"] == result["completionReason"]
    assert "amazon-bedrock-invocationMetrics" in chunks[-1]


def test_titan_text_limits(brt: Any) -> None:
    with pytest.raises(ClientError) as info:
        _invoke(
            brt, TITAN_TEXT, {"inputText": "hi", "textGenerationConfig": {"maxTokenCount": 99999}}
        )
    assert error_code(info) == ("ValidationException", 400)
    answer, _ = _invoke(
        brt, TITAN_TEXT, {"inputText": "hi", "textGenerationConfig": {"maxTokenCount": 4}}
    )
    assert answer["results"][0]["completionReason"] == "LENGTH"
    assert answer["results"][0]["tokenCount"] == 4


def test_titan_embeddings_dimensions_and_normalisation(brt: Any) -> None:
    for dimensions in (1024, 512, 256):
        answer, _ = _invoke(brt, TITAN_EMBED, {"inputText": "serverless", "dimensions": dimensions})
        assert len(answer["embedding"]) == dimensions
        assert math.isclose(math.fsum(v * v for v in answer["embedding"]), 1.0, rel_tol=1e-3)
    v1, _ = _invoke(brt, "amazon.titan-embed-text-v1", {"inputText": "serverless"})
    assert len(v1["embedding"]) == 1536 and v1["inputTextTokenCount"] == 1


def test_titan_embeddings_are_deterministic_and_semantic(brt: Any) -> None:
    def vector(text: str) -> list[float]:
        return _invoke(brt, TITAN_EMBED, {"inputText": text})[0]["embedding"]

    cat, kitten, tax = (
        vector("a cat sleeps on the sofa"),
        vector("a kitten naps on the couch"),
        vector("quarterly corporate tax filing deadlines"),
    )
    assert vector("a cat sleeps on the sofa") == cat

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(cat, kitten) > cosine(cat, tax)


def test_titan_embeddings_errors(brt: Any) -> None:
    for body in ({"inputText": "x", "dimensions": 100}, {"inputText": ""}, {"text": "x"}):
        with pytest.raises(ClientError) as info:
            _invoke(brt, TITAN_EMBED, body)
        assert error_code(info) == ("ValidationException", 400)
    with pytest.raises(ClientError) as info:
        brt.invoke_model_with_response_stream(
            modelId=TITAN_EMBED, body=json.dumps({"inputText": "x"})
        )
    assert error_code(info) == ("ValidationException", 400)


LLAMA3_PROMPT = (
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe terse.<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\nWhat is 20 - 6?<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n"
)


def test_llama_prompt_and_generation(brt: Any) -> None:
    answer, _ = _invoke(
        brt, LLAMA, {"prompt": LLAMA3_PROMPT, "max_gen_len": 200, "temperature": 0.5}
    )
    assert "14" in answer["generation"] and "Be terse." in answer["generation"]
    assert answer["stop_reason"] == "stop"
    assert answer["prompt_token_count"] > 0 and answer["generation_token_count"] > 0
    chunks = _stream(brt, LLAMA, {"prompt": LLAMA3_PROMPT, "max_gen_len": 200})
    assert "".join(c["generation"] for c in chunks) == answer["generation"]
    assert chunks[0]["prompt_token_count"] == answer["prompt_token_count"]
    assert chunks[-1]["stop_reason"] == "stop"
    short, _ = _invoke(brt, LLAMA, {"prompt": "Hello", "max_gen_len": 3})
    assert (short["stop_reason"], short["generation_token_count"]) == ("length", 3)
    with pytest.raises(ClientError) as info:
        _invoke(brt, LLAMA, {"prompt": "Hello", "max_gen_len": 5000})
    assert error_code(info) == ("ValidationException", 400)


def test_nova_messages(brt: Any) -> None:
    body = {
        "schemaVersion": "messages-v1",
        "messages": [{"role": "user", "content": [{"text": "Hello"}]}],
        "inferenceConfig": {"maxTokens": 40},
    }
    answer, _ = _invoke(brt, NOVA, body)
    assert answer["output"]["message"]["content"][0]["text"]
    assert (
        answer["usage"]["totalTokens"]
        == answer["usage"]["inputTokens"] + answer["usage"]["outputTokens"]
    )
    chunks = _stream(brt, NOVA, body)
    assert next(iter(chunks[0])) == "messageStart" and "metadata" in chunks[-1]


def test_unknown_model(brt: Any) -> None:
    with pytest.raises(ClientError) as info:
        _invoke(brt, "anthropic.claude-unknown-v9:0", _claude("hi"))
    assert error_code(info) == ("ResourceNotFoundException", 404)


def test_count_tokens_for_an_invoke_body(brt: Any) -> None:
    body = json.dumps(_claude("How many tokens is this?")).encode()
    counted = brt.count_tokens(modelId=HAIKU, input={"invokeModel": {"body": body}})
    answer, _ = _invoke(brt, HAIKU, json.loads(body))
    assert counted["inputTokens"] == answer["usage"]["input_tokens"]
