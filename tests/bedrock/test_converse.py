"""Converse and ConverseStream through boto3, parsed by boto3 itself."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import HAIKU, SONNET, TITAN_EMBED, error_code, jpeg, user_message


def _text(response: dict[str, Any]) -> str:
    return response["output"]["message"]["content"][0]["text"]


def test_converse_answers_with_usage_and_latency(brt: Any) -> None:
    response = brt.converse(modelId=HAIKU, messages=user_message("What is 12 * 12?"))
    assert "144" in _text(response)
    assert response["output"]["message"]["role"] == "assistant"
    assert response["stopReason"] == "end_turn"
    usage = response["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"] > 0
    assert response["metrics"]["latencyMs"] >= 0


def test_converse_is_deterministic(brt: Any) -> None:
    ask = {"modelId": HAIKU, "messages": user_message("Summarise why queues decouple services.")}
    first = brt.converse(**ask, inferenceConfig={"temperature": 0.0})
    again = brt.converse(**ask, inferenceConfig={"temperature": 1.0})
    assert _text(first) == _text(again)
    assert "offline model" in _text(first)


def test_converse_respects_max_tokens_and_stop_sequences(brt: Any) -> None:
    cut = brt.converse(
        modelId=HAIKU, messages=user_message("Tell me about S3."), inferenceConfig={"maxTokens": 5}
    )
    assert cut["stopReason"] == "max_tokens"
    assert cut["usage"]["outputTokens"] == 5
    stopped = brt.converse(
        modelId=HAIKU,
        messages=user_message("Repeat after me: alpha beta gamma"),
        inferenceConfig={"stopSequences": ["gamma"]},
    )
    assert stopped["stopReason"] == "stop_sequence"
    assert "gamma" not in _text(stopped)


def test_converse_system_prompt_multi_turn_and_image(brt: Any) -> None:
    messages = [
        *user_message("Hello"),
        {"role": "assistant", "content": [{"text": "Hi! How can I help?"}]},
        {
            "role": "user",
            "content": [
                {"text": "Describe this picture."},
                {"image": {"format": "jpeg", "source": {"bytes": jpeg()}}},
            ],
        },
    ]
    response = brt.converse(modelId=SONNET, messages=messages, system=[{"text": "Be brief."}])
    text = _text(response)
    assert "image" in text and "Be brief." in text
    only_text = brt.converse(modelId=SONNET, messages=messages[:1])
    assert response["usage"]["inputTokens"] > only_text["usage"]["inputTokens"]


def test_inference_profile_ids_and_model_arns_work(brt: Any) -> None:
    for model_id in (f"us.{HAIKU}", f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"):
        assert _text(brt.converse(modelId=model_id, messages=user_message("Hi")))


def test_converse_stream_events_in_aws_order(brt: Any) -> None:
    response = brt.converse_stream(modelId=HAIKU, messages=user_message("What is 7 + 8?"))
    events = list(response["stream"])
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart" and kinds[-3:] == [
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert set(kinds[1:-3]) == {"contentBlockDelta"}
    text = "".join(
        e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e
    )
    assert "15" in text
    metadata = events[-1]["metadata"]
    assert metadata["usage"]["outputTokens"] == len(kinds) - 4
    assert metadata["metrics"]["latencyMs"] >= 0
    same = brt.converse(modelId=HAIKU, messages=user_message("What is 7 + 8?"))
    assert _text(same) == text


def test_converse_stream_stop_reason_max_tokens(brt: Any) -> None:
    response = brt.converse_stream(
        modelId=HAIKU, messages=user_message("Hello"), inferenceConfig={"maxTokens": 3}
    )
    events = list(response["stream"])
    assert {"messageStop": {"stopReason": "max_tokens"}} in events


@pytest.mark.parametrize(
    ("kwargs", "code", "status"),
    [
        ({"modelId": "anthropic.claude-does-not-exist-v1:0"}, "ResourceNotFoundException", 404),
        ({"modelId": "not a model"}, "ValidationException", 400),
        ({"modelId": HAIKU, "inferenceConfig": {"maxTokens": 100000}}, "ValidationException", 400),
        ({"modelId": HAIKU, "inferenceConfig": {"temperature": 3.0}}, "ValidationException", 400),
        ({"modelId": TITAN_EMBED}, "ValidationException", 400),
        ({"modelId": HAIKU, "promptVariables": {"x": {"text": "y"}}}, "ValidationException", 400),
    ],
)
def test_converse_errors(brt: Any, kwargs: dict[str, Any], code: str, status: int) -> None:
    with pytest.raises(ClientError) as info:
        brt.converse(messages=user_message("hi"), **kwargs)
    assert error_code(info) == (code, status)


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [{"role": "assistant", "content": [{"text": "I start"}]}],
        [*user_message("a"), *user_message("b")],
    ],
)
def test_converse_conversation_shape_errors(brt: Any, messages: list[dict[str, Any]]) -> None:
    with pytest.raises(ClientError) as info:
        brt.converse(modelId=HAIKU, messages=messages)
    assert error_code(info) == ("ValidationException", 400)


def test_converse_stream_errors_before_the_stream_are_plain_errors(brt: Any) -> None:
    with pytest.raises(ClientError) as info:
        brt.converse_stream(modelId="anthropic.nope-v1:0", messages=user_message("hi"))
    assert error_code(info) == ("ResourceNotFoundException", 404)


def test_images_need_a_model_that_reads_them(brt: Any) -> None:
    image = {"image": {"format": "jpeg", "source": {"bytes": jpeg()}}}
    with pytest.raises(ClientError) as info:
        brt.converse(
            modelId="anthropic.claude-3-5-haiku-20241022-v1:0",
            messages=[{"role": "user", "content": [{"text": "see"}, image]}],
        )
    assert error_code(info) == ("ValidationException", 400)


def test_count_tokens_matches_what_converse_reports(brt: Any) -> None:
    messages = user_message("Count the tokens in this sentence, please.")
    counted = brt.count_tokens(modelId=HAIKU, input={"converse": {"messages": messages}})
    used = brt.converse(modelId=HAIKU, messages=messages)["usage"]["inputTokens"]
    assert counted["inputTokens"] == used
