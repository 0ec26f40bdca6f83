"""The built-in backend: no weights, deterministic, streams token by token.

``token_delay_ms`` (config, or ``NIMBUS_BEDROCK_TOKEN_DELAY_MS``) makes it take that long per
output token, to look like a model in demos and to give timeouts and benchmarks something to
measure. Temperature and topP are ignored: the same conversation gets the same answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any

from nimbus.services.bedrock import tokens
from nimbus.services.bedrock.backends import embeddings
from nimbus.services.bedrock.backends.base import (
    ChatRequest,
    ChatResult,
    EmbedResult,
    StreamItem,
    user_text,
)
from nimbus.services.bedrock.backends.builtin_answer import compose


def _describe_image(block: dict[str, Any]) -> str:
    data = block.get("source", {}).get("bytes") or b""
    size = tokens.image_size(data)
    shown = f"{block.get('format', 'image')}, {len(data) / 1024:.1f} KB"
    return f"{shown}, {size[0]}x{size[1]}" if size else shown


_CACHED_PROMPT_CHARS = 4096  # long prompts are rarely repeated; don't hold them in memory


@lru_cache(maxsize=1024)
def _answer(prompt: str, system: tuple[str, ...], images: tuple[str, ...], turns: int) -> str:
    """The composed answer, remembered: it is a pure function of the conversation."""
    return compose(prompt, system, images, turns)


def _cut_at_stop(text: str, stops: list[str]) -> tuple[str, str | None]:
    hits = [(text.find(s), s) for s in stops if s and s in text]
    if not hits:
        return text, None
    index, stop = min(hits)
    return text[:index], stop


class BuiltinBackend:
    label = "builtin"

    def __init__(self, token_delay_ms: float = 0.0) -> None:
        self.delay = max(0.0, token_delay_ms) / 1000.0

    def generate(self, request: ChatRequest) -> tuple[list[str], ChatResult]:
        """The answer's tokens and the result they add up to."""
        last_user = next((m for m in reversed(request.messages) if m.get("role") == "user"), {})
        images = [
            _describe_image(b["image"]) for b in last_user.get("content") or () if "image" in b
        ]
        turns = sum(1 for m in request.messages if m.get("role") == "user")
        prompt = user_text(request.messages)
        answer = _answer if len(prompt) < _CACHED_PROMPT_CHARS else compose
        text = answer(prompt, tuple(request.system), tuple(images), turns)
        text, stop = _cut_at_stop(text, request.stop_sequences)
        pieces = tokens.split(text)
        reason = "stop_sequence" if stop is not None else "end_turn"
        if len(pieces) > request.max_tokens:
            pieces = pieces[: request.max_tokens]
            reason, stop = "max_tokens", None
        result = ChatResult(
            text="".join(pieces),
            stop_reason=reason,
            input_tokens=tokens.count_messages(request.messages, request.system),
            output_tokens=len(pieces),
            stop_sequence=stop,
        )
        return pieces, result

    async def chat(self, request: ChatRequest) -> ChatResult:
        pieces, result = self.generate(request)
        if self.delay:
            await asyncio.sleep(self.delay * len(pieces))
        return result

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        pieces, result = self.generate(request)
        for piece in pieces:
            if self.delay:
                await asyncio.sleep(self.delay)
            yield piece
        yield result

    async def embed(
        self, model_id: str, text: str, dimensions: int, normalize: bool
    ) -> EmbedResult:
        return await embeddings.embed(text, dimensions, normalize)

    async def aclose(self) -> None:
        return None
