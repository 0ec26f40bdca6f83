"""The console's JSON API under ``/_nimbus/console/api/``: routes -> in-process provider calls.

Every call goes through a provider method exactly as the wire front would reach it, after the
request dict is validated against botocore's input shape, so bad input is a 4xx (the parser
would have refused it on the wire) rather than a KeyError deep inside a provider.
"""

from __future__ import annotations

import base64
import inspect
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from botocore import xform_name
from botocore.model import ServiceModel
from botocore.validate import ParamValidator

from nimbus.aws.context import Principal, RequestContext
from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest, HttpResponse
from nimbus.services.registry import ServiceRegistry

log = logging.getLogger("nimbus.console")

API_PREFIX = "/_nimbus/console/api/"
# Non-GET requests must carry this header: a cross-site form or fetch cannot add it without a
# CORS preflight, which the console never grants, so other web pages cannot drive the console.
CSRF_HEADER = "x-nimbus-console"

Handler = Callable[..., Awaitable[Any]]


class Params:
    """Query-string parameters with typed, validated access (errors are 400s)."""

    def __init__(self, query: dict[str, list[str]]) -> None:
        self.query = query

    def text(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        values = self.query.get(name)
        if not values or values[0] == "":
            if required:
                raise bad_request(f"The query parameter '{name}' is required.")
            return default
        return values[0]

    def number(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"The query parameter '{name}' must be an integer.") from None
        if not low <= value <= high:
            raise bad_request(f"The query parameter '{name}' must be between {low} and {high}.")
        return value


def bad_request(message: str) -> AwsError:
    return AwsError("BadRequest", message, 400)


async def json_object(request: HttpRequest, limit: int) -> dict[str, Any]:
    """A request body that must be a JSON object (empty: ``{}``)."""
    try:
        body = json.loads(await request.read(limit) or b"{}")
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def encode_token(value: Any) -> str:
    """An opaque paging token (a DynamoDB key) for the browser to hand back."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def decode_token(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        raise bad_request("The paging token is not valid.") from None


def to_json(value: Any) -> Any:
    """Provider output -> JSON-able values (datetimes as ISO 8601, bytes as base64)."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def json_response(status: int, body: Any) -> HttpResponse:
    headers = [
        ("content-type", "application/json"),
        ("cache-control", "no-store"),
        ("x-content-type-options", "nosniff"),
    ]
    return HttpResponse(status, headers, json.dumps(to_json(body)).encode())


class ConsoleApi:
    """Provider calls as the account's root principal (the console is the local admin)."""

    def __init__(self, registry: ServiceRegistry, models: dict[str, ServiceModel]) -> None:
        self.registry = registry
        self.models = models
        self._validator = ParamValidator()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        # Imported here: the handler modules use this module's helpers.
        from nimbus.console import (
            bedrock_models,
            bedrock_resources,
            bedrock_try,
            data_views,
            ml_views,
            ops_views,
        )

        for views in (ops_views, data_views, ml_views, bedrock_models, bedrock_try,
                      bedrock_resources):  # fmt: skip
            views.register(self)

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """``pattern`` like ``functions/{name}/invoke``; each ``{x}`` is one path segment."""
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self._routes.append((method, re.compile(f"^{regex}$"), handler))

    async def handle(self, request: HttpRequest) -> HttpResponse:
        tail = request.path[len(API_PREFIX) :]
        try:
            allowed = False
            for method, regex, handler in self._routes:
                found = regex.match(tail)
                if found is None:
                    continue
                allowed = True
                if method != request.method:
                    continue
                if method != "GET" and request.headers.get(CSRF_HEADER) != "1":
                    raise AwsError(
                        "Forbidden", f"Console requests must send the {CSRF_HEADER} header.", 403
                    )
                args = {k: unquote(v) for k, v in found.groupdict().items()}
                result = await handler(self, request, Params(request.query), **args)
                return result if isinstance(result, HttpResponse) else json_response(200, result)
            if allowed:
                raise AwsError("MethodNotAllowed", f"{request.method} is not allowed here.", 405)
            raise AwsError("NotFound", f"No console API at {request.path}.", 404)
        except AwsError as err:
            return json_response(err.status, {"code": err.code, "message": err.message})
        except Exception:
            log.exception("console API error in %s %s", request.method, request.path)
            body = {
                "code": "InternalError",
                "message": "Nimbus hit an internal error; see its log.",
            }
            return json_response(500, body)

    def context(self, service: str, operation: str) -> RequestContext:
        account = self.registry.account_id
        principal = Principal(arn=f"arn:aws:iam::{account}:root", account_id=account)
        return RequestContext(
            service=service,
            operation=operation,
            region=self.registry.region,
            account_id=account,
            request_id=str(uuid.uuid4()),
            principal=principal,
            base_url=self.registry.base_url,
        )

    async def call(self, service: str, operation: str, **req: Any) -> dict[str, Any]:
        """``operation`` is the AWS name (``ListObjectsV2``); ``req`` is shaped like boto3's."""
        req = {k: v for k, v in req.items() if v is not None}
        shape = self.models[service].operation_model(operation).input_shape
        if shape is not None:
            report = self._validator.validate(req, shape)
            if report.has_errors():
                raise AwsError("ValidationException", report.generate_report(), 400)
        method = getattr(self.registry.get(service), xform_name(operation))
        result = method(req, self.context(service, operation))
        if inspect.isawaitable(result):
            result = await result
        return result or {}
