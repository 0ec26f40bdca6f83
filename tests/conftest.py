"""Fixtures: a live Nimbus server on a free port with a temporary data directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import NimbusServer, RawResponse, raw_request


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
