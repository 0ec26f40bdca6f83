"""Providers over a real temporary data directory, called as the wire front calls them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nimbus.aws.context import Principal, RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.registry import ServiceRegistry


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


class Call:
    """``call("put_log_events", logGroupName=...)`` on one provider."""

    def __init__(self, provider: Any, ctx: RequestContext) -> None:
        self.provider = provider
        self.ctx = ctx

    def __call__(self, operation: str, **req: Any) -> dict[str, Any]:
        return getattr(self.provider, operation)(req, self.ctx)

    def error(self, operation: str, **req: Any) -> AwsError:
        with pytest.raises(AwsError) as info:
            self(operation, **req)
        return info.value


@pytest.fixture
def logs(registry: ServiceRegistry, ctx: RequestContext) -> Call:
    return Call(registry.get("logs"), ctx)


@pytest.fixture
def metrics(registry: ServiceRegistry, ctx: RequestContext) -> Call:
    return Call(registry.get("cloudwatch"), ctx)
