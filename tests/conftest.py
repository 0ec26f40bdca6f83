"""Fixtures: a live Nimbus server on a free port with a temporary data directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import Call, NimbusServer, RawResponse, raw_request

from nimbus.aws.context import Principal, RequestContext
from nimbus.services.registry import ServiceRegistry


@pytest.fixture(scope="session")
def nimbus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NimbusServer]:
    server = NimbusServer(tmp_path_factory.mktemp("nimbus") / "data")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def aws(nimbus: NimbusServer) -> Callable[..., Any]:
    """``aws("dynamodb")`` -> a boto3 client for the live server."""
    return nimbus.client


# boto3 clients of the Bedrock APIs, for the bedrock* test folders.
@pytest.fixture
def brt(aws: Callable[..., Any]) -> Any:
    return aws("bedrock-runtime")


@pytest.fixture
def bedrock(aws: Callable[..., Any]) -> Any:
    return aws("bedrock")


@pytest.fixture
def agent(aws: Callable[..., Any]) -> Any:
    return aws("bedrock-agent")


@pytest.fixture
def fresh_nimbus(tmp_path: Path) -> Iterator[NimbusServer]:
    """A server of the test's own, for tests that kill or restart it."""
    server = NimbusServer(tmp_path / "data")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def raw(nimbus: NimbusServer) -> Callable[..., RawResponse]:
    """``raw("POST", "/", service="dynamodb", body=b"...", headers={...})`` against the server."""

    def send(method: str, path: str, **kwargs: Any) -> RawResponse:
        return raw_request(nimbus.endpoint, method, path, **kwargs)

    return send


# Providers over a real temporary data directory, called as the wire front calls them.
@pytest.fixture
def registry(tmp_path: Path) -> Iterator[ServiceRegistry]:
    reg = ServiceRegistry(tmp_path / "data", "us-east-1", "000000000000", "http://127.0.0.1:1")
    yield reg
    reg.close()


@pytest.fixture
def ctx() -> RequestContext:
    principal = Principal(arn="arn:aws:iam::000000000000:root", account_id="000000000000")
    return RequestContext(
        service="logs",
        operation="Test",
        region="us-east-1",
        account_id="000000000000",
        request_id="r-1",
        principal=principal,
        base_url="http://127.0.0.1:1",
    )


@pytest.fixture
def logs(registry: ServiceRegistry, ctx: RequestContext) -> Call:
    return Call(registry.get("logs"), ctx)


@pytest.fixture
def metrics(registry: ServiceRegistry, ctx: RequestContext) -> Call:
    return Call(registry.get("cloudwatch"), ctx)
