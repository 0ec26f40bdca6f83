from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

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
