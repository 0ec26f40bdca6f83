"""Connections through Lambda integrations: the events functions get, route selection,
two-way routes, errors the client sees, the $connect authorizer, and the asynchronous
request/response pattern (ack at once, a worker function posts the answer later)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from websockets.exceptions import ConnectionClosed, InvalidStatus

from .conftest import (
    AUTHORIZER,
    WAIT_S,
    ProbeApi,
    lambda_uri,
    make_function,
    management,
    open_ws,
    recv_json,
)


def _of(kind: str) -> Any:
    return lambda events: [e for e in events if e["requestContext"]["eventType"] == kind]


def test_connect_message_disconnect_events(probe: ProbeApi) -> None:
    with open_ws(
        probe.url + "?room=blue&room=red&x=1",
        additional_headers={"X-Custom": "yes"},
        user_agent_header="probe-agent",
    ) as ws:
        ws.send(json.dumps({"action": "hello", "n": 1}))
        reply = recv_json(ws)
        me = reply["context"]["connectionId"]
    events = probe.events(me, lambda found: bool(_of("DISCONNECT")(found)))
    connect, message, disconnect = (_of(k)(events)[0] for k in ("CONNECT", "MESSAGE", "DISCONNECT"))

    ctx = connect["requestContext"]
    assert (ctx["routeKey"], ctx["eventType"], ctx["messageDirection"]) == (
        "$connect",
        "CONNECT",
        "IN",
    )
    assert ctx["apiId"] == probe.api_id and ctx["stage"] == "prod"
    assert ctx["connectionId"] == me and me.endswith("=")
    assert ctx["domainName"].startswith(f"{probe.api_id}.execute-api.")
    assert ctx["identity"] == {"userAgent": "probe-agent", "sourceIp": "127.0.0.1"}
    assert ctx["requestTimeEpoch"] >= ctx["connectedAt"]
    assert connect["headers"]["X-Custom"] == "yes"
    assert connect["multiValueHeaders"]["X-Custom"] == ["yes"]
    assert "Sec-WebSocket-Key" in connect["headers"]
    assert connect["queryStringParameters"] == {"room": "red", "x": "1"}
    assert connect["multiValueQueryStringParameters"]["room"] == ["blue", "red"]
    assert connect["isBase64Encoded"] is False

    ctx = message["requestContext"]
    assert (ctx["routeKey"], ctx["eventType"]) == ("$default", "MESSAGE")
    assert ctx["messageId"] and ctx["connectionId"] == me
    assert ctx["connectedAt"] == connect["requestContext"]["connectedAt"]
    assert json.loads(message["body"]) == {"action": "hello", "n": 1}
    assert message["isBase64Encoded"] is False
    assert "headers" not in message and "queryStringParameters" not in message

    ctx = disconnect["requestContext"]
    assert (ctx["routeKey"], ctx["eventType"]) == ("$disconnect", "DISCONNECT")
    assert ctx["disconnectStatusCode"] == 1000
    assert "disconnectReason" in ctx


def test_route_selection(probe: ProbeApi) -> None:
    probe.two_way(probe.route("sendmessage"))
    probe.two_way(probe.route("nested.key"))
    with open_ws(probe.url) as ws:
        ws.send(json.dumps({"action": "sendmessage", "data": "hi"}))
        assert recv_json(ws)["routeKey"] == "sendmessage"
        ws.send(json.dumps({"action": "unknown"}))
        assert recv_json(ws)["routeKey"] == "$default"
        ws.send("not json at all")
        assert recv_json(ws)["routeKey"] == "$default"
        ws.send(b"\x00\x01 binary")
        assert recv_json(ws)["routeKey"] == "$default"


def test_binary_message_event(probe: ProbeApi) -> None:
    with open_ws(probe.url) as ws:
        ws.send(b"\x00\x01 binary")
        me = recv_json(ws)["context"]["connectionId"]
    messages = probe.events(me, lambda found: bool(_of("MESSAGE")(found)))
    message = _of("MESSAGE")(messages)[0]
    assert message["isBase64Encoded"] is True and message["body"] == "AAEgYmluYXJ5"


def test_no_route_and_no_default(nimbus: Any, bare_api: tuple[str, str, str]) -> None:
    _, url, _ = bare_api
    with open_ws(url) as ws:
        ws.send(json.dumps({"action": "missing"}))
        answer = recv_json(ws)
    assert answer["message"] == "Forbidden"
    assert answer["connectionId"].endswith("=") and answer["requestId"]


def test_one_way_route_sends_nothing_but_errors(probe: ProbeApi) -> None:
    probe.route("quiet")
    with open_ws(probe.url) as ws:
        ws.send(json.dumps({"action": "quiet"}))
        ws.send(json.dumps({"action": "quiet", "op": "boom"}))
        error = recv_json(ws)
        assert error["message"] == "Internal server error" and error["connectionId"]
        # The one-way success produced nothing: the next frame is the two-way reply.
        ws.send(json.dumps({"action": "x"}))
        assert recv_json(ws)["routeKey"] == "$default"


def test_integration_timeout(probe: ProbeApi, nimbus: Any) -> None:
    v2 = nimbus.client("apigatewayv2")
    short = v2.create_integration(
        ApiId=probe.api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=lambda_uri(probe.function),
        TimeoutInMillis=500,
    )["IntegrationId"]
    probe.route("slow", integration=short)
    with open_ws(probe.url) as ws:
        ws.send(json.dumps({"action": "slow", "op": "sleep", "seconds": 3}))
        answer = recv_json(ws)
    assert answer["message"] == "Endpoint request timed out"


def test_connect_refused_by_function(probe: ProbeApi) -> None:
    with pytest.raises(InvalidStatus) as info:
        open_ws(probe.url + "?status=403&why=nope")
    assert info.value.response.status_code == 403
    assert info.value.response.body == b"nope"
    with pytest.raises(InvalidStatus) as info:
        open_ws(probe.url.rsplit("/", 1)[0] + "/nostage")
    assert info.value.response.status_code == 403


def test_post_from_lambda_with_aws_sample_endpoint(probe: ProbeApi) -> None:
    probe.route("echo")
    with open_ws(probe.url) as ws:
        ws.send(json.dumps({"action": "echo", "op": "echo", "text": "héllo"}))
        assert recv_json(ws) == {"echo": {"action": "echo", "op": "echo", "text": "héllo"}}


def test_function_role_needs_manage_connections(probe: ProbeApi, nimbus: Any) -> None:
    from .conftest import PROBE

    table = probe.table.name
    put = {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"}
    unprivileged = make_function(nimbus, PROBE, [put], {"TABLE": table, "WORKER": "-"})
    v2 = nimbus.client("apigatewayv2")
    integration = v2.create_integration(
        ApiId=probe.api_id, IntegrationType="AWS_PROXY", IntegrationUri=lambda_uri(unprivileged)
    )["IntegrationId"]
    probe.two_way(probe.route("guarded", integration=integration))
    with open_ws(probe.url) as ws:
        ws.send(json.dumps({"action": "guarded", "op": "echo"}))
        assert recv_json(ws) == {"error": "ForbiddenException"}


def test_async_request_response(probe: ProbeApi) -> None:
    probe.two_way(probe.route("ask"))
    with open_ws(probe.url) as ws:
        ws.send(json.dumps({"action": "ask", "op": "ask", "question": "why"}))
        assert recv_json(ws) == {"status": "accepted"}
        assert recv_json(ws) == {"answer": "WHY"}


def test_request_authorizer_on_connect(nimbus: Any, probe: ProbeApi) -> None:
    v2 = nimbus.client("apigatewayv2")
    api = v2.create_api(
        Name="guarded", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    api_id = api["ApiId"]
    function = make_function(nimbus, AUTHORIZER, [], {})
    authorizer = v2.create_authorizer(
        ApiId=api_id,
        AuthorizerType="REQUEST",
        AuthorizerUri=lambda_uri(function),
        IdentitySource=["route.request.querystring.token"],
        Name="token",
    )["AuthorizerId"]
    integration = v2.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=lambda_uri(probe.function)
    )["IntegrationId"]
    target = f"integrations/{integration}"
    v2.create_route(
        ApiId=api_id,
        RouteKey="$connect",
        Target=target,
        AuthorizationType="CUSTOM",
        AuthorizerId=authorizer,
    )
    route = v2.create_route(
        ApiId=api_id,
        RouteKey="$default",
        Target=target,
        RouteResponseSelectionExpression="$default",
    )["RouteId"]
    v2.create_route_response(ApiId=api_id, RouteId=route, RouteResponseKey="$default")
    v2.create_stage(ApiId=api_id, StageName="prod")
    url = f"{api['ApiEndpoint']}/prod"

    for query, status in (("", 401), ("?token=bad", 403)):
        with pytest.raises(InvalidStatus) as info:
            open_ws(url + query)
        assert info.value.response.status_code == status
    with open_ws(url + "?token=good") as ws:
        ws.send(json.dumps({"action": "who"}))
        context = recv_json(ws)["context"]
    assert context["authorizer"]["principalId"] == "user-1"
    assert context["authorizer"]["tier"] == "gold"


def test_delete_connection_runs_disconnect(probe: ProbeApi) -> None:
    with open_ws(probe.url) as ws:
        ws.send(json.dumps({"action": "who"}))
        me = recv_json(ws)["context"]["connectionId"]
        management(probe.callback).delete_connection(ConnectionId=me)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=WAIT_S)
    events = probe.events(me, lambda found: bool(_of("DISCONNECT")(found)))
    ctx = _of("DISCONNECT")(events)[0]["requestContext"]
    assert ctx["disconnectStatusCode"] == 1000
    assert ctx["disconnectReason"] == "Connection Closed Normally"


def test_aws_iam_on_connect(nimbus: Any, aws: Any) -> None:
    v2, iam = aws("apigatewayv2"), aws("iam")
    api = v2.create_api(
        Name="iam", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    api_id = api["ApiId"]
    v2.create_route(ApiId=api_id, RouteKey="$connect", AuthorizationType="AWS_IAM")
    v2.create_stage(ApiId=api_id, StageName="prod")
    url = f"{api['ApiEndpoint']}/prod"
    user = f"ws-{api_id}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]

    def signed() -> str:  # a SigV4 presigned URL, as the AWS SDKs sign a WebSocket upgrade
        http_url = "http" + url[2:]
        request = AWSRequest(method="GET", url=http_url)
        credentials = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        SigV4QueryAuth(credentials, "execute-api", "us-east-1", expires=300).add_auth(request)
        return "ws" + request.url[4:]

    with pytest.raises(InvalidStatus) as info:
        open_ws(url)
    assert info.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as info:
        open_ws(signed())
    assert info.value.response.status_code == 403
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": f"arn:aws:execute-api:us-east-1:*:{api_id}/prod/$connect",
            }
        ],
    }
    iam.put_user_policy(UserName=user, PolicyName="ws", PolicyDocument=json.dumps(policy))
    with open_ws(signed()) as ws:
        ws.send(json.dumps({"action": "x"}))
        assert recv_json(ws)["message"] == "Forbidden"  # connected; no route for messages
