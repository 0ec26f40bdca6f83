"""HTTP API test helpers: the provider over a temp data dir, a Lambda stand-in, requests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from support import Call

from nimbus.aws.context import RequestContext
from nimbus.aws.http import HttpRequest, HttpResponse
from nimbus.services.apigatewayv2.dataplane import DataPlane
from nimbus.services.registry import ServiceRegistry

FN_ARN = "arn:aws:lambda:us-east-1:000000000000:function:echo"


@dataclass(slots=True)
class Result:
    """Same fields as the Lambda provider's InvokeResult."""

    status_code: int
    payload: bytes
    function_error: str | None = None
    log_tail: str | None = None


@dataclass
class FakeLambda:
    """A real in-process stand-in for the Lambda provider: records events, answers with
    ``answer(event)`` (default: a 2.0 response echoing the event), may sleep or fail."""

    answer: Callable[[dict[str, Any]], Any] | None = None
    delay: float = 0.0
    error: str | None = None
    calls: list[tuple[str, str | None, dict[str, Any]]] = field(default_factory=list)
    answers: dict[str, Callable[[dict[str, Any]], Any]] = field(default_factory=dict)

    async def invoke_function(
        self,
        name_or_arn: str,
        payload: bytes,
        *,
        invocation_type: str = "RequestResponse",
        qualifier: str | None = None,
    ) -> Result:
        event = json.loads(payload)
        self.calls.append((name_or_arn, qualifier, event))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error:
            return Result(200, b'{"errorMessage":"boom"}', self.error)
        answer = self.answers.get(name_or_arn.rsplit(":", 1)[-1], self.answer)
        if answer is None:
            value: Any = {"statusCode": 200, "body": json.dumps(event)}
        else:
            value = answer(event)
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        return Result(200, raw)

    @property
    def event(self) -> dict[str, Any]:
        return self.calls[-1][2]


class _NoBody:
    consumed = True


def request(
    method: str,
    path: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    host: str = "127.0.0.1:4566",
) -> HttpRequest:
    all_headers = {"host": host, "user-agent": "test-agent", **(headers or {})}
    return HttpRequest(
        method=method,
        path=path,
        query_string=query,
        headers=all_headers,
        body=_NoBody(),  # type: ignore[arg-type]
        host=host,
        client_ip="192.0.2.1",
        _body=body,
    )


def send(plane: DataPlane, req: HttpRequest) -> HttpResponse:
    return asyncio.run(plane.handle(req))


def body_json(response: HttpResponse) -> Any:
    assert isinstance(response.body, bytes)
    return json.loads(response.body)


def header(response: HttpResponse, name: str) -> str | None:
    for key, value in response.headers:
        if key.lower() == name:
            return value
    return None


@pytest.fixture
def apigw(registry: ServiceRegistry, ctx: RequestContext) -> Call:
    return Call(registry.get("apigatewayv2"), ctx)


@pytest.fixture
def fake() -> FakeLambda:
    return FakeLambda()


@pytest.fixture
def plane(apigw: Call, fake: FakeLambda) -> DataPlane:
    """A data plane over the provider's store whose Lambda is the stand-in (passed in)."""
    provider = apigw.provider
    return DataPlane(provider.store, "000000000000", lambda: fake)


@pytest.fixture
def http_api(apigw: Call) -> Callable[..., dict[str, Any]]:
    """``http_api("GET /items/{id}", ..., payload="2.0")`` -> {"ApiId", "routes": {key: id}}."""

    def make(*route_keys: str, payload: str = "2.0", stage: str = "$default", **api: Any):
        api_id = apigw("create_api", Name="t", ProtocolType="HTTP", **api)["ApiId"]
        integration = apigw(
            "create_integration",
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=FN_ARN,
            PayloadFormatVersion=payload,
        )
        routes = {}
        for key in route_keys:
            route = apigw(
                "create_route",
                ApiId=api_id,
                RouteKey=key,
                Target=f"integrations/{integration['IntegrationId']}",
            )
            routes[key] = route["RouteId"]
        apigw("create_stage", ApiId=api_id, StageName=stage, AutoDeploy=True)
        return {"ApiId": api_id, "routes": routes, "IntegrationId": integration["IntegrationId"]}

    return make
