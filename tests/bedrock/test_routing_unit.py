"""The bedrock-models config, the router's retries/fallback/timeouts with stand-in backends,
and the real-Bedrock backend against botocore's Stubber (AWS itself can't be reached here)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from nimbus.aws.errors import AwsError
from nimbus.services.bedrock.backends import config
from nimbus.services.bedrock.backends.base import BackendError, ChatRequest, ChatResult, StreamItem
from nimbus.services.bedrock.backends.real_bedrock import RealBedrockBackend
from nimbus.services.bedrock.backends.router import ModelRouter

REQUEST = ChatRequest("m.primary", [{"role": "user", "content": [{"text": "hi"}]}], max_tokens=50)


class Scripted:
    """A backend whose calls fail with the given errors, in order, then answer."""

    def __init__(
        self, label: str, failures: list[BaseException] | None = None, delay: float = 0
    ) -> None:
        self.label = label
        self.failures = list(failures or [])
        self.delay = delay
        self.calls = 0

    async def chat(self, request: ChatRequest) -> ChatResult:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            raise self.failures.pop(0)
        return ChatResult(f"{self.label}:{request.model_id}", "end_turn", 1, 1)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        result = await self.chat(request)
        yield result.text
        yield result

    async def embed(self, *args: Any) -> Any:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


def _router(routes: list[config.ModelRoute], backends: dict[str, Scripted]) -> ModelRouter:
    return ModelRouter(routes, make_backend=lambda route: backends[route.match])


def _chat(router: ModelRouter, model_id: str = "m.primary") -> ChatResult:
    return asyncio.run(router.chat(model_id, REQUEST))[0]


def _route(match: str, **kwargs: Any) -> config.ModelRoute:
    # "openai" routes: the router applies timeouts to them (not to the undelayed built-in)
    return config.ModelRoute(
        match=match, kind="openai", base_url="http://x", backoff=0.001, **kwargs
    )


def test_first_matching_route_wins_and_unmatched_ids_go_to_the_builtin() -> None:
    routes = config.parse(
        '[[models]]\nmatch = "anthropic.*"\nkind = "openai"\nbase_url = "http://x/v1"\n'
        '[[models]]\nmatch = "*"\nkind = "bedrock"\n',
        "m.toml",
    )
    router = ModelRouter(routes)
    assert router.route_for("anthropic.claude-3-haiku-20240307-v1:0").kind == "openai"
    assert router.route_for("us.anthropic.claude-3-haiku-20240307-v1:0").kind == "openai"
    assert router.route_for("meta.llama3-8b-instruct-v1:0").kind == "bedrock"
    assert ModelRouter([]).route_for("anything").kind == "builtin"
    assert not ModelRouter([]).route_for("anything").explicit


def test_json_config_is_accepted() -> None:
    routes = config.parse(
        '{"models": [{"match": "a.*", "timeout": 5, "fallback": ["b.c"]}]}', "m.json"
    )
    assert routes[0].timeout == 5.0 and routes[0].fallback == ("b.c",)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[[models]]\nmatch = "*"\nbaseurl = "x"\n', "unknown key(s) baseurl"),
        ('[[models]]\nkind = "ollama"\n', "kind must be one of"),
        ('[[models]]\nkind = "openai"\n', "needs base_url"),
        ('[[models]]\ntimeout = "soon"\n', "timeout must be a float"),
        ('[[models]]\nfallback = "x"\n', "fallback must be a list"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_config_errors_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(config.ConfigError) as info:
        config.parse(text, "bedrock-models.toml")
    assert fragment in str(info.value)


def test_a_bad_token_delay_is_a_config_error_not_a_crash(
    registry: Any, ctx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NIMBUS_BEDROCK_TOKEN_DELAY_MS", "fast")
    runtime = registry.get("bedrock-runtime")  # builds; every model call then says why
    assert "NIMBUS_BEDROCK_TOKEN_DELAY_MS" in (runtime.config_error or "")
    request = {"modelId": "amazon.titan-text-express-v1", "messages": REQUEST.messages}
    with pytest.raises(AwsError) as info:
        asyncio.run(runtime.converse(request, ctx))
    assert (info.value.code, info.value.status) == ("ServiceUnavailableException", 503)
    assert "'fast'" in info.value.message


def test_retries_retryable_failures_then_succeeds() -> None:
    flaky = Scripted("flaky", [BackendError("503", retryable=True, status=503)] * 2)
    result = _chat(_router([_route("m.*", retries=2)], {"m.*": flaky}))
    assert result.text == "flaky:m.primary" and flaky.calls == 3


def test_does_not_retry_a_refusal_and_reports_a_model_error() -> None:
    refusing = Scripted("r", [BackendError("400", retryable=False, status=400)])
    with pytest.raises(AwsError) as info:
        _chat(_router([_route("m.*", retries=3)], {"m.*": refusing}))
    assert (info.value.code, info.value.status, refusing.calls) == ("ModelErrorException", 424, 1)


def test_fallback_chain_in_order() -> None:
    down = BackendError("refused", retryable=True)
    primary, second, third = Scripted("p", [down] * 9), Scripted("s", [down] * 9), Scripted("t")
    routes = [
        _route("m.primary", retries=1, fallback=("m.second", "m.third")),
        _route("m.second", retries=0),
        _route("m.third"),
    ]
    router = _router(routes, {"m.primary": primary, "m.second": second, "m.third": third})
    assert _chat(router).text == "t:m.third"
    assert (primary.calls, second.calls, third.calls) == (2, 1, 1)
    streamed = asyncio.run(_collect(router))
    assert streamed[-1].text == "t:m.third"


async def _collect(router: ModelRouter) -> list[Any]:
    stream = await router.stream("m.primary", REQUEST)
    return [item async for item in stream]


def test_timeout_falls_back_then_is_model_timeout() -> None:
    slow = Scripted("slow", delay=1.0)
    router = _router([_route("m.*", timeout=0.05)], {"m.*": slow})
    with pytest.raises(AwsError) as info:
        _chat(router)
    assert (info.value.code, info.value.status) == ("ModelTimeoutException", 408)
    rescued = _router(
        [_route("m.primary", timeout=0.05, fallback=("m.other",)), _route("m.other")],
        {"m.primary": slow, "m.other": Scripted("other")},
    )
    assert _chat(rescued).text == "other:m.other"


def test_upstream_throttling_maps_to_throttling_exception() -> None:
    busy = Scripted("busy", [BackendError("429", retryable=True, status=429)] * 5)
    with pytest.raises(AwsError) as info:
        _chat(_router([_route("m.*", retries=1)], {"m.*": busy}))
    assert (info.value.code, info.value.status) == ("ThrottlingException", 429)


def _stubbed(route: config.ModelRoute) -> tuple[RealBedrockBackend, Stubber]:
    client = boto3.client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    return RealBedrockBackend(route, client_factory=lambda _: client), Stubber(client)


def test_real_bedrock_backend_speaks_converse() -> None:
    backend, stub = _stubbed(config.ModelRoute(kind="bedrock", model="amazon.nova-pro-v1:0"))
    reply = {
        "output": {"message": {"role": "assistant", "content": [{"text": "from AWS"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 4, "outputTokens": 2, "totalTokens": 6},
        "metrics": {"latencyMs": 120},
    }
    expected = {
        "modelId": "amazon.nova-pro-v1:0",
        "messages": REQUEST.messages,
        "inferenceConfig": {"maxTokens": 50},
    }
    stub.add_response("converse", reply, expected)
    with stub:
        result = asyncio.run(backend.chat(REQUEST))
    assert (result.text, result.input_tokens, result.output_tokens) == ("from AWS", 4, 2)


def test_real_bedrock_errors_retry_or_pass_through() -> None:
    route = config.ModelRoute(kind="bedrock", retries=1, backoff=0.001)
    backend, stub = _stubbed(route)
    stub.add_client_error("converse", "ThrottlingException", "slow down", 429)
    stub.add_client_error("converse", "ValidationException", "bad input", 400)
    router = ModelRouter([], make_backend=lambda _: backend)
    router.default = route
    with stub, pytest.raises(AwsError) as info:
        asyncio.run(router.chat("m.primary", REQUEST))
    assert (info.value.code, info.value.status) == ("ValidationException", 400)
    assert "bad input" in info.value.message
