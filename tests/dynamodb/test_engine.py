"""The engine against a real temporary SQLite database."""

from __future__ import annotations

import time
from pathlib import Path

from nimbus.services.dynamodb.engine import DynamoEngine
from nimbus.services.dynamodb.store import Store

from .conftest import error, make_table

KEY = {"pk": {"S": "a"}}


def test_create_describe_list_delete(engine: DynamoEngine) -> None:
    for name in ("Alpha", "Beta", "Gamma"):
        make_table(engine, name)
    desc = engine.describe_table({"TableName": "Beta"})["Table"]
    assert desc["TableStatus"] == "ACTIVE"
    assert desc["TableArn"] == "arn:aws:dynamodb:us-east-1:123456789012:table/Beta"
    assert desc["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    page = engine.list_tables({"Limit": 2})
    assert page == {"TableNames": ["Alpha", "Beta"], "LastEvaluatedTableName": "Beta"}
    assert engine.list_tables({"ExclusiveStartTableName": "Beta"}) == {"TableNames": ["Gamma"]}
    assert error(make_table, engine, "Beta").code == "ResourceInUseException"
    engine.delete_table({"TableName": "Beta"})
    err = error(engine.describe_table, {"TableName": "Beta"})
    assert err.code == "ResourceNotFoundException"
    assert error(engine.get_item, {"TableName": "Beta", "Key": KEY}).code == (
        "ResourceNotFoundException"
    )


def test_create_table_validation(engine: DynamoEngine) -> None:
    err = error(
        engine.create_table,
        {
            "TableName": "Bad",
            "AttributeDefinitions": [{"AttributeName": "x", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    assert err.code == "ValidationException"
    assert "Some index key attributes are not defined in AttributeDefinitions" in err.message
    err = error(
        engine.create_table,
        {
            "TableName": "Bad",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        },
    )
    assert "ReadCapacityUnits and WriteCapacityUnits must both be specified" in err.message
    err = error(
        make_table,
        engine,
        "Bad",
        ("pk", "S"),
        None,
        more_definitions=[{"AttributeName": "extra", "AttributeType": "S"}],
    )
    assert "Number of attributes in KeySchema does not exactly match" in err.message
    err = error(make_table, engine, "Bad", ("pk", "BOOL"))
    assert "Member must satisfy enum value set: [B, N, S]" in err.message


def test_item_crud_with_conditions_and_return_values(engine: DynamoEngine) -> None:
    make_table(engine, range_key=("sk", "N"))
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    item = {**key, "v": {"N": "1.50"}, "b": {"B": b"\x00"}, "e": {"S": ""}}
    assert engine.put_item({"TableName": "Things", "Item": item}) == {}
    got = engine.get_item({"TableName": "Things", "Key": {"pk": {"S": "a"}, "sk": {"N": "1.0"}}})
    assert got["Item"]["v"] == {"N": "1.5"}  # numbers come back normalised
    err = error(
        engine.put_item,
        {
            "TableName": "Things",
            "Item": key,
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        },
    )
    assert err.code == "ConditionalCheckFailedException"
    assert err.message == "The conditional request failed"
    assert err.extra["Item"]["v"] == {"N": "1.5"}
    out = engine.update_item(
        {
            "TableName": "Things",
            "Key": key,
            "UpdateExpression": "SET v = v + :d, w = :w",
            "ExpressionAttributeValues": {":d": {"N": "2"}, ":w": {"S": "x"}},
            "ReturnValues": "UPDATED_OLD",
        }
    )
    assert out == {"Attributes": {"v": {"N": "1.5"}}}
    out = engine.delete_item({"TableName": "Things", "Key": key, "ReturnValues": "ALL_OLD"})
    assert out["Attributes"]["v"] == {"N": "3.5"}
    assert engine.get_item({"TableName": "Things", "Key": key}) == {}
    # UpdateItem on a missing item creates it
    engine.update_item({"TableName": "Things", "Key": key})
    assert engine.get_item({"TableName": "Things", "Key": key})["Item"] == key


def test_key_validation(engine: DynamoEngine) -> None:
    make_table(engine)
    err = error(engine.put_item, {"TableName": "Things", "Item": {"x": {"S": "1"}}})
    assert (
        err.message == "One or more parameter values were invalid: Missing the key pk in the item"
    )
    err = error(engine.put_item, {"TableName": "Things", "Item": {"pk": {"N": "1"}}})
    assert "Type mismatch for key pk expected: S actual: N" in err.message
    err = error(engine.put_item, {"TableName": "Things", "Item": {"pk": {"S": ""}}})
    assert "cannot contain an empty string value. Key: pk" in err.message
    err = error(
        engine.get_item, {"TableName": "Things", "Key": {"pk": {"S": "a"}, "x": {"S": "b"}}}
    )
    assert err.message == "The provided key element does not match the schema"
    err = error(
        engine.put_item,
        {"TableName": "Things", "Item": {"pk": {"S": "a"}, "s": {"SS": ["x", "x"]}}},
    )
    assert "contains duplicates" in err.message
    err = error(
        engine.put_item, {"TableName": "Things", "Item": {"pk": {"S": "a"}, "s": {"SS": []}}}
    )
    assert "may not be empty" in err.message


def test_item_size_limit(engine: DynamoEngine) -> None:
    make_table(engine)
    big = {"pk": {"S": "a"}, "d": {"S": "x" * (400 * 1024)}}
    err = error(engine.put_item, {"TableName": "Things", "Item": big})
    assert err.message == "Item size has exceeded the maximum allowed size"
    ok = {"pk": {"S": "a"}, "d": {"S": "x" * (400 * 1024 - 10)}}
    engine.put_item({"TableName": "Things", "Item": ok})


def _fill(engine: DynamoEngine, n: int = 20) -> None:
    make_table(
        engine,
        range_key=("sk", "N"),
        more_definitions=[
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "l", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": "by-l",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "l", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for i in range(n):
        item = {"pk": {"S": "p"}, "sk": {"N": str(i - 10)}, "v": {"N": str(i)}}
        if i % 2:
            item["g"] = {"S": "odd"}
        item["l"] = {"S": f"l{n - i:03d}"}
        engine.put_item({"TableName": "Things", "Item": item})


def _q(engine: DynamoEngine, expr: str, values: dict, **kw: object) -> dict:
    return engine.query(
        {
            "TableName": "Things",
            "KeyConditionExpression": expr,
            "ExpressionAttributeValues": values,
            **kw,
        }
    )


def test_query_ranges_order_and_pagination(engine: DynamoEngine) -> None:
    _fill(engine)
    p = {"S": "p"}
    out = _q(
        engine, "pk = :p AND sk BETWEEN :a AND :b", {":p": p, ":a": {"N": "-2"}, ":b": {"N": "2"}}
    )
    assert [i["sk"]["N"] for i in out["Items"]] == ["-2", "-1", "0", "1", "2"]
    out = _q(engine, "pk = :p AND sk < :z", {":p": p, ":z": {"N": "-8"}}, ScanIndexForward=False)
    assert [i["sk"]["N"] for i in out["Items"]] == ["-9", "-10"]
    seen = []
    start = None
    while True:
        kw = {"Limit": 7, **({"ExclusiveStartKey": start} if start else {})}
        page = _q(engine, "pk = :p", {":p": p}, **kw)
        seen += [i["sk"]["N"] for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == [str(i - 10) for i in range(20)]
    out = _q(
        engine,
        "pk = :p",
        {":p": p, ":v": {"N": "15"}},
        FilterExpression="v >= :v",
        Select="COUNT",
    )
    assert (out["Count"], out["ScannedCount"], "Items" in out) == (5, 20, False)


def test_query_indexes(engine: DynamoEngine) -> None:
    _fill(engine)
    out = engine.query(
        {
            "TableName": "Things",
            "IndexName": "by-g",
            "KeyConditionExpression": "g = :g AND sk > :z",
            "ExpressionAttributeValues": {":g": {"S": "odd"}, ":z": {"N": "0"}},
        }
    )
    assert [i["sk"]["N"] for i in out["Items"]] == ["1", "3", "5", "7", "9"]
    assert set(out["Items"][0]) == {"pk", "sk", "g"}  # KEYS_ONLY projection
    out = engine.query(
        {
            "TableName": "Things",
            "IndexName": "by-l",
            "KeyConditionExpression": "pk = :p AND begins_with(l, :pre)",
            "ExpressionAttributeValues": {":p": {"S": "p"}, ":pre": {"S": "l00"}},
            "Limit": 3,
        }
    )
    assert [i["l"]["S"] for i in out["Items"]] == ["l001", "l002", "l003"]
    assert set(out["LastEvaluatedKey"]) == {"pk", "sk", "l"}
    err = error(
        engine.query,
        {
            "TableName": "Things",
            "IndexName": "by-g",
            "KeyConditionExpression": "g = :g",
            "ExpressionAttributeValues": {":g": {"S": "odd"}},
            "ConsistentRead": True,
        },
    )
    assert "Consistent reads are not supported on global secondary indexes" in err.message


def test_key_condition_errors(engine: DynamoEngine) -> None:
    _fill(engine, 2)
    v = {":p": {"S": "p"}, ":n": {"N": "1"}}
    assert "missed key schema element: pk" in error(_q, engine, "sk = :n", {":n": v[":n"]}).message
    assert "Invalid operator" in error(_q, engine, "pk = :p OR sk = :n", v).message
    err = error(_q, engine, "pk = :n", {":n": v[":n"]})
    assert "Condition parameter type does not match schema type" in err.message
    assert error(_q, engine, "pk = :p", {":p": {"S": "p"}, ":x": {"N": "1"}}).code == (
        "ValidationException"
    )


def test_scan_pagination_and_parallel_segments(engine: DynamoEngine) -> None:
    make_table(engine)
    for i in range(50):
        engine.put_item({"TableName": "Things", "Item": {"pk": {"S": f"k{i}"}}})
    seen = []
    start = None
    while True:
        req = {"TableName": "Things", "Limit": 9}
        if start:
            req["ExclusiveStartKey"] = start
        page = engine.scan(req)
        seen += [i["pk"]["S"] for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert sorted(seen) == sorted(f"k{i}" for i in range(50)) and len(seen) == 50
    segs = [
        {
            i["pk"]["S"]
            for i in engine.scan({"TableName": "Things", "Segment": s, "TotalSegments": 4})["Items"]
        }
        for s in range(4)
    ]
    assert sum(len(s) for s in segs) == 50 and set().union(*segs) == set(seen)
    err = error(engine.scan, {"TableName": "Things", "Segment": 4, "TotalSegments": 4})
    assert "Segment: 4 is not less than TotalSegments: 4" in err.message


def test_batch_and_transactions(engine: DynamoEngine) -> None:
    make_table(engine)
    puts = [{"PutRequest": {"Item": {"pk": {"S": f"k{i}"}, "n": {"N": "0"}}}} for i in range(5)]
    assert engine.batch_write_item({"RequestItems": {"Things": puts}}) == {"UnprocessedItems": {}}
    keys = [{"pk": {"S": f"k{i}"}} for i in range(7)]
    out = engine.batch_get_item({"RequestItems": {"Things": {"Keys": keys}}})
    assert len(out["Responses"]["Things"]) == 5 and out["UnprocessedKeys"] == {}
    err = error(engine.batch_get_item, {"RequestItems": {"Things": {"Keys": keys[:1] * 2}}})
    assert err.message == "Provided list of item keys contains duplicates"
    too_many = [{"PutRequest": {"Item": {"pk": {"S": f"x{i}"}}}} for i in range(26)]
    assert error(engine.batch_write_item, {"RequestItems": {"Things": too_many}}).code == (
        "ValidationException"
    )
    err = error(
        engine.transact_write_items,
        {
            "TransactItems": [
                {
                    "Update": {
                        "TableName": "Things",
                        "Key": {"pk": {"S": "k0"}},
                        "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": "Things",
                        "Key": {"pk": {"S": "k1"}},
                        "ConditionExpression": "n = :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        },
    )
    assert err.code == "TransactionCanceledException"
    assert err.message.endswith("[None, ConditionalCheckFailed]")
    assert [r["Code"] for r in err.extra["CancellationReasons"]] == [
        "None",
        "ConditionalCheckFailed",
    ]
    got = engine.get_item({"TableName": "Things", "Key": {"pk": {"S": "k0"}}})
    assert got["Item"]["n"] == {"N": "0"}  # nothing applied
    req = {
        "ClientRequestToken": "tok-1",
        "TransactItems": [
            {
                "Update": {
                    "TableName": "Things",
                    "Key": {"pk": {"S": "k0"}},
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            {"Delete": {"TableName": "Things", "Key": {"pk": {"S": "k1"}}}},
        ],
    }
    engine.transact_write_items(req)
    engine.transact_write_items(req)  # idempotent replay: applied once
    got = engine.transact_get_items(
        {
            "TransactItems": [
                {"Get": {"TableName": "Things", "Key": {"pk": {"S": "k0"}}}},
                {"Get": {"TableName": "Things", "Key": {"pk": {"S": "k1"}}}},
            ]
        }
    )
    assert got["Responses"] == [{"Item": {"pk": {"S": "k0"}, "n": {"N": "1"}}}, {}]
    dup = {"Delete": {"TableName": "Things", "Key": {"pk": {"S": "k2"}}}}
    err = error(engine.transact_write_items, {"TransactItems": [dup, dup]})
    assert "multiple operations on one item" in err.message


def test_update_table_adds_and_drops_gsi(engine: DynamoEngine) -> None:
    make_table(engine)
    engine.put_item({"TableName": "Things", "Item": {"pk": {"S": "a"}, "c": {"S": "red"}}})
    engine.update_table(
        {
            "TableName": "Things",
            "AttributeDefinitions": [{"AttributeName": "c", "AttributeType": "S"}],
            "GlobalSecondaryIndexUpdates": [
                {
                    "Create": {
                        "IndexName": "by-c",
                        "KeySchema": [{"AttributeName": "c", "KeyType": "HASH"}],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                }
            ],
        }
    )
    q = {
        "TableName": "Things",
        "IndexName": "by-c",
        "KeyConditionExpression": "c = :c",
        "ExpressionAttributeValues": {":c": {"S": "red"}},
    }
    assert engine.query(q)["Count"] == 1  # backfilled
    desc = engine.describe_table({"TableName": "Things"})["Table"]
    assert desc["GlobalSecondaryIndexes"][0]["ItemCount"] == 1
    desc = engine.update_table(
        {"TableName": "Things", "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "by-c"}}]}
    )
    assert "GlobalSecondaryIndexes" not in desc["TableDescription"]
    assert "does not have the specified index" in error(engine.query, q).message


def test_state_survives_reopen(tmp_path: Path) -> None:
    e = DynamoEngine(tmp_path / "d", "us-east-1", "123456789012")
    make_table(e)
    e.put_item({"TableName": "Things", "Item": {"pk": {"S": "a"}, "v": {"N": "1"}}})
    e.close()
    e = DynamoEngine(tmp_path / "d", "us-east-1", "123456789012")
    assert e.get_item({"TableName": "Things", "Key": KEY})["Item"]["v"] == {"N": "1"}
    assert e.describe_table({"TableName": "Things"})["Table"]["ItemCount"] == 1
    e.close()


def test_ttl_sweep_deletes_expired_items(engine: DynamoEngine) -> None:
    make_table(engine)
    engine.update_time_to_live(
        {
            "TableName": "Things",
            "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "exp"},
        }
    )
    assert engine.describe_time_to_live({"TableName": "Things"})["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "exp",
    }
    now = time.time()
    items = {"old": now - 10, "new": now + 3600}
    for name, exp in items.items():
        item = {"pk": {"S": name}, "exp": {"N": str(int(exp))}}
        engine.put_item({"TableName": "Things", "Item": item})
    engine.put_item({"TableName": "Things", "Item": {"pk": {"S": "str"}, "exp": {"S": "1"}}})
    store = Store(engine.db_path)
    assert engine.sweeper.sweep(store) == 1
    store.conn.close()
    left = {i["pk"]["S"] for i in engine.scan({"TableName": "Things"})["Items"]}
    assert left == {"new", "str"}


def test_legacy_query(engine: DynamoEngine) -> None:
    _fill(engine, 8)
    out = engine.query(
        {
            "TableName": "Things",
            "KeyConditions": {
                "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
                "sk": {
                    "ComparisonOperator": "BETWEEN",
                    "AttributeValueList": [{"N": "-8"}, {"N": "-4"}],
                },
            },
            "QueryFilter": {"g": {"ComparisonOperator": "NOT_NULL"}},
            "AttributesToGet": ["sk"],
        }
    )
    assert out["Items"] == [{"sk": {"N": "-7"}}, {"sk": {"N": "-5"}}]
    assert out["ScannedCount"] == 5
    err = error(
        engine.query,
        {
            "TableName": "Things",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "p"}},
            "AttributesToGet": ["sk"],
        },
    )
    assert err.message.startswith("Can not use both expression and non-expression parameters")


def test_query_and_scan_pages_are_index_range_searches(engine: DynamoEngine) -> None:
    # A Query (or a Scan page) must be a range search of SQLite's primary key, never a scan.
    _fill(engine, 5)
    seen: list[str] = []
    engine.store.conn.set_trace_callback(seen.append)
    _q(engine, "pk = :p AND sk > :z", {":p": {"S": "p"}, ":z": {"N": "0"}}, Limit=1)
    page = engine.scan({"TableName": "Things", "Limit": 2, "Segment": 0, "TotalSegments": 1})
    engine.scan(
        {
            "TableName": "Things",
            "ExclusiveStartKey": page["LastEvaluatedKey"],
            "Segment": 0,
            "TotalSegments": 1,
        }
    )
    engine.store.conn.set_trace_callback(None)
    selects = [sql for sql in seen if sql.startswith("SELECT item")]
    assert len(selects) == 3
    plans = [engine.store.conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall() for sql in selects]
    for plan in plans:
        assert plan[0][3].startswith("SEARCH items USING PRIMARY KEY (tid=? AND "), plan
        assert not any("TEMP B-TREE" in row[3] for row in plan), plan
    assert "h=? AND pk=? AND sk>?" in plans[0][0][3]
    assert "(h,pk,sk)>" in plans[2][0][3]  # the next scan page starts at the key, indexed
