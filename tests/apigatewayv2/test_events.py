"""Lambda events compared with the examples in the AWS documentation ("Working with AWS Lambda
proxy integrations for HTTP APIs"), and Lambda results mapped back as AWS documents."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from .conftest import body_json, header, request, send

# The documented payload format 2.0 example (mTLS "authentication" left out: no mTLS here).
DOC_V2: dict[str, Any] = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/my/path",
    "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
    "cookies": ["cookie1", "cookie2"],
    "headers": {"header1": "value1", "header2": "value1,value2"},
    "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "api-id",
        "authorizer": {
            "jwt": {
                "claims": {"claim1": "value1", "claim2": "value2"},
                "scopes": ["scope1", "scope2"],
            }
        },
        "domainName": "id.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "id",
        "http": {
            "method": "POST",
            "path": "/my/path",
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "agent",
        },
        "requestId": "id",
        "routeKey": "$default",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390,
    },
    "body": "Hello from Lambda",
    "pathParameters": {"parameter1": "value1"},
    "isBase64Encoded": False,
    "stageVariables": {"stageVariable1": "value1", "stageVariable2": "value2"},
}

# The documented payload format 1.0 example (clientCert left out: no mTLS here).
DOC_V1: dict[str, Any] = {
    "version": "1.0",
    "resource": "/my/path",
    "path": "/my/path",
    "httpMethod": "GET",
    "headers": {"header1": "value1", "header2": "value2"},
    "multiValueHeaders": {"header1": ["value1"], "header2": ["value1", "value2"]},
    "queryStringParameters": {"parameter1": "value1", "parameter2": "value"},
    "multiValueQueryStringParameters": {
        "parameter1": ["value1", "value2"],
        "parameter2": ["value"],
    },
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "id",
        "authorizer": {"claims": None, "scopes": None},
        "domainName": "id.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "id",
        "extendedRequestId": "request-id",
        "httpMethod": "GET",
        "identity": {
            "accessKey": None,
            "accountId": None,
            "caller": None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "sourceIp": "192.0.2.1",
            "user": None,
            "userAgent": "user-agent",
            "userArn": None,
        },
        "path": "/my/path",
        "protocol": "HTTP/1.1",
        "requestId": "id=",
        "requestTime": "04/Mar/2020:19:15:17 +0000",
        "requestTimeEpoch": 1583349317135,
        "resourceId": None,
        "resourcePath": "/my/path",
        "stage": "$default",
    },
    "pathParameters": None,
    "stageVariables": None,
    "body": "Hello from Lambda!",
    "isBase64Encoded": False,
}


def skeleton(value: Any, depth: int = 0) -> Any:
    """Keys and value types, recursively; free-form maps (headers...) reduced to their type."""
    if isinstance(value, dict):
        if depth > 0 and all(isinstance(v, str | list) for v in value.values()) and value:
            return "map"
        return {k: skeleton(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return "list"
    return type(value).__name__


QUERY = "parameter1=value1&parameter1=value2&parameter2=value"


def test_v2_event_matches_the_documented_example(apigw, plane, fake, http_api):
    api = http_api("$default")
    api_id = api["ApiId"]
    apigw(
        "update_stage", ApiId=api_id, StageName="$default", StageVariables=DOC_V2["stageVariables"]
    )
    apigw(
        "update_route",
        ApiId=api_id,
        RouteId=api["routes"]["$default"],
        RouteKey="POST /my/{parameter1}",
    )
    headers = {"header1": "value1", "header2": "value1,value2", "cookie": "cookie1; cookie2"}
    headers["user-agent"] = "agent"
    headers["content-type"] = "text/plain"
    reply = send(
        plane,
        request(
            "POST",
            f"/_api/{api_id}/my/path",
            query=QUERY,
            headers=headers,
            body=b"Hello from Lambda",
        ),
    )
    assert reply.status == 200, reply.body
    event = fake.event
    doc = json.loads(json.dumps(DOC_V2))
    del doc["requestContext"]["authorizer"]  # only with an authorizer (see test_dataplane)
    assert skeleton(event) == skeleton(doc)
    for key in (
        "version",
        "rawPath",
        "rawQueryString",
        "cookies",
        "queryStringParameters",
        "body",
        "isBase64Encoded",
        "stageVariables",
    ):
        assert event[key] == doc[key], key
    assert event["routeKey"] == "POST /my/{parameter1}"
    assert event["pathParameters"] == {"parameter1": "path"}
    assert "cookie" not in event["headers"]  # cookies move to their own field
    assert {k: event["headers"][k] for k in ("header1", "header2")} == doc["headers"]
    ctx = event["requestContext"]
    assert ctx["http"] == doc["requestContext"]["http"]
    assert (ctx["apiId"], ctx["domainPrefix"], ctx["stage"]) == (api_id, api_id, "$default")
    assert ctx["accountId"] == "000000000000"
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", ctx["time"])
    assert isinstance(ctx["timeEpoch"], int) and ctx["timeEpoch"] > 1.6e12
    assert header(reply, "apigw-requestid") == ctx["requestId"]


def test_v1_event_matches_the_documented_example(plane, fake, http_api):
    api_id = http_api("GET /my/path", payload="1.0")["ApiId"]
    headers = {"header1": "value1", "header2": "value2", "user-agent": "user-agent"}
    headers["content-type"] = "text/plain"
    send(
        plane,
        request(
            "GET",
            f"/_api/{api_id}/my/path",
            query=QUERY,
            headers=headers,
            body=b"Hello from Lambda!",
        ),
    )
    event = fake.event
    assert skeleton(event) == skeleton(DOC_V1) | {"resource": "str"}
    for key in (
        "version",
        "resource",
        "path",
        "httpMethod",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "body",
        "isBase64Encoded",
    ):
        assert event[key] == DOC_V1[key], key
    ctx = event["requestContext"]
    doc_ctx = DOC_V1["requestContext"]
    assert ctx["identity"] == doc_ctx["identity"]
    for key in ("httpMethod", "path", "protocol", "resourcePath", "stage", "authorizer"):
        assert ctx[key] == doc_ctx[key], key
    assert {k: event["headers"][k] for k in ("header1", "header2")} == DOC_V1["headers"]
    assert event["multiValueHeaders"]["header1"] == ["value1"]


def test_v2_minimal_event_omits_absent_fields(plane, fake, http_api):
    api_id = http_api("GET /ping")["ApiId"]
    send(plane, request("GET", f"/_api/{api_id}/ping"))
    event = fake.event
    for absent in ("cookies", "queryStringParameters", "body", "pathParameters", "stageVariables"):
        assert absent not in event, absent
    assert event["rawQueryString"] == "" and event["isBase64Encoded"] is False


def test_named_stage_paths(plane, fake, http_api, apigw):
    api = http_api("GET /items/{id}", stage="prod")
    api_id = api["ApiId"]
    assert send(plane, request("GET", f"/_api/{api_id}/items/1")).status == 404  # no $default
    reply = send(plane, request("GET", f"/_api/{api_id}/prod/items/1"))
    assert reply.status == 200
    event = fake.event
    assert event["rawPath"] == "/prod/items/1"  # AWS keeps the stage in rawPath
    assert event["requestContext"]["stage"] == "prod"
    assert event["pathParameters"] == {"id": "1"}


def test_host_based_address(plane, fake, http_api):
    api_id = http_api("GET /hi")["ApiId"]
    host = f"{api_id}.execute-api.localhost:4566"
    assert send(plane, request("GET", "/hi", host=host)).status == 200
    assert fake.event["requestContext"]["domainName"] == host


def test_binary_body_is_base64(plane, fake, http_api):
    api_id = http_api("POST /up")["ApiId"]
    data = bytes(range(256))
    headers = {"content-type": "application/octet-stream"}
    send(plane, request("POST", f"/_api/{api_id}/up", headers=headers, body=data))
    assert fake.event["isBase64Encoded"] is True
    assert base64.b64decode(fake.event["body"]) == data
    send(
        plane,
        request(
            "POST",
            f"/_api/{api_id}/up",
            headers={"content-type": "application/json"},
            body=b'{"a": 1}',
        ),
    )
    assert fake.event["body"] == '{"a": 1}' and fake.event["isBase64Encoded"] is False


# -- results ---------------------------------------------------------------------------------
def test_v2_structured_result(plane, fake, http_api):
    api_id = http_api("GET /r")["ApiId"]
    fake.answer = lambda e: {
        "statusCode": 201,
        "headers": {"x-a": "1", "content-type": "text/plain"},
        "cookies": ["a=1", "b=2; Path=/"],
        "body": "made",
    }
    reply = send(plane, request("GET", f"/_api/{api_id}/r"))
    assert (reply.status, reply.body) == (201, b"made")
    assert header(reply, "x-a") == "1" and header(reply, "content-type") == "text/plain"
    assert [v for k, v in reply.headers if k == "set-cookie"] == ["a=1", "b=2; Path=/"]


def test_v2_inferred_results(plane, fake, http_api):
    api_id = http_api("GET /r")["ApiId"]
    fake.answer = lambda e: {"message": "Hello from Lambda!"}
    reply = send(plane, request("GET", f"/_api/{api_id}/r"))
    assert reply.status == 200 and header(reply, "content-type") == "application/json"
    assert body_json(reply) == {"message": "Hello from Lambda!"}
    fake.answer = lambda e: "Hello from Lambda!"
    assert send(plane, request("GET", f"/_api/{api_id}/r")).body == b"Hello from Lambda!"
    fake.answer = lambda e: [1, 2]
    assert send(plane, request("GET", f"/_api/{api_id}/r")).body == b"[1, 2]"


def test_binary_result(plane, fake, http_api):
    api_id = http_api("GET /img")["ApiId"]
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    fake.answer = lambda e: {
        "statusCode": 200,
        "headers": {"content-type": "image/png"},
        "body": base64.b64encode(png).decode(),
        "isBase64Encoded": True,
    }
    assert send(plane, request("GET", f"/_api/{api_id}/img")).body == png


def test_v1_result_needs_status_code(plane, fake, http_api):
    api_id = http_api("GET /r", payload="1.0")["ApiId"]
    fake.answer = lambda e: {
        "statusCode": 202,
        "multiValueHeaders": {"x-m": ["a", "b"]},
        "body": "k",
    }
    reply = send(plane, request("GET", f"/_api/{api_id}/r"))
    assert (reply.status, reply.body) == (202, b"k")
    assert [v for k, v in reply.headers if k == "x-m"] == ["a", "b"]
    fake.answer = lambda e: {"message": "no status"}
    reply = send(plane, request("GET", f"/_api/{api_id}/r"))
    assert (reply.status, body_json(reply)) == (500, {"message": "Internal Server Error"})
