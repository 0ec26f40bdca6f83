"""What a WebSocket API accepts in its configuration, and its route selection expressions."""

from __future__ import annotations

import json
import re
from typing import Any

from nimbus.aws.errors import AwsError

SPECIAL_ROUTES = ("$connect", "$disconnect", "$default")
INTEGRATION_TIMEOUT_MS = 29000  # API Gateway's WebSocket integration timeout; not extendable
_BODY_REF = re.compile(r"\$\{request\.body\.([^}]+)\}|\$request\.body\.([A-Za-z0-9_\-.]+)")
_IDENTITY = re.compile(
    r"^\$?(route\.request\.header\.[^\s,]+|route\.request\.querystring\.[^\s,]+|"
    r"stageVariables\.[^\s,]+|context\.[^\s,]+)$"
)


def _bad(text: str) -> AwsError:
    return AwsError("BadRequestException", text, 400)


def check_selection_expression(expression: str | None) -> None:
    if not expression or not _BODY_REF.search(expression):
        raise _bad(
            "A WebSocket API needs RouteSelectionExpression, e.g. $request.body.action "
            "(a ${request.body.x} template is allowed too)."
        )


def check_route(doc: dict[str, Any]) -> None:
    key = doc.get("RouteKey") or ""
    if not key or (key.startswith("$") and key not in SPECIAL_ROUTES):
        raise _bad(
            f"Invalid RouteKey '{key}': use $connect, $disconnect, $default or a custom key "
            "that does not start with $."
        )
    auth = doc.get("AuthorizationType", "NONE")
    if auth not in ("NONE", "AWS_IAM", "CUSTOM"):
        raise _bad(
            f"AuthorizationType {auth} is not valid for WebSocket APIs (NONE, AWS_IAM, CUSTOM)."
        )
    if auth != "NONE" and key != "$connect":
        raise _bad("Currently, authorization is restricted to the $connect route only")
    expression = doc.get("RouteResponseSelectionExpression")
    if expression is not None and expression != "$default":
        raise _bad("RouteResponseSelectionExpression must be $default for Lambda proxy routes.")


def check_integration(doc: dict[str, Any]) -> None:
    kind = doc.get("IntegrationType")
    if kind not in ("AWS_PROXY", "MOCK"):
        raise _bad(
            f"IntegrationType {kind} is not supported by Nimbus for WebSocket APIs; "
            "use AWS_PROXY (Lambda) or MOCK."
        )
    if kind == "AWS_PROXY" and not doc.get("IntegrationUri"):
        raise _bad("IntegrationUri is required for an AWS_PROXY integration.")
    if doc.get("PayloadFormatVersion", "1.0") != "1.0":
        raise _bad("WebSocket APIs only support PayloadFormatVersion 1.0.")
    timeout = doc.get("TimeoutInMillis", INTEGRATION_TIMEOUT_MS)
    if not 50 <= timeout <= INTEGRATION_TIMEOUT_MS:
        raise _bad(f"TimeoutInMillis must be between 50 and {INTEGRATION_TIMEOUT_MS}.")


def check_authorizer(doc: dict[str, Any]) -> None:
    if doc.get("AuthorizerType") != "REQUEST":
        raise _bad("WebSocket APIs support AuthorizerType REQUEST only.")
    if not doc.get("AuthorizerUri"):
        raise _bad("A REQUEST authorizer needs AuthorizerUri.")
    if doc.get("EnableSimpleResponses") or doc.get("AuthorizerPayloadFormatVersion"):
        raise _bad(
            "EnableSimpleResponses and AuthorizerPayloadFormatVersion are for HTTP APIs; "
            "a WebSocket authorizer answers with an IAM policy."
        )
    for source in doc.get("IdentitySource") or []:
        if not _IDENTITY.match(source.strip()):
            raise _bad(
                f"Invalid identity source '{source}': use route.request.header.NAME, "
                "route.request.querystring.NAME, stageVariables.NAME or context.NAME."
            )


def select_route_key(expression: str, body: str | None) -> str | None:
    """The route key a message selects, or None when the body does not yield one ($default)."""
    if body is None:
        return None
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the decoder goes
        return None
    missing = False

    def value(found: re.Match[str]) -> str:
        nonlocal missing
        node: Any = doc
        for part in (found.group(1) or found.group(2)).split("."):
            if not isinstance(node, dict) or part not in node:
                missing = True
                return ""
            node = node[part]
        if isinstance(node, bool) or not isinstance(node, str | int | float):
            missing = True
            return ""
        return str(node)

    key = _BODY_REF.sub(value, expression)
    return None if missing or not key else key
