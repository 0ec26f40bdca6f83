"""Real Amazon Bedrock behind Nimbus: calls go to AWS with the user's own credentials.

boto3 blocks, so each call runs in a worker thread; a stream is read in a thread and handed
to the event loop item by item. The client ignores ``AWS_ENDPOINT_URL`` (which may point at
Nimbus itself) and, given a ``profile``, takes that profile's credentials rather than the
environment's. ``base_url`` overrides the endpoint (a VPC endpoint, or a test server).
AWS's own 4xx errors come back to the client unchanged.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.bedrock.backends.base import (
    BackendError,
    BackendTimeout,
    ChatRequest,
    ChatResult,
    EmbedResult,
    StreamItem,
)
from nimbus.services.bedrock.backends.config import ModelRoute

_END = object()


def make_client(route: ModelRoute) -> Any:
    import boto3
    from botocore.config import Config

    session = boto3.Session(profile_name=route.profile or None, region_name=route.region or None)
    config = Config(
        retries={"max_attempts": 1},  # the router retries
        read_timeout=route.timeout,
        connect_timeout=min(route.timeout, 10.0),
        ignore_configured_endpoint_urls=True,
    )
    return session.client("bedrock-runtime", endpoint_url=route.base_url or None, config=config)


def _converse_args(model: str, request: ChatRequest) -> dict[str, Any]:
    config: dict[str, Any] = {"maxTokens": request.max_tokens}
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.top_p is not None:
        config["topP"] = request.top_p
    if request.stop_sequences:
        config["stopSequences"] = request.stop_sequences
    args: dict[str, Any] = {
        "modelId": model,
        "messages": request.messages,
        "inferenceConfig": config,
    }
    if request.system:
        args["system"] = [{"text": text} for text in request.system]
    return args


def _translate(err: Exception) -> Exception:
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(err, ReadTimeoutError | ConnectTimeoutError):
        return BackendTimeout(str(err))
    if isinstance(err, NoCredentialsError):
        return BackendError(
            f"no AWS credentials for real Bedrock ({err}); set `profile`", retryable=False
        )
    if isinstance(err, EndpointConnectionError):
        return BackendError(str(err), retryable=True)
    if isinstance(err, ClientError):
        code = err.response.get("Error", {}).get("Code", "")
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
        message = err.response.get("Error", {}).get("Message", str(err))
        if status == 429 or status >= 500:
            return BackendError(f"{code}: {message}", retryable=True, status=status)
        return AwsError(code, f"{message} (from Amazon Bedrock)", status)
    return BackendError(f"{type(err).__name__}: {err}", retryable=False)


class RealBedrockBackend:
    def __init__(
        self, route: ModelRoute, client_factory: Callable[[ModelRoute], Any] = make_client
    ) -> None:
        self.route = route
        self.label = f"bedrock {route.region or 'default region'}"
        self._factory = client_factory
        self._client: Any = None
        self._lock = threading.Lock()

    def _get_client(self) -> Any:
        with self._lock:  # created in a worker thread on first use (boto3 setup is slow)
            if self._client is None:
                self._client = self._factory(self.route)
            return self._client

    async def _run(self, call: Callable[[], Any]) -> Any:
        try:
            return await asyncio.to_thread(call)
        except (BackendError, AwsError):
            raise
        except Exception as err:
            raise _translate(err) from None

    async def chat(self, request: ChatRequest) -> ChatResult:
        model = self.route.model or request.model_id
        data = await self._run(
            lambda: self._get_client().converse(**_converse_args(model, request))
        )
        text = "".join(b.get("text", "") for b in data["output"]["message"]["content"])
        usage = data.get("usage") or {}
        return ChatResult(
            text,
            data.get("stopReason", "end_turn"),
            usage.get("inputTokens", 0),
            usage.get("outputTokens", 0),
        )

    def _events(self, model: str, request: ChatRequest) -> Iterator[dict[str, Any]]:
        response = self._get_client().converse_stream(**_converse_args(model, request))
        yield from response["stream"]

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        model = self.route.model or request.model_id
        pieces: list[str] = []
        reason, usage = "end_turn", {}
        async for event in _from_thread(lambda: self._events(model, request)):
            if "contentBlockDelta" in event:
                text = event["contentBlockDelta"]["delta"].get("text")
                if text:
                    pieces.append(text)
                    yield text
            elif "messageStop" in event:
                reason = event["messageStop"].get("stopReason", reason)
            elif "metadata" in event:
                usage = event["metadata"].get("usage") or usage
        yield ChatResult(
            "".join(pieces), reason, usage.get("inputTokens", 0), usage.get("outputTokens", 0)
        )

    async def embed(
        self, model_id: str, text: str, dimensions: int, normalize: bool
    ) -> EmbedResult:
        import json

        model = self.route.model or model_id
        body: dict[str, Any] = {"inputText": text}
        if "v2" in model:
            body.update(dimensions=dimensions, normalize=normalize)

        def call() -> bytes:  # the body is streamed from AWS: read it in the thread too
            response = self._get_client().invoke_model(modelId=model, body=json.dumps(body))
            return response["body"].read()

        data = json.loads(await self._run(call))
        return EmbedResult(
            data["embedding"], data.get("inputTextTokenCount", 0), f"{model} on Amazon Bedrock"
        )

    async def aclose(self) -> None:
        return None


async def _from_thread(
    produce: Callable[[], Iterator[dict[str, Any]]],
) -> AsyncIterator[dict[str, Any]]:
    """Items of a blocking iterator, read in a worker thread, as they arrive."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    stop = threading.Event()

    def pump() -> None:
        try:
            for item in produce():
                if stop.is_set():
                    return
                loop.call_soon_threadsafe(queue.put_nowait, item)
            loop.call_soon_threadsafe(queue.put_nowait, _END)
        except Exception as err:
            loop.call_soon_threadsafe(queue.put_nowait, err)

    worker = loop.run_in_executor(None, pump)
    try:
        while True:
            item = await queue.get()
            if item is _END:
                break
            if isinstance(item, Exception):
                raise item if isinstance(item, BackendError | AwsError) else _translate(item)
            yield item
    finally:
        stop.set()
        if worker.done():
            await worker
