"""Regressions found by driving a live server the way boto3 and the AWS CLI users do."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _bucket(s3: Any) -> str:
    name = f"review-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def test_notification_configuration_routes_to_the_current_operation(
    aws: Callable[..., Any],
) -> None:
    # PUT/GET /{Bucket}?notification is shared with the deprecated PutBucketNotification.
    s3 = aws("s3")
    bucket = _bucket(s3)
    config = {
        "QueueConfigurations": [
            {
                "Id": "created",
                "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q",
                "Events": ["s3:ObjectCreated:*"],
            }
        ]
    }
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert got["QueueConfigurations"] == config["QueueConfigurations"]


def test_deeply_nested_json_body_is_a_400_not_a_500(raw: Callable[..., Any]) -> None:
    depth = 5000  # past the json decoder's recursion limit
    item = b'{"M":{"a":' * depth + b'{"S":"x"}' + b"}}" * depth
    body = b'{"TableName":"Deep","Item":{"pk":{"S":"x"},"v":' + item + b"}}"
    headers = {
        "X-Amz-Target": "DynamoDB_20120810.PutItem",
        "Content-Type": "application/x-amz-json-1.0",
    }
    reply = raw("POST", "/", service="dynamodb", body=body, headers=headers)
    assert reply.status == 400
    assert b"SerializationException" in reply.body


def _website_bucket(s3: Any) -> str:
    bucket = _bucket(s3)
    s3.put_bucket_website(
        Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}}
    )
    return bucket


def test_website_serves_keys_with_percent_encoded_characters(
    nimbus: Any, aws: Callable[..., Any]
) -> None:
    import urllib.request

    s3 = aws("s3")
    bucket = _website_bucket(s3)
    s3.put_object(Bucket=bucket, Key="my page ü.html", Body=b"spaced", ContentType="text/html")
    url = f"{nimbus.endpoint}/_website/{bucket}/my%20page%20%C3%BC.html"
    with urllib.request.urlopen(url, timeout=10) as reply:
        assert reply.status == 200
        assert reply.read() == b"spaced"


def test_website_directory_redirect_stays_under_the_website_prefix(
    nimbus: Any, aws: Callable[..., Any]
) -> None:
    import urllib.request

    s3 = aws("s3")
    bucket = _website_bucket(s3)
    s3.put_object(Bucket=bucket, Key="docs ✓/index.html", Body=b"docs", ContentType="text/html")
    # urllib follows the 302; the page must be found at the Location it was sent to.
    with urllib.request.urlopen(
        f"{nimbus.endpoint}/_website/{bucket}/docs%20%E2%9C%93", timeout=10
    ) as reply:
        assert reply.status == 200
        assert reply.url == f"{nimbus.endpoint}/_website/{bucket}/docs%20%E2%9C%93/"
        assert reply.read() == b"docs"


def test_dynamodb_refuses_items_nested_deeper_than_32_levels(aws) -> None:
    ddb = aws("dynamodb")
    ddb.create_table(
        TableName="deep-items",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    value: dict = {"S": "leaf"}
    for _ in range(40):
        value = {"M": {"a": value}}
    with pytest.raises(ClientError) as caught:
        ddb.put_item(TableName="deep-items", Item={"pk": {"S": "x"}, "deep": value})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "Nesting Levels" in caught.value.response["Error"]["Message"]
    shallow: dict = {"S": "leaf"}
    for _ in range(30):
        shallow = {"L": [shallow]}
    ddb.put_item(TableName="deep-items", Item={"pk": {"S": "y"}, "deep": shallow})
    assert ddb.get_item(TableName="deep-items", Key={"pk": {"S": "y"}})["Item"]["deep"]


def test_xml_with_a_doctype_is_malformed(raw, aws) -> None:
    aws("s3").create_bucket(Bucket="doctype-bucket")
    body = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaa">]>'
        b"<CORSConfiguration><CORSRule><AllowedOrigin>&a;</AllowedOrigin>"
        b"<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>"
    )
    reply = raw(
        "PUT",
        "/doctype-bucket",
        query="cors",
        service="s3",
        body=body,
        headers={
            "Content-MD5": __import__("base64")
            .b64encode(__import__("hashlib").md5(body).digest())
            .decode()
        },
    )
    assert reply.status == 400
    assert b"<Code>MalformedXML</Code>" in reply.body
