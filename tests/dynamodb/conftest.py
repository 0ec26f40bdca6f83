from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import NimbusServer

from nimbus.aws.errors import AwsError
from nimbus.services.dynamodb.engine import DynamoEngine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[DynamoEngine]:
    e = DynamoEngine(tmp_path / "ddb", "us-east-1", "123456789012")
    yield e
    e.close()


def make_table(
    engine: DynamoEngine,
    name: str = "Things",
    hash_key: tuple[str, str] = ("pk", "S"),
    range_key: tuple[str, str] | None = None,
    **extra: Any,
) -> None:
    defs = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
    schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    if range_key:
        defs.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
        schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
    defs += extra.pop("more_definitions", [])
    engine.create_table(
        {
            "TableName": name,
            "AttributeDefinitions": defs,
            "KeySchema": schema,
            "BillingMode": "PAY_PER_REQUEST",
            **extra,
        }
    )


def error(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> AwsError:
    with pytest.raises(AwsError) as info:
        fn(*args, **kwargs)
    return info.value


@pytest.fixture
def fresh_nimbus_ttl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NimbusServer]:
    """A server of its own whose TTL sweeper runs every 0.2 s."""
    monkeypatch.setenv("NIMBUS_DYNAMODB_TTL_SWEEP_SECONDS", "0.2")
    server = NimbusServer(tmp_path / "data")
    server.start()
    yield server
    server.stop()
