"""HTTP API -> real Lambda function through the live server, called over plain HTTP."""

from __future__ import annotations

import http.client
import io
import json
import time
import uuid
import zipfile
from typing import Any

import pytest

from nimbus.services.registry import PROVIDERS

# The Lambda service is built in parallel; without it these tests have nothing to call.
pytestmark = pytest.mark.skipif("lambda" not in PROVIDERS, reason="no Lambda service")

ECHO = """
import json

def handler(event, context):
    if event.get("rawPath", "").endswith("/boom") or event.get("path", "").endswith("/boom"):
        raise RuntimeError("boom")
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(event)}
"""
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", source)
    return buf.getvalue()


@pytest.fixture
def echo_function(aws) -> str:
    iam, lam = aws("iam"), aws("lambda")
    role = iam.create_role(
        RoleName=f"apigw-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]
    fn = lam.create_function(
        FunctionName=f"echo-{uuid.uuid4().hex[:8]}",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip(ECHO)},
        Timeout=30,
    )
    return fn["FunctionArn"]


def _call(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    # Generous timeout: the first call starts a Lambda worker on a possibly loaded machine.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        reply = conn.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()
    finally:
        conn.close()


def test_http_api_invokes_lambda(aws, nimbus, echo_function):
    v2 = aws("apigatewayv2")
    api = v2.create_api(Name="e2e", ProtocolType="HTTP")
    api_id = api["ApiId"]
    uri = (
        f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{echo_function}/invocations"
    )
    integ = v2.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri, PayloadFormatVersion="2.0"
    )
    for key in ("POST /items/{id}", "GET /boom"):
        v2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integ['IntegrationId']}")
    v2.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    assert api["ApiEndpoint"].startswith(nimbus.endpoint)

    status, headers, body = _call(
        nimbus.port,
        "POST",
        f"/_api/{api_id}/items/42?a=1&a=2",
        b'{"x": 1}',
        {"content-type": "application/json", "cookie": "c1=v1"},
    )
    assert status == 200, body
    event: dict[str, Any] = json.loads(body)
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /items/{id}"
    assert event["rawPath"] == "/items/42" and event["rawQueryString"] == "a=1&a=2"
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["pathParameters"] == {"id": "42"}
    assert event["cookies"] == ["c1=v1"]
    assert event["body"] == '{"x": 1}' and event["isBase64Encoded"] is False
    assert event["requestContext"]["apiId"] == api_id
    assert event["requestContext"]["http"]["method"] == "POST"
    assert headers["apigw-requestid"] == event["requestContext"]["requestId"]

    # Host-based address, as a browser would use it.
    status, _, body = _call(
        nimbus.port,
        "POST",
        "/items/7",
        b"",
        {"host": f"{api_id}.execute-api.localhost:{nimbus.port}"},
    )
    assert status == 200 and json.loads(body)["pathParameters"] == {"id": "7"}

    status, _, body = _call(nimbus.port, "GET", f"/_api/{api_id}/boom")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    status, _, body = _call(nimbus.port, "GET", f"/_api/{api_id}/nothing")
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})


def test_quick_create_with_payload_1_0(aws, nimbus, echo_function):
    v2 = aws("apigatewayv2")
    api_id = v2.create_api(Name="q", ProtocolType="HTTP", Target=echo_function)["ApiId"]
    integ = v2.get_integrations(ApiId=api_id)["Items"][0]
    v2.update_integration(
        ApiId=api_id, IntegrationId=integ["IntegrationId"], PayloadFormatVersion="1.0"
    )
    started = time.monotonic()
    status, _, body = _call(nimbus.port, "GET", f"/_api/{api_id}/any/path?q=1")
    assert status == 200, (body, time.monotonic() - started)
    event = json.loads(body)
    assert (event["version"], event["httpMethod"], event["path"]) == ("1.0", "GET", "/any/path")
    assert event["resource"] == "$default"
    assert event["multiValueQueryStringParameters"] == {"q": ["1"]}
