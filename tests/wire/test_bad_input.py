"""Malformed requests get the protocol's AWS error shape, a 4xx and a helpful message."""

from __future__ import annotations

import json
import urllib.request
from xml.etree import ElementTree as ET

import cbor2
import pytest
from botocore.exceptions import ClientError

DDB = {"Content-Type": "application/x-amz-json-1.0"}


def ddb(target: str) -> dict[str, str]:
    return {**DDB, "X-Amz-Target": f"DynamoDB_20120810.{target}"}


def still_up(endpoint: str) -> None:
    with urllib.request.urlopen(f"{endpoint}/_nimbus/health", timeout=5) as reply:
        assert reply.status == 200


def json_error(reply) -> tuple[str, str]:
    body = json.loads(reply.body)
    return body["__type"].rpartition("#")[2], body.get("message") or body.get("Message")


def test_malformed_json_is_serialization_exception(raw, nimbus) -> None:
    reply = raw("POST", "/", service="dynamodb", body=b"{not json", headers=ddb("ListTables"))
    assert reply.status == 400
    code, message = json_error(reply)
    assert code == "SerializationException"
    assert "JSON" in message
    still_up(nimbus.endpoint)


def test_unknown_json_operation(raw) -> None:
    reply = raw("POST", "/", service="dynamodb", body=b"{}", headers=ddb("FlyToTheMoon"))
    assert reply.status == 400
    code, message = json_error(reply)
    assert code == "UnknownOperationException"
    assert "FlyToTheMoon" in message


def test_wrong_parameter_type(raw) -> None:
    body = json.dumps({"TableName": 12345}).encode()
    reply = raw("POST", "/", service="dynamodb", body=body, headers=ddb("DescribeTable"))
    assert reply.status == 400
    code, message = json_error(reply)
    assert code == "SerializationException"
    assert "TableName" in message


def test_missing_required_parameter(raw) -> None:
    reply = raw("POST", "/", service="dynamodb", body=b"{}", headers=ddb("DescribeTable"))
    assert reply.status == 400
    code, message = json_error(reply)
    assert code == "ValidationException"
    assert "Value null at 'tableName' failed to satisfy constraint" in message


def test_huge_number_where_an_integer_is_expected(raw) -> None:
    body = json.dumps({"Limit": 10**40}).encode()
    reply = raw("POST", "/", service="dynamodb", body=body, headers=ddb("ListTables"))
    assert reply.status == 400
    code, _ = json_error(reply)
    assert code == "SerializationException"


def test_constraint_violation_is_reported(raw) -> None:
    body = json.dumps({"Limit": 0}).encode()
    reply = raw("POST", "/", service="dynamodb", body=body, headers=ddb("ListTables"))
    assert reply.status == 400
    code, message = json_error(reply)
    assert code == "ValidationException"
    assert "Value '0' at 'limit' failed to satisfy constraint" in message
    assert "greater than or equal to 1" in message


def test_oversized_body_is_413(raw, nimbus) -> None:
    body = b"{" + b" " * (33 * 1024 * 1024) + b"}"
    reply = raw("POST", "/", service="dynamodb", body=body, headers=ddb("ListTables"))
    assert reply.status == 413
    code, message = json_error(reply)
    assert code == "RequestEntityTooLarge"
    assert "limit" in message
    still_up(nimbus.endpoint)


def test_malformed_cbor(raw) -> None:
    headers = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}
    path = "/service/GraniteServiceVersion20100801/operation/ListMetrics"
    reply = raw("POST", path, service="monitoring", body=b"\xff\xfe\x00garbage", headers=headers)
    assert reply.status == 400
    body = cbor2.loads(reply.body)
    assert body["__type"].endswith("SerializationException")
    assert reply.headers["smithy-protocol"] == "rpc-v2-cbor"


def test_unknown_cbor_operation(raw) -> None:
    headers = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}
    path = "/service/GraniteServiceVersion20100801/operation/Nope"
    reply = raw("POST", path, service="monitoring", body=cbor2.dumps({}), headers=headers)
    assert 400 <= reply.status < 500
    assert cbor2.loads(reply.body)["__type"].endswith("UnknownOperationException")


def test_unknown_query_action(raw) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    body = b"Action=Teleport&Version=2010-05-08"
    reply = raw("POST", "/", service="iam", body=body, headers=headers)
    assert reply.status == 400
    root = ET.fromstring(reply.body)
    ns = {"a": root.tag.partition("}")[0][1:]}
    assert root.find("a:Error/a:Code", ns).text == "InvalidAction"
    assert "Teleport" in root.find("a:Error/a:Message", ns).text


def test_query_wrong_type(raw) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    body = b"Action=ListUsers&Version=2010-05-08&MaxItems=lots"
    reply = raw("POST", "/", service="iam", body=body, headers=headers)
    assert reply.status == 400
    assert b"<Code>ValidationError</Code>" in reply.body
    assert b"MaxItems" in reply.body


@pytest.mark.parametrize("path", ["/bucket/%ff%fe", "/bucket/a%c3"])
def test_invalid_utf8_object_key(raw, path: str) -> None:
    reply = raw("GET", path, service="s3")
    assert reply.status == 400
    assert b"<Code>InvalidURI</Code>" in reply.body


@pytest.mark.parametrize("service", ["kinesis", "glacier", "sns"])
def test_a_service_nimbus_lacks_answers_in_the_clients_protocol(aws, service):
    """json (kinesis), rest-json (glacier) and query (sns) clients read a real error code."""
    client = aws(service)
    calls = {
        "kinesis": lambda: client.list_streams(),
        "glacier": lambda: client.list_vaults(),
        "sns": lambda: client.list_topics(),
    }
    with pytest.raises(ClientError) as info:
        calls[service]()
    assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert service in info.value.response["Error"]["Message"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
