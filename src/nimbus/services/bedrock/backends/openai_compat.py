"""Any server speaking the OpenAI API (Ollama, vLLM, llama.cpp server, LM Studio, OpenAI):
``/chat/completions`` (streamed as server-sent events) and ``/embeddings``, over httpx.

Converse messages map onto chat messages; images travel as ``data:`` URLs. Token counts come
from the server's ``usage`` when it reports them, else from Nimbus's own count.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx

from nimbus.services.bedrock import tokens
from nimbus.services.bedrock.backends.base import (
    BackendError,
    BackendTimeout,
    ChatRequest,
    ChatResult,
    EmbedResult,
    StreamItem,
)
from nimbus.services.bedrock.backends.config import ModelRoute, shown_url

_MIME = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}


def _content(blocks: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    if all("text" in b for b in blocks):
        return "\n".join(b["text"] for b in blocks)
    parts: list[dict[str, Any]] = []
    for block in blocks:
        if "text" in block:
            parts.append({"type": "text", "text": block["text"]})
        elif "image" in block:
            image = block["image"]
            data = base64.b64encode(image["source"]["bytes"]).decode()
            url = f"data:{_MIME.get(image['format'], 'image/png')};base64,{data}"
            parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts


def chat_messages(request: ChatRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": "\n".join(request.system)})
    messages += [{"role": m["role"], "content": _content(m["content"])} for m in request.messages]
    return messages


def _stop_reason(finish: str | None, matched: Any, request: ChatRequest) -> tuple[str, str | None]:
    if finish == "length":
        return "max_tokens", None
    if isinstance(matched, str) and matched in request.stop_sequences:
        return "stop_sequence", matched  # vLLM names the stop string that ended the answer
    return "end_turn", None


class OpenAIBackend:
    def __init__(self, route: ModelRoute) -> None:
        self.route = route
        self.base = route.base_url.rstrip("/")
        self.label = f"openai {shown_url(self.base)}"  # the URL may carry user:key@
        headers = {"content-type": "application/json"}
        key = os.environ.get(route.api_key_env) if route.api_key_env else None
        if key:
            headers["authorization"] = f"Bearer {key}"
        timeout = httpx.Timeout(route.timeout, connect=min(route.timeout, 10.0))
        self.client = httpx.AsyncClient(headers=headers, timeout=timeout, trust_env=False)

    def _model(self, request: ChatRequest) -> str:
        return self.route.model or request.model_id

    def _payload(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self._model(request),
            "messages": chat_messages(request),
            "max_tokens": request.max_tokens,
            "stream": stream,
        }
        if request.temperature is not None:
            payload["temperature"] = request.temperature
        if request.top_p is not None:
            payload["top_p"] = request.top_p
        if request.stop_sequences:
            payload["stop"] = request.stop_sequences[:4]
        if stream:
            payload["stream_options"] = {"include_usage": True}
        return payload

    @staticmethod
    def _failure(err: Exception) -> BackendError:
        if isinstance(err, httpx.TimeoutException):
            return BackendTimeout(f"no answer in time ({type(err).__name__})")
        return BackendError(f"{type(err).__name__}: {err}", retryable=True)

    @staticmethod
    def _refused(status: int, text: str) -> BackendError:
        retryable = status == 429 or status >= 500
        return BackendError(f"HTTP {status}: {text[:300]}", retryable=retryable, status=status)

    async def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self.client.post(self.base + path, json=payload)
        except httpx.HTTPError as err:
            raise self._failure(err) from None
        if response.status_code >= 400:
            raise self._refused(response.status_code, response.text)
        try:
            return response.json()
        except ValueError:
            raise BackendError("the server's answer is not JSON", retryable=False) from None

    async def chat(self, request: ChatRequest) -> ChatResult:
        data = await self._post("/chat/completions", self._payload(request, stream=False))
        try:
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise BackendError(
                "the server's answer has no choices[0].message", retryable=False
            ) from None
        usage = data.get("usage") or {}
        reason, stop = _stop_reason(choice.get("finish_reason"), choice.get("stop_reason"), request)
        return ChatResult(
            text=text,
            stop_reason=reason,
            input_tokens=usage.get("prompt_tokens")
            or tokens.count_messages(request.messages, request.system),
            output_tokens=usage.get("completion_tokens") or tokens.count(text),
            stop_sequence=stop,
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        url = self.base + "/chat/completions"
        pieces: list[str] = []
        usage: dict[str, Any] = {}
        finish: str | None = None
        matched: Any = None
        try:
            async with self.client.stream(
                "POST", url, json=self._payload(request, stream=True)
            ) as response:
                if response.status_code >= 400:
                    raise self._refused(
                        response.status_code, (await response.aread()).decode("utf-8", "replace")
                    )
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    try:
                        chunk = json.loads(data)
                    except ValueError:
                        raise BackendError(
                            "a streamed chunk is not JSON", retryable=False
                        ) from None
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices") or ():
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            pieces.append(text)
                            yield text
                        finish = choice.get("finish_reason") or finish
                        matched = choice.get("stop_reason") or matched
        except httpx.HTTPError as err:
            raise self._failure(err) from None
        text = "".join(pieces)
        reason, stop = _stop_reason(finish, matched, request)
        yield ChatResult(
            text=text,
            stop_reason=reason,
            input_tokens=usage.get("prompt_tokens")
            or tokens.count_messages(request.messages, request.system),
            output_tokens=usage.get("completion_tokens") or len(pieces),
            stop_sequence=stop,
        )

    async def embed(
        self, model_id: str, text: str, dimensions: int, normalize: bool
    ) -> EmbedResult:
        model = self.route.embedding_model or self.route.model or model_id
        data = await self._post("/embeddings", {"model": model, "input": text})
        try:
            vector = [float(v) for v in data["data"][0]["embedding"]]
        except (KeyError, IndexError, TypeError, ValueError):
            raise BackendError(
                "the server's answer has no data[0].embedding", retryable=False
            ) from None
        if normalize:
            norm = sum(v * v for v in vector) ** 0.5 or 1.0
            vector = [v / norm for v in vector]
        used = (data.get("usage") or {}).get("prompt_tokens") or tokens.count(text)
        return EmbedResult(vector, used, f"{model} via {shown_url(self.base)}")

    async def aclose(self) -> None:
        await self.client.aclose()
