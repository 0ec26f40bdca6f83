"""Hostile names and values: answered in AWS's shape, nothing written outside the data dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

HOSTILE_KEYS = ["../../escape.txt", "/etc/passwd-copy", "a/../../../b", "..\\..\\win.txt", "."]


def files_under(root: Path) -> set[Path]:
    return {Path(d) / f for d, _, names in os.walk(root) for f in names}


def test_object_keys_never_become_paths(fresh_nimbus) -> None:
    outside = fresh_nimbus.data_dir.parent
    before = files_under(outside) - files_under(fresh_nimbus.data_dir)
    s3 = fresh_nimbus.client("s3")
    s3.create_bucket(Bucket="hostile")
    for key in HOSTILE_KEYS:
        s3.put_object(Bucket="hostile", Key=key, Body=key.encode())
    for key in HOSTILE_KEYS:
        assert s3.get_object(Bucket="hostile", Key=key)["Body"].read() == key.encode()
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="hostile")["Contents"]]
    assert sorted(listed) == sorted(HOSTILE_KEYS)
    after = files_under(outside) - files_under(fresh_nimbus.data_dir)
    new_outside = {p for p in after - before if not p.name.startswith("server-")}
    assert not new_outside, f"written outside the data dir: {new_outside}"
    assert not Path("/etc/passwd-copy").exists()


def test_nul_in_a_key_is_a_4xx_and_the_server_stays_up(nimbus, aws) -> None:
    s3 = aws("s3")
    s3.create_bucket(Bucket="nul-keys")
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket="nul-keys", Key="a\x00b", Body=b"x")
    assert 400 <= caught.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500
    s3.put_object(Bucket="nul-keys", Key="fine", Body=b"x")  # still serving


def test_huge_numbers_in_items_are_validation_errors(nimbus, aws) -> None:
    ddb = aws("dynamodb")
    ddb.create_table(
        TableName="huge-numbers",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for bad in ("1e999", "9" * 39, "-1E-131", "NaN", "12abc"):
        with pytest.raises(ClientError) as caught:
            ddb.put_item(TableName="huge-numbers", Item={"pk": {"S": "a"}, "n": {"N": bad}})
        error = caught.value.response["Error"]
        assert error["Code"] == "ValidationException", (bad, error)
    assert "Item" not in ddb.get_item(TableName="huge-numbers", Key={"pk": {"S": "a"}})


def test_table_names_never_become_sql(nimbus, aws) -> None:
    ddb = aws("dynamodb")
    with pytest.raises(ClientError) as caught:
        ddb.describe_table(TableName="x'; DROP TABLE items; --")
    assert caught.value.response["Error"]["Code"] in (
        "ValidationException",
        "ResourceNotFoundException",
    )
    assert isinstance(ddb.list_tables()["TableNames"], list)
