"""From a model id to an answer: the configured backend, retries with backoff, per-model
timeouts, a concurrency quota, and the fallback chain when a backend fails.

Failures become AWS's errors only after every attempt and every fallback model failed:
a timeout is ModelTimeoutException, an upstream 429 ThrottlingException, an upstream 4xx
ModelErrorException, anything else ServiceUnavailableException. A stream falls back only
before its first token; later failures end the stream with an exception event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from nimbus.aws.errors import AwsError
from nimbus.services.bedrock.backends.base import (
    Backend,
    BackendError,
    BackendTimeout,
    ChatRequest,
    ChatResult,
    EmbedResult,
    StreamItem,
)
from nimbus.services.bedrock.backends.config import ModelRoute, default_route
from nimbus.services.bedrock.catalog import base_model_id

log = logging.getLogger("nimbus.bedrock")

T = TypeVar("T")
_MAX_BACKOFF_S = 2.0


def build_backend(route: ModelRoute) -> Backend:
    if route.kind == "openai":
        from nimbus.services.bedrock.backends.openai_compat import OpenAIBackend

        return OpenAIBackend(route)
    if route.kind == "bedrock":
        from nimbus.services.bedrock.backends.real_bedrock import RealBedrockBackend

        return RealBedrockBackend(route)
    from nimbus.services.bedrock.backends.builtin import BuiltinBackend

    return BuiltinBackend(route.token_delay_ms)


def _limit(route: ModelRoute) -> float | None:
    """The route's timeout; None for the undelayed built-in model, which answers without
    ever waiting (a timer per call and per token would be pure overhead)."""
    if route.kind == "builtin" and not route.token_delay_ms:
        return None
    return route.timeout


async def _within(limit: float | None, step: Awaitable[T]) -> T:
    if limit is None:
        return await step
    async with asyncio.timeout(limit):
        return await step


@dataclass(slots=True)
class Served:
    """Which model answered and how long its backend took (what Nimbus itself did not)."""

    model_id: str
    route: ModelRoute
    backend_us: int = 0
    first_token_ns: int = 0  # time.time_ns() of the backend's first token (streams)


def final_error(error: BaseException, model_id: str) -> AwsError:
    if isinstance(error, AwsError):
        return error
    if isinstance(error, BackendTimeout | TimeoutError):
        return AwsError(
            "ModelTimeoutException",
            f"The model {model_id} did not answer within its configured timeout. "
            "Raise `timeout` for it in the bedrock-models config or try again.",
            408,
        )
    if isinstance(error, BackendError) and error.status == 429:
        return AwsError(
            "ThrottlingException", f"The backend for {model_id} is throttling: {error}", 429
        )
    if isinstance(error, BackendError) and error.status and 400 <= error.status < 500:
        return AwsError(
            "ModelErrorException",
            f"The backend for {model_id} refused the request: {error}",
            424,
            extra={"originalStatusCode": error.status},
        )
    return AwsError(
        "ServiceUnavailableException",
        f"The backend for {model_id} is unavailable: {error}",
        503,
        sender_fault=False,
    )


class ModelRouter:
    def __init__(
        self,
        routes: list[ModelRoute],
        make_backend: Callable[[ModelRoute], Backend] = build_backend,
        default: ModelRoute | None = None,
    ) -> None:
        self.routes = routes
        self.default = default or default_route()
        self._make = make_backend
        self._backends: dict[ModelRoute, Backend] = {}
        self._active: dict[ModelRoute, int] = {}

    def route_for(self, model_id: str) -> ModelRoute:
        base = base_model_id(model_id)
        for route in self.routes:
            if route.matches(model_id) or route.matches(base):
                return route
        return self.default

    def backend(self, route: ModelRoute) -> Backend:
        found = self._backends.get(route)
        if found is None:
            found = self._backends[route] = self._make(route)
        return found

    def _chain(self, model_id: str) -> list[tuple[str, ModelRoute]]:
        route = self.route_for(model_id)
        chain = [(model_id, route)]
        for other in route.fallback:
            if all(other != seen for seen, _ in chain):
                chain.append((other, self.route_for(other)))
        return chain

    # -- the concurrency quota ----------------------------------------------------------------
    def _acquire(self, route: ModelRoute, model_id: str) -> None:
        active = self._active.get(route, 0)
        if route.max_concurrency and active >= route.max_concurrency:
            raise AwsError(
                "ThrottlingException",
                f"Too many requests for {model_id}: {active} in flight, the configured "
                f"max_concurrency is {route.max_concurrency}. Wait and try again.",
                429,
            )
        self._active[route] = active + 1

    def _release(self, route: ModelRoute) -> None:
        self._active[route] = self._active.get(route, 1) - 1

    # -- the chain: quota, retries with backoff, then the fallbacks ----------------------------
    async def _first_success(
        self,
        model_id: str,
        attempt: Callable[[Backend, str, ModelRoute], Awaitable[T]],
        keep_slot: bool = False,
    ) -> T:
        """The first answer ``attempt`` gets along the model's chain. The first model's quota
        throttles (it is not a failure); a fallback at its quota is skipped. With ``keep_slot``
        the answer (a stream) keeps its quota slot and releases it itself."""
        last: BaseException | None = None
        for index, (candidate, route) in enumerate(self._chain(model_id)):
            if (
                index
                and route.max_concurrency
                and self._active.get(route, 0) >= route.max_concurrency
            ):
                continue
            self._acquire(route, candidate)
            held = False
            try:
                backend = self.backend(route)
                for tried in range(route.retries + 1):
                    try:
                        result = await attempt(backend, candidate, route)
                    except (BackendError, TimeoutError) as err:
                        last = err
                        if (
                            isinstance(err, BackendError)
                            and err.retryable
                            and tried < route.retries
                        ):
                            await asyncio.sleep(min(route.backoff * 2**tried, _MAX_BACKOFF_S))
                            continue
                        log.warning(
                            "bedrock backend %s for %s failed: %s",
                            route.kind,
                            candidate,
                            err or "timeout",
                        )
                        break
                    held = keep_slot
                    return result
            finally:
                if not held:
                    self._release(route)
        assert last is not None
        raise final_error(last, model_id)

    # -- whole answers --------------------------------------------------------------------------
    async def _call(
        self, model_id: str, call: Callable[[Backend, str], Awaitable[T]]
    ) -> tuple[T, Served]:
        async def attempt(backend: Backend, candidate: str, route: ModelRoute) -> tuple[T, Served]:
            started = time.perf_counter_ns()
            result = await _within(_limit(route), call(backend, candidate))
            elapsed = (time.perf_counter_ns() - started) // 1000
            return result, Served(candidate, route, elapsed)

        return await self._first_success(model_id, attempt)

    async def chat(self, model_id: str, request: ChatRequest) -> tuple[ChatResult, Served]:
        return await self._call(
            model_id, lambda backend, mid: backend.chat(replace(request, model_id=mid))
        )

    async def embed(
        self, model_id: str, text: str, dimensions: int, normalize: bool
    ) -> tuple[EmbedResult, Served]:
        return await self._call(
            model_id, lambda backend, mid: backend.embed(mid, text, dimensions, normalize)
        )

    # -- streams ---------------------------------------------------------------------------------
    async def stream(self, model_id: str, request: ChatRequest) -> ModelStream:
        """A started stream: its first item is already there, so a failing backend could
        still fall back and fail as a plain error response."""

        async def attempt(backend: Backend, candidate: str, route: ModelRoute) -> ModelStream:
            started = time.perf_counter_ns()
            items = backend.stream(replace(request, model_id=candidate)).__aiter__()
            try:
                first = await _within(_limit(route), anext(items))
            except StopAsyncIteration:
                await _close(items)
                raise BackendError("the stream ended before any output", retryable=False) from None
            except BaseException:
                await _close(items)
                raise
            served = Served(candidate, route, first_token_ns=time.time_ns())
            return ModelStream(self, served, items, first, started)

        return await self._first_success(model_id, attempt, keep_slot=True)


async def _close(items: AsyncIterator[StreamItem]) -> None:
    closer = getattr(items, "aclose", None)
    if closer is not None:
        await closer()


class ModelStream:
    """The rest of a started stream: per-item timeouts, the quota slot freed at the end."""

    def __init__(
        self,
        router: ModelRouter,
        served: Served,
        items: AsyncIterator[StreamItem],
        first: StreamItem,
        started_ns: int,
    ) -> None:
        self.router = router
        self.served = served
        self._items = items
        self._first: StreamItem | None = first
        self._started = started_ns
        self._released = False

    def __aiter__(self) -> AsyncIterator[StreamItem]:
        return self._run()

    async def _run(self) -> AsyncIterator[StreamItem]:
        timeout = _limit(self.served.route)
        try:
            first, self._first = self._first, None
            if first is not None:
                yield first
                if isinstance(first, ChatResult):
                    return
            while True:
                try:
                    item = await _within(timeout, anext(self._items))
                except StopAsyncIteration:
                    raise AwsError(
                        "ModelStreamErrorException",
                        "The model's stream ended without a final result.",
                        424,
                    ) from None
                except TimeoutError:
                    raise AwsError(
                        "ModelTimeoutException",
                        f"The model {self.served.model_id} sent nothing for {timeout} s.",
                        408,
                    ) from None
                except BackendError as err:
                    raise AwsError(
                        "ModelStreamErrorException",
                        f"The model's stream failed: {err}",
                        424,
                        extra={"originalStatusCode": err.status or 500},
                    ) from None
                if isinstance(item, ChatResult):
                    self.served.backend_us = (time.perf_counter_ns() - self._started) // 1000
                    yield item
                    return
                yield item
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        if not self._released:
            self._released = True
            self.router._release(self.served.route)
            await _close(self._items)
