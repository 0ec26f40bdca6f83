"""WebSocket API test helpers: functions deployed with boto3, a real WebSocket client, and the
events the functions record in DynamoDB."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from support import NimbusServer
from websockets.sync.client import ClientConnection, connect

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
WAIT_S = 60.0  # first invokes start Lambda workers on a possibly loaded 2-core machine

# Records every event; a message's "op" picks what else it does. The @connections client is
# built exactly as AWS samples build it.
PROBE = """
import json, os, time
import boto3
from botocore.exceptions import ClientError

table = boto3.resource("dynamodb").Table(os.environ["TABLE"])


def handler(event, context):
    ctx = event["requestContext"]
    table.put_item(Item={"id": ctx["requestId"], "connectionId": ctx["connectionId"],
                         "eventType": ctx["eventType"], "event": json.dumps(event)})
    if ctx["eventType"] == "CONNECT":
        query = event.get("queryStringParameters") or {}
        return {"statusCode": int(query.get("status", "200")), "body": query.get("why", "")}
    if ctx["eventType"] != "MESSAGE":
        return {"statusCode": 200}
    try:
        body = {} if event["isBase64Encoded"] else json.loads(event["body"] or "{}")
    except ValueError:
        body = event["body"]
    op = body.get("op") if isinstance(body, dict) else None
    if op == "boom":
        raise RuntimeError("boom")
    if op == "sleep":
        time.sleep(body["seconds"])
    if op == "echo":
        api = boto3.client("apigatewaymanagementapi",
                           endpoint_url=f"https://{ctx['domainName']}/{ctx['stage']}")
        try:
            api.post_to_connection(ConnectionId=ctx["connectionId"],
                                   Data=json.dumps({"echo": body}).encode())
        except ClientError as err:
            return {"statusCode": 500, "body": json.dumps({"error": err.response["Error"]["Code"]})}
    if op == "ask":
        job = {"connectionId": ctx["connectionId"], "domainName": ctx["domainName"],
               "stage": ctx["stage"], "question": body["question"]}
        boto3.client("lambda").invoke(FunctionName=os.environ["WORKER"], InvocationType="Event",
                                      Payload=json.dumps(job).encode())
        return {"statusCode": 200, "body": json.dumps({"status": "accepted"})}
    return {"statusCode": 200,
            "body": json.dumps({"routeKey": ctx["routeKey"], "body": body, "context": ctx})}
"""

# The asynchronous pattern's worker: answers later, through the @connections API.
WORKER = """
import json, time
import boto3


def handler(job, context):
    time.sleep(0.2)
    api = boto3.client("apigatewaymanagementapi",
                       endpoint_url=f"https://{job['domainName']}/{job['stage']}")
    api.post_to_connection(ConnectionId=job["connectionId"],
                           Data=json.dumps({"answer": job["question"].upper()}).encode())
"""

AUTHORIZER = """
def handler(event, context):
    token = (event.get("queryStringParameters") or {}).get("token")
    effect = "Allow" if token == "good" else "Deny"
    return {"principalId": "user-1",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect,
                 "Resource": event["methodArn"]}]},
            "context": {"tier": "gold"}}
"""


def zipped(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", source)
    return buf.getvalue()


def lambda_uri(function_arn: str) -> str:
    return (
        f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    )


def make_function(
    server: NimbusServer, source: str, statements: list[dict[str, Any]], env: dict[str, str]
) -> str:
    iam, lam = server.client("iam"), server.client("lambda")
    name = f"ws-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    if statements:
        policy = {"Version": "2012-10-17", "Statement": statements}
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    fn = lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role["Arn"],
        Handler="app.handler",
        Code={"ZipFile": zipped(source)},
        Timeout=30,
        Environment={"Variables": env},
    )
    return fn["FunctionArn"]


@dataclass
class ProbeApi:
    """A WebSocket API whose routes all lead to the probe function."""

    server: NimbusServer
    api_id: str
    url: str  # ws://.../_api/{apiId}/prod
    callback: str  # http://.../_api/{apiId}/prod, the @connections endpoint
    table: Any
    integration: str
    function: str

    def events(
        self, connection_id: str, until: Callable[[list[dict[str, Any]]], bool]
    ) -> list[dict[str, Any]]:
        """The events the probe recorded for a connection, once ``until`` holds (polled)."""
        deadline = time.monotonic() + WAIT_S
        while True:
            items = self.table.scan()["Items"]
            found = sorted(
                (json.loads(i["event"]) for i in items if i["connectionId"] == connection_id),
                key=lambda e: e["requestContext"]["requestTimeEpoch"],
            )
            if until(found) or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def route(self, key: str, integration: str | None = None, **extra: Any) -> str:
        v2 = self.server.client("apigatewayv2")
        target = f"integrations/{integration or self.integration}"
        return v2.create_route(ApiId=self.api_id, RouteKey=key, Target=target, **extra)["RouteId"]

    def two_way(self, route_id: str) -> None:
        v2 = self.server.client("apigatewayv2")
        v2.update_route(
            ApiId=self.api_id, RouteId=route_id, RouteResponseSelectionExpression="$default"
        )
        v2.create_route_response(ApiId=self.api_id, RouteId=route_id, RouteResponseKey="$default")


def deploy_probe(server: NimbusServer) -> ProbeApi:
    """A table, the worker and probe functions, and an API with $connect, $disconnect and a
    two-way $default route; stage ``prod``."""
    ddb = server.client("dynamodb")
    table_name = f"ws-events-{uuid.uuid4().hex[:6]}"
    ddb.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    manage = {
        "Effect": "Allow",
        "Action": "execute-api:ManageConnections",
        "Resource": "arn:aws:execute-api:us-east-1:000000000000:*/prod/POST/@connections/*",
    }
    worker = make_function(server, WORKER, [manage], {})
    statements = [
        manage,
        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"},
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": worker},
    ]
    probe = make_function(server, PROBE, statements, {"TABLE": table_name, "WORKER": worker})
    v2 = server.client("apigatewayv2")
    api = v2.create_api(
        Name="probe", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    api_id = api["ApiId"]
    integration = v2.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=lambda_uri(probe)
    )["IntegrationId"]
    v2.create_stage(ApiId=api_id, StageName="prod")
    probe_api = ProbeApi(
        server=server,
        api_id=api_id,
        url=f"{api['ApiEndpoint']}/prod",
        callback=f"{server.endpoint}/_api/{api_id}/prod",
        table=_table(server, table_name),
        integration=integration,
        function=probe,
    )
    for key in ("$connect", "$disconnect"):
        probe_api.route(key)
    probe_api.two_way(probe_api.route("$default"))
    return probe_api


def _table(server: NimbusServer, name: str) -> Any:
    import boto3

    return boto3.resource(
        "dynamodb",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).Table(name)


@pytest.fixture(scope="module")
def probe(nimbus: NimbusServer) -> ProbeApi:
    return deploy_probe(nimbus)


def management(endpoint: str) -> Any:
    """A boto3 @connections client for a stage's endpoint, as the test's own admin."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def open_ws(url: str, **kwargs: Any) -> ClientConnection:
    return connect(url, open_timeout=WAIT_S, close_timeout=5, **kwargs)


def recv_json(ws: ClientConnection) -> Any:
    return json.loads(ws.recv(timeout=WAIT_S))


def connection_id(ws: ClientConnection) -> str:
    """Ask the API who we are: an API with no matching route answers with our connection id."""
    ws.send(json.dumps({"action": "whoami-no-such-route"}))
    answer = recv_json(ws)
    return answer.get("connectionId") or answer["context"]["connectionId"]


@pytest.fixture
def bare_api(nimbus: NimbusServer) -> Iterator[tuple[str, str, str]]:
    """A WebSocket API with a stage and no routes: (api id, ws url, @connections endpoint)."""
    v2 = nimbus.client("apigatewayv2")
    api = v2.create_api(
        Name="bare", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    v2.create_stage(ApiId=api["ApiId"], StageName="dev")
    yield api["ApiId"], f"{api['ApiEndpoint']}/dev", f"{nimbus.endpoint}/_api/{api['ApiId']}/dev"
    v2.delete_api(ApiId=api["ApiId"])
