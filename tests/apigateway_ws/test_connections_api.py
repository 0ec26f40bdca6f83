"""The @connections API (boto3 ``apigatewaymanagementapi``) against live WebSocket clients."""

from __future__ import annotations

import http.client
import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed

from .conftest import WAIT_S, connection_id, management, open_ws


def _code(info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_post_get_delete(bare_api: tuple[str, str, str]) -> None:
    _, url, callback = bare_api
    api = management(callback)
    with open_ws(url, user_agent_header="nimbus-test/1.0") as ws:
        me = connection_id(ws)
        assert len(me) == 16 and me.endswith("=")

        api.post_to_connection(ConnectionId=me, Data=b'{"hello": "world"}')
        assert json.loads(ws.recv(timeout=WAIT_S)) == {"hello": "world"}
        api.post_to_connection(ConnectionId=me, Data=b"\xff\x00binary")
        assert ws.recv(timeout=WAIT_S) == b"\xff\x00binary"
        # Over the 32 KB frame size the message travels in fragments; the client sees one.
        big = "x" * (100 * 1024)
        api.post_to_connection(ConnectionId=me, Data=big.encode())
        assert ws.recv(timeout=WAIT_S) == big

        info = api.get_connection(ConnectionId=me)
        assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "nimbus-test/1.0"}
        assert info["LastActiveAt"] >= info["ConnectedAt"]

        api.delete_connection(ConnectionId=me)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT_S)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000

    with pytest.raises(ClientError) as info_gone:
        api.post_to_connection(ConnectionId=me, Data=b"late")
    assert _code(info_gone) == ("GoneException", 410)
    with pytest.raises(ClientError) as info_gone:
        api.get_connection(ConnectionId=me)
    assert _code(info_gone) == ("GoneException", 410)


def test_gone_and_too_large(bare_api: tuple[str, str, str], nimbus: Any) -> None:
    api_id, url, callback = bare_api
    api = management(callback)
    with pytest.raises(ClientError) as info:
        api.post_to_connection(ConnectionId="NoSuchConnect1=", Data=b"x")
    assert _code(info) == ("GoneException", 410)
    with open_ws(url) as ws:
        me = connection_id(ws)
        with pytest.raises(ClientError) as info:
            api.post_to_connection(ConnectionId=me, Data=b"x" * (128 * 1024 + 1))
        assert _code(info) == ("PayloadTooLargeException", 413)
        api.post_to_connection(ConnectionId=me, Data=b"x" * (128 * 1024))
        assert len(ws.recv(timeout=WAIT_S)) == 128 * 1024

        # The connection belongs to this API's stage; another stage's endpoint does not see it.
        nimbus.client("apigatewayv2").create_stage(ApiId=api_id, StageName="other")
        other = management(f"{nimbus.endpoint}/_api/{api_id}/other")
        with pytest.raises(ClientError) as info:
            other.post_to_connection(ConnectionId=me, Data=b"x")
        assert _code(info) == ("GoneException", 410)

        # The bare Nimbus endpoint finds the connection by its id.
        management(nimbus.endpoint).post_to_connection(ConnectionId=me, Data=b"direct")
        assert ws.recv(timeout=WAIT_S) == "direct"


def test_unsigned_call_is_refused(bare_api: tuple[str, str, str], nimbus: Any) -> None:
    api_id, url, _ = bare_api
    with open_ws(url) as ws:
        me = connection_id(ws)
        conn = http.client.HTTPConnection("127.0.0.1", nimbus.port, timeout=30)
        conn.request("POST", f"/_api/{api_id}/dev/@connections/{me}", body=b"hi")
        reply = conn.getresponse()
        assert reply.status == 403
        assert json.loads(reply.read()) == {"message": "Missing Authentication Token"}
        conn.close()


def test_iam_user_needs_manage_connections(bare_api: tuple[str, str, str], aws: Any) -> None:
    api_id, url, callback = bare_api
    iam = aws("iam")
    user = f"ws-user-{api_id}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=callback,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )
    with open_ws(url) as ws:
        me = connection_id(ws)
        with pytest.raises(ClientError) as info:
            client.post_to_connection(ConnectionId=me, Data=b"x")
        assert _code(info) == ("ForbiddenException", 403)
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "execute-api:ManageConnections",
                    "Resource": f"arn:aws:execute-api:us-east-1:*:{api_id}/dev/POST/@connections/*",
                }
            ],
        }
        iam.put_user_policy(UserName=user, PolicyName="ws", PolicyDocument=json.dumps(policy))
        client.post_to_connection(ConnectionId=me, Data=b"allowed")
        assert ws.recv(timeout=WAIT_S) == "allowed"
        with pytest.raises(ClientError) as info:  # GET is another resource: not allowed
            client.get_connection(ConnectionId=me)
        assert _code(info) == ("ForbiddenException", 403)
