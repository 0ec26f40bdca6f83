"""Route authorizers: JWT (claims checked locally) and REQUEST Lambda authorizers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nimbus.services.apigatewayv2 import events, jwt

if TYPE_CHECKING:
    from nimbus.services.apigatewayv2.dataplane import LambdaInvoker

_AUTHORIZER_TIMEOUT = 10.0  # AWS caps Lambda authorizers at 10 s


class Denied(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def identity_values(sources: list[str], inv: events.Invocation) -> list[str] | None:
    """Values of ``$request.header.X`` / ``$request.querystring.x`` / ``$context.x`` /
    ``$stageVariables.x`` sources; None when one is missing (AWS answers 401)."""
    values: list[str] = []
    query: dict[str, str] | None = None
    for source in sources:
        for item in source.split(","):
            item = item.strip()
            value: str | None = None
            if item.startswith("$request.header."):
                value = inv.headers.get(item[len("$request.header.") :].lower())
            elif item.startswith("$request.querystring."):
                if query is None:
                    query = events.event_v2(inv).get("queryStringParameters") or {}
                value = query.get(item[len("$request.querystring.") :])
            elif item.startswith("$stageVariables."):
                value = (inv.stage_variables or {}).get(item[len("$stageVariables.") :])
            elif item.startswith("$context."):
                value = {"routeKey": inv.route_key, "stage": inv.stage}.get(item[9:])
            if not value:
                return None
            values.append(value)
    return values


async def authorize(
    authorizer: dict[str, Any],
    route: dict[str, Any],
    inv: events.Invocation,
    secret: str | None,
    lambdas: Callable[[], LambdaInvoker | None],
) -> dict[str, Any]:
    """The ``requestContext.authorizer`` value, or raise :class:`Denied` (401/403/500)."""
    kind = authorizer.get("AuthorizerType")
    sources = authorizer.get("IdentitySource") or []
    if kind == "JWT":
        values = identity_values(sources or ["$request.header.Authorization"], inv)
        if not values:
            raise Denied(401, "Unauthorized")
        config = authorizer.get("JwtConfiguration") or {}
        try:
            return jwt.check(
                values[0],
                config.get("Issuer"),
                config.get("Audience") or [],
                route.get("AuthorizationScopes") or [],
                secret=secret,
            )
        except jwt.Unauthorized:
            raise Denied(401, "Unauthorized") from None
        except jwt.Forbidden:
            raise Denied(403, "Forbidden") from None
    values = identity_values(sources, inv) if sources else []
    if values is None:
        raise Denied(401, "Unauthorized")
    return await _lambda_authorizer(authorizer, inv, values, lambdas)


async def _lambda_authorizer(
    authorizer: dict[str, Any],
    inv: events.Invocation,
    values: list[str],
    lambdas: Callable[[], LambdaInvoker | None],
) -> dict[str, Any]:
    from nimbus.services.apigatewayv2.dataplane import lambda_target

    invoker = lambdas()
    if invoker is None:
        raise Denied(500, "Internal Server Error")
    v2 = authorizer.get("AuthorizerPayloadFormatVersion", "2.0") == "2.0"
    route_arn = (
        f"arn:aws:execute-api:{_region(authorizer)}:{inv.account_id}:{inv.api_id}/"
        f"{inv.stage}/{inv.method}{inv.route_path}"
    )
    if v2:
        event = events.event_v2(inv)
        event = {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": route_arn,
            "identitySource": values,
            **{k: v for k, v in event.items() if k != "version"},
        }
    else:
        event = events.event_v1(inv)
        event.update(
            {"type": "REQUEST", "methodArn": route_arn, "identitySource": ",".join(values)}
        )
    name, qualifier = lambda_target(authorizer.get("AuthorizerUri") or "")
    try:
        result = await asyncio.wait_for(
            invoker.invoke_function(name, json.dumps(event).encode(), qualifier=qualifier),
            _AUTHORIZER_TIMEOUT,
        )
        answer = json.loads(result.payload) if not result.function_error else None
    except Exception:
        answer = None
    if not isinstance(answer, dict):
        raise Denied(500, "Internal Server Error")
    context = answer.get("context") or {}
    if v2 and authorizer.get("EnableSimpleResponses"):
        if answer.get("isAuthorized") is not True:
            raise Denied(403, "Forbidden")
        return {"lambda": context}
    if not policy_allows(answer.get("policyDocument")):
        raise Denied(403, "Forbidden")
    found = {"lambda": context} if v2 else dict(context)
    if "principalId" in answer:
        found["principalId"] = answer["principalId"]
    return found


def _region(authorizer: dict[str, Any]) -> str:
    uri = authorizer.get("AuthorizerUri") or ""
    parts = uri.split(":")
    return parts[3] if uri.startswith("arn:") and len(parts) > 3 and parts[3] else "us-east-1"


def policy_allows(policy: Any) -> bool:
    """IAM-policy answers: allowed when some statement allows execute-api:Invoke and none
    denies it (resources are not matched; an authorizer answers for the request at hand)."""
    if not isinstance(policy, dict):
        return False
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict):
            continue
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        if not any(a in ("execute-api:Invoke", "execute-api:*", "*") for a in actions):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed
