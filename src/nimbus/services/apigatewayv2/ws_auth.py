"""Authorization of a WebSocket connection on its ``$connect`` route: a Lambda REQUEST
authorizer (identity sources ``route.request.header.X`` / ``route.request.querystring.X``)
or AWS_IAM (a SigV4-signed upgrade request whose principal may ``execute-api:Invoke``)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from nimbus.aws.auth import read_signature
from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest
from nimbus.services.apigatewayv2 import ws_events
from nimbus.services.apigatewayv2.authorizers import Denied, policy_allows
from nimbus.services.apigatewayv2.connections import Connection

if TYPE_CHECKING:
    from nimbus.services.apigatewayv2.dataplane import LambdaInvoker

_AUTHORIZER_TIMEOUT = 10.0  # AWS caps Lambda authorizers at 10 s


@dataclass(slots=True)
class ConnectRequest:
    conn: Connection
    handshake: ws_events.Handshake
    request_id: str
    now_ms: int
    stage_variables: dict[str, str] | None
    method_arn: str  # arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/$connect


def identity_values(sources: list[str], req: ConnectRequest) -> list[str] | None:
    """The identity source values, or None when one is missing (AWS answers 401)."""
    query = dict(parse_qsl(req.handshake.query_string, keep_blank_values=True))
    context = {
        "routeKey": "$connect",
        "stage": req.conn.stage,
        "connectionId": req.conn.connection_id,
        "apiId": req.conn.api_id,
    }
    values: list[str] = []
    for source in sources:
        for item in source.split(","):
            item = item.strip().removeprefix("$")
            value: str | None = None
            if item.startswith("route.request.header."):
                value = req.handshake.header(item[len("route.request.header.") :])
            elif item.startswith("route.request.querystring."):
                value = query.get(item[len("route.request.querystring.") :])
            elif item.startswith("stageVariables."):
                value = (req.stage_variables or {}).get(item[len("stageVariables.") :])
            elif item.startswith("context."):
                value = context.get(item[len("context.") :])
            if not value:
                return None
            values.append(value)
    return values


async def lambda_authorizer(
    authorizer: dict[str, Any], req: ConnectRequest, invoker: LambdaInvoker | None
) -> dict[str, Any]:
    """The connection's ``requestContext.authorizer``, or raise :class:`Denied`."""
    from nimbus.services.apigatewayv2.dataplane import lambda_target

    if identity_values(authorizer.get("IdentitySource") or [], req) is None:
        raise Denied(401, "Unauthorized")
    if invoker is None:
        raise Denied(500, "Internal server error")
    event = ws_events.authorizer_event(
        req.conn, req.handshake, req.request_id, req.now_ms, req.method_arn, req.stage_variables
    )
    name, qualifier = lambda_target(authorizer.get("AuthorizerUri") or "")
    began = time.perf_counter()
    try:
        result = await asyncio.wait_for(
            invoker.invoke_function(name, json.dumps(event).encode(), qualifier=qualifier),
            _AUTHORIZER_TIMEOUT,
        )
        answer = json.loads(result.payload) if not result.function_error else None
    except Exception:  # a missing, failing or slow authorizer is a 500, as on AWS
        answer = None
    if not isinstance(answer, dict):
        raise Denied(500, "Internal server error")
    if not policy_allows(answer.get("policyDocument")):
        raise Denied(403, "Forbidden")
    context = answer.get("context")
    found: dict[str, Any] = dict(context) if isinstance(context, dict) else {}
    found["principalId"] = answer.get("principalId", "")
    found["integrationLatency"] = int((time.perf_counter() - began) * 1000)
    return found


def iam_check(req: ConnectRequest, path: str, iam: Any) -> None:
    """AWS_IAM on $connect: the upgrade request must be SigV4-signed (headers or query) by a
    principal allowed ``execute-api:Invoke`` on the route's ARN."""
    hs = req.handshake
    request = HttpRequest(
        method="GET",
        path=path,
        query_string=hs.query_string,
        headers={name.lower(): value for name, value in hs.headers},
        body=None,  # type: ignore[arg-type]  # only the signature is read
    )
    try:
        signature = read_signature(request)
    except AwsError:
        signature = None
    if signature is None or not signature.access_key:
        raise Denied(403, "Forbidden")
    try:
        principal = iam.resolve_principal(signature.access_key)
    except AwsError:  # an expired session's key: refused, like an unsigned upgrade
        raise Denied(403, "Forbidden") from None
    if principal is None or principal.admin:
        return
    conditions = {"aws:SourceIp": req.conn.source_ip}
    if iam.authorize(principal, "execute-api:Invoke", [req.method_arn], conditions):
        raise Denied(403, "Forbidden")
