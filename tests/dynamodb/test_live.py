"""boto3 against a live Nimbus server: the wire contract a user relies on."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError


def _name() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def ddb(aws: Callable[..., Any]) -> Any:
    return aws("dynamodb")


def _table(ddb: Any, range_key: bool = True, **extra: Any) -> str:
    name = _name()
    defs = [{"AttributeName": "pk", "AttributeType": "S"}]
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_key:
        defs.append({"AttributeName": "sk", "AttributeType": "N"})
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
    defs += extra.pop("more_definitions", [])
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=defs,
        KeySchema=schema,
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return name


def test_table_lifecycle_and_waiter(ddb: Any) -> None:
    name = _table(ddb)
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1})
    desc = ddb.describe_table(TableName=name)["Table"]
    assert desc["TableStatus"] == "ACTIVE" and desc["ItemCount"] == 0
    assert desc["TableArn"].endswith(f":table/{name}")
    assert name in ddb.list_tables()["TableNames"]
    ddb.delete_table(TableName=name)
    with pytest.raises(ClientError) as info:
        ddb.describe_table(TableName=name)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_item_roundtrip_types(ddb: Any) -> None:
    name = _table(ddb)
    item = {
        "pk": {"S": "a"},
        "sk": {"N": "1"},
        "b": {"B": b"\x00\x01\xff"},
        "bs": {"BS": [b"x", b"y"]},
        "n": {"N": "12.50"},
        "ns": {"NS": ["1", "2"]},
        "m": {"M": {"l": {"L": [{"NULL": True}, {"BOOL": False}, {"S": ""}]}}},
    }
    ddb.put_item(TableName=name, Item=item)
    got = ddb.get_item(TableName=name, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})["Item"]
    assert got["b"] == {"B": b"\x00\x01\xff"}
    assert sorted(got["bs"]["BS"]) == [b"x", b"y"]
    assert got["n"] == {"N": "12.5"}
    assert got["m"] == item["m"]


def test_resource_api_conditions_and_updates(aws: Callable[..., Any], nimbus: Any) -> None:
    ddb = aws("dynamodb")
    name = _table(ddb)
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=nimbus.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    table = resource.Table(name)
    for i in range(10):
        table.put_item(Item={"pk": "u", "sk": i, "score": Decimal(i) / 2, "tags": {"x"}})
    table.update_item(
        Key={"pk": "u", "sk": 3},
        UpdateExpression="SET score = score + :d ADD tags :t",
        ConditionExpression=Attr("score").gte(Decimal("1.5")),
        ExpressionAttributeValues={":d": Decimal("0.25"), ":t": {"y"}},
    )
    got = table.get_item(Key={"pk": "u", "sk": 3})["Item"]
    assert got["score"] == Decimal("1.75") and got["tags"] == {"x", "y"}
    page = table.query(
        KeyConditionExpression=Key("pk").eq("u") & Key("sk").between(2, 6),
        FilterExpression=Attr("score").lt(Decimal("2.5")),
        ScanIndexForward=False,
    )
    assert [int(i["sk"]) for i in page["Items"]] == [4, 3, 2]
    assert page["ScannedCount"] == 5
    with pytest.raises(ClientError) as info:
        table.put_item(Item={"pk": "u", "sk": 1}, ConditionExpression=Attr("pk").not_exists())
    assert info.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_conditional_failure_returns_old_item(ddb: Any) -> None:
    name = _table(ddb, range_key=False)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as info:
        ddb.delete_item(
            TableName=name,
            Key={"pk": {"S": "a"}},
            ConditionExpression="v = :two",
            ExpressionAttributeValues={":two": {"N": "2"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert info.value.response["Item"] == {"pk": {"S": "a"}, "v": {"N": "1"}}


def test_transaction_cancellation_reasons(ddb: Any) -> None:
    name = _table(ddb, range_key=False)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as info:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": {"pk": {"S": "a"}},
                        "ConditionExpression": "v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Put": {"TableName": name, "Item": {"pk": {"S": "b"}}}},
            ]
        )
    err = info.value.response
    assert err["Error"]["Code"] == "TransactionCanceledException"
    assert "[ConditionalCheckFailed, None]" in err["Error"]["Message"]
    assert [r["Code"] for r in err["CancellationReasons"]] == ["ConditionalCheckFailed", "None"]
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "b"}})


def test_paginators_walk_everything(ddb: Any) -> None:
    name = _table(ddb)
    with_items = [
        {"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"N": str(i)}, "pad": {"S": "x" * 200}}}}
        for i in range(60)
    ]
    for chunk in range(0, 60, 25):
        out = ddb.batch_write_item(RequestItems={name: with_items[chunk : chunk + 25]})
        assert out["UnprocessedItems"] == {}
    pages = ddb.get_paginator("query").paginate(
        TableName=name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "p"}},
        PaginationConfig={"PageSize": 7},
    )
    assert [int(i["sk"]["N"]) for p in pages for i in p["Items"]] == list(range(60))
    scanned = ddb.get_paginator("scan").paginate(TableName=name, PaginationConfig={"PageSize": 11})
    assert sum(p["Count"] for p in scanned) == 60


def test_validation_errors_over_the_wire(ddb: Any) -> None:
    name = _table(ddb, range_key=False)

    def code_and_message(fn: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
        with pytest.raises(ClientError) as info:
            fn(**kwargs)
        return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]

    code, msg = code_and_message(
        ddb.update_item,
        TableName=name,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET a = :v",
        ExpressionAttributeValues={":v": {"S": "x"}, ":unused": {"S": "y"}},
    )
    assert code == "ValidationException"
    assert (
        msg == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
    )
    code, msg = code_and_message(ddb.get_item, TableName="nope-table", Key={"pk": {"S": "a"}})
    assert (code, msg) == ("ResourceNotFoundException", "Requested resource not found")


def test_ttl_items_expire(fresh_nimbus_ttl: Any) -> None:
    client = fresh_nimbus_ttl.client("dynamodb")
    name = _table(client, range_key=False)
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    client.put_item(
        TableName=name, Item={"pk": {"S": "gone"}, "exp": {"N": str(int(time.time()) - 5)}}
    )
    client.put_item(TableName=name, Item={"pk": {"S": "kept"}})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if "Item" not in client.get_item(TableName=name, Key={"pk": {"S": "gone"}}):
            break
        time.sleep(0.1)
    assert "Item" not in client.get_item(TableName=name, Key={"pk": {"S": "gone"}})
    assert "Item" in client.get_item(TableName=name, Key={"pk": {"S": "kept"}})


def test_acknowledged_writes_survive_kill9(fresh_nimbus: Any) -> None:
    client = fresh_nimbus.client("dynamodb")
    name = _table(client, range_key=False)
    for i in range(20):
        client.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}})
    fresh_nimbus.kill9()
    fresh_nimbus.start()
    client = fresh_nimbus.client("dynamodb")
    assert client.scan(TableName=name, Select="COUNT")["Count"] == 20


def test_aws_rejections_moto_accepts(ddb: Any) -> None:
    name = _table(ddb)
    key = {"pk": {"S": "p"}, "sk": {"N": "1"}}
    ddb.put_item(TableName=name, Item={**key, "m": {"M": {"a": {"S": "x"}}}})
    cases = [
        (
            ddb.query,
            {
                "KeyConditionExpression": "pk = :p",
                "FilterExpression": "sk > :v",
                "ExpressionAttributeValues": {":p": {"S": "p"}, ":v": {"N": "0"}},
            },
            "Filter Expression can only contain non-primary key attributes: "
            "Primary key attribute: sk",
        ),
        (
            ddb.get_item,
            {"Key": key, "ProjectionExpression": "m, m.a"},
            "Invalid ProjectionExpression: Two document paths overlap",
        ),
        (
            ddb.get_item,
            {"Key": {"pk": {"N": "1"}, "sk": {"N": "1"}}},
            "The provided key element does not match the schema",
        ),
        (
            ddb.put_item,
            {"Item": {**key, "s": {"SS": ["a", "a"]}}},
            "One or more parameter values were invalid: Input collection [a, a] contains "
            "duplicates.",
        ),
    ]
    for fn, kwargs, message in cases:
        with pytest.raises(ClientError) as info:
            fn(TableName=name, **kwargs)
        assert info.value.response["Error"]["Code"] == "ValidationException"
        assert info.value.response["Error"]["Message"].startswith(message)
