"""Route selection and $connect IAM checks on inputs a client controls, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from nimbus.aws.errors import AwsError
from nimbus.services.apigatewayv2 import ws_auth, ws_events
from nimbus.services.apigatewayv2.authorizers import Denied
from nimbus.services.apigatewayv2.connections import Connection
from nimbus.services.apigatewayv2.ws_answers import reply_body
from nimbus.services.apigatewayv2.ws_rules import select_route_key


def test_route_selection_of_bodies_nested_too_deeply_falls_to_default() -> None:
    deep = '{"action":' * 50_000 + '"x"' + "}" * 50_000
    assert select_route_key("$request.body.action", deep) is None
    assert select_route_key("$request.body.action", '{"action": "ask"}') == "ask"
    nested = b"[" * 50_000 + b"]" * 50_000
    assert reply_body(nested) == nested


class _ExpiredSessions:
    def resolve_principal(self, access_key: str) -> Any:
        raise AwsError("ExpiredToken", "The security token included in the request is expired", 403)


def test_aws_iam_connect_with_an_expired_session_is_forbidden() -> None:
    async def send(message: dict[str, Any]) -> None:
        return None

    conn = Connection("c=", "api", "prod", "d", "h", "127.0.0.1", "", 0.0, send)
    auth = (
        "AWS4-HMAC-SHA256 Credential=ASIAEXPIRED/20240101/us-east-1/execute-api/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )
    handshake = ws_events.Handshake([("authorization", auth)], "", "80")
    request = ws_auth.ConnectRequest(conn, handshake, "r", 0, None, "arn:aws:execute-api:x")
    with pytest.raises(Denied) as info:
        ws_auth.iam_check(request, "/_api/api/prod", _ExpiredSessions())
    assert info.value.status == 403
