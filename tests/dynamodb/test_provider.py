"""Provider surface: IAM resources, tags, billing updates, capacity, page size."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nimbus.aws.context import Principal, RequestContext
from nimbus.services.base import ServiceEnv
from nimbus.services.dynamodb.provider import DynamoDBProvider

from .conftest import error, make_table

ACCOUNT = "123456789012"


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[DynamoDBProvider]:
    env = ServiceEnv(tmp_path / "ddb", "us-east-1", ACCOUNT, "http://x", None)  # type: ignore[arg-type]
    p = DynamoDBProvider(env)
    yield p
    p.close()


def ctx(op: str) -> RequestContext:
    principal = Principal(arn=f"arn:aws:iam::{ACCOUNT}:root", account_id=ACCOUNT)
    return RequestContext("dynamodb", op, "us-east-1", ACCOUNT, "req", principal, "http://x")


ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/"


@pytest.mark.parametrize(
    ("op", "req", "expected"),
    [
        ("PutItem", {"TableName": "T1"}, [ARN + "T1"]),
        ("Query", {"TableName": "T1", "IndexName": "g"}, [ARN + "T1/index/g"]),
        ("BatchWriteItem", {"RequestItems": {"A": [], "B": []}}, [ARN + "A", ARN + "B"]),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "A"}},
                    {"Delete": {"TableName": "B"}},
                    {"ConditionCheck": {"TableName": "A"}},
                ]
            },
            [ARN + "A", ARN + "B"],
        ),
        ("ListTables", {}, ["*"]),
    ],
)
def test_iam_resources(
    provider: DynamoDBProvider, op: str, req: dict[str, Any], expected: list[str]
) -> None:
    assert provider.iam_resources(op, req, ctx(op)) == expected
    assert provider.iam_action(op, req) == f"dynamodb:{op}"


def test_tags_roundtrip(provider: DynamoDBProvider) -> None:
    make_table(provider.engine, Tags=[{"Key": "env", "Value": "dev"}])
    arn = ARN + "Things"
    c = ctx("TagResource")
    provider.tag_resource({"ResourceArn": arn, "Tags": [{"Key": "team", "Value": "ml"}]}, c)
    provider.untag_resource({"ResourceArn": arn, "TagKeys": ["env"]}, c)
    tags = provider.list_tags_of_resource({"ResourceArn": arn}, c)["Tags"]
    assert tags == [{"Key": "team", "Value": "ml"}]
    err = error(provider.list_tags_of_resource, {"ResourceArn": ARN + "Nope"}, c)
    assert err.code == "ResourceNotFoundException"


def test_update_billing_mode_and_throughput(provider: DynamoDBProvider) -> None:
    make_table(provider.engine)
    c = ctx("UpdateTable")
    desc = provider.update_table(
        {
            "TableName": "Things",
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
        },
        c,
    )["TableDescription"]
    assert desc["ProvisionedThroughput"]["WriteCapacityUnits"] == 7
    assert "BillingModeSummary" not in desc
    err = error(provider.update_table, {"TableName": "Things"}, c)
    assert err.code == "ValidationException"


def test_consumed_capacity_total_shape(provider: DynamoDBProvider) -> None:
    make_table(provider.engine)
    c = ctx("PutItem")
    out = provider.put_item(
        {"TableName": "Things", "Item": {"pk": {"S": "a"}}, "ReturnConsumedCapacity": "TOTAL"}, c
    )
    assert out["ConsumedCapacity"] == {"TableName": "Things", "CapacityUnits": 1.0}
    out = provider.get_item(
        {
            "TableName": "Things",
            "Key": {"pk": {"S": "a"}},
            "ConsistentRead": True,
            "ReturnConsumedCapacity": "TOTAL",
        },
        c,
    )
    assert out["ConsumedCapacity"] == {"TableName": "Things", "CapacityUnits": 1.0}


def test_scan_pages_stop_at_one_megabyte(provider: DynamoDBProvider) -> None:
    make_table(provider.engine)
    c = ctx("Scan")
    for i in range(6):
        item = {"pk": {"S": f"k{i}"}, "d": {"S": "x" * 300_000}}
        provider.put_item({"TableName": "Things", "Item": item}, c)
    first = provider.scan({"TableName": "Things", "Select": "COUNT"}, c)
    assert first["ScannedCount"] == 4 and "LastEvaluatedKey" in first
    rest = provider.scan(
        {"TableName": "Things", "Select": "COUNT", "ExclusiveStartKey": first["LastEvaluatedKey"]},
        c,
    )
    assert rest["ScannedCount"] == 2 and "LastEvaluatedKey" not in rest
