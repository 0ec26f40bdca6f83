"""What every model backend takes and gives: Converse-shaped chats, text, usage, embeddings.

Every InvokeModel body family is translated to a :class:`ChatRequest` (Converse messages),
so a backend implements chat once. ``stream`` yields text deltas (``str``) and ends with one
:class:`ChatResult` carrying the stop reason and usage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)
class ChatRequest:
    model_id: str  # the Bedrock model id the client asked for (catalog id)
    messages: list[dict[str, Any]]  # Converse messages: {"role", "content": [blocks]}
    system: list[str] = field(default_factory=list)
    max_tokens: int = 512
    temperature: float | None = None
    top_p: float | None = None
    stop_sequences: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ChatResult:
    text: str
    stop_reason: str  # end_turn | max_tokens | stop_sequence
    input_tokens: int
    output_tokens: int
    stop_sequence: str | None = None


@dataclass(slots=True)
class EmbedResult:
    vector: list[float]
    input_tokens: int
    model: str = ""  # what made the vector (the built-in backend says which embedder)


StreamItem = str | ChatResult


class BackendError(Exception):
    """A backend failed. ``retryable``: worth another attempt (connection, 429, 5xx)."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class BackendTimeout(BackendError):
    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False, status=408)


class Backend(Protocol):
    #: what the backend is, for logs and errors ("builtin", "openai http://...")
    label: str

    async def chat(self, request: ChatRequest) -> ChatResult: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamItem]: ...

    async def embed(
        self, model_id: str, text: str, dimensions: int, normalize: bool
    ) -> EmbedResult: ...

    async def aclose(self) -> None: ...


def user_text(messages: list[dict[str, Any]]) -> str:
    """The text of the last user message (what most simple prompts are about)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return "\n".join(b["text"] for b in message.get("content") or () if "text" in b)
    return ""
