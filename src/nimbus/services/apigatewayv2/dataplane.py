"""The execute-api data plane: request -> stage -> route -> throttle -> authorizer -> Lambda.

Addresses (one scheme, documented in the README): ``{base_url}/_api/{apiId}/{path}`` for the
``$default`` stage and ``{base_url}/_api/{apiId}/{stage}/{path}`` for a named stage; browsers may
also use the host ``{apiId}.execute-api.localhost:{port}``. Routes are live as soon as they are
written (as if every stage had AutoDeploy).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any, Protocol

from nimbus.aws.http import HttpRequest, HttpResponse
from nimbus.services.apigatewayv2 import cors, events
from nimbus.services.apigatewayv2.authorizers import Denied, authorize
from nimbus.services.apigatewayv2.compiled import CompiledApi, compile_api
from nimbus.services.apigatewayv2.store import ApiStore

log = logging.getLogger("nimbus.apigatewayv2")

PATH_PREFIX = "/_api/"
HOST_MARKER = ".execute-api."
_JSON = ("content-type", "application/json")


class LambdaInvoker(Protocol):
    async def invoke_function(
        self,
        name_or_arn: str,
        payload: bytes,
        *,
        invocation_type: str = "RequestResponse",
        qualifier: str | None = None,
    ) -> Any: ...


def message(status: int, text: str, extra: list[tuple[str, str]] | None = None) -> HttpResponse:
    body = json.dumps({"message": text}).encode()
    return HttpResponse(status, [_JSON, *(extra or [])], body)


def is_execute_api(request: HttpRequest) -> bool:
    return request.path.startswith(PATH_PREFIX) or HOST_MARKER in request.host


def lambda_target(uri: str) -> tuple[str, str | None]:
    """(function name or ARN, qualifier) from an integration or authorizer URI: a function ARN
    or ``arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{fnArn}/invocations``."""
    if "/functions/" in uri:
        uri = uri.split("/functions/", 1)[1].removesuffix("/invocations")
    parts = uri.split(":")
    if uri.startswith("arn:") and len(parts) == 8:
        return ":".join(parts[:7]), parts[7]
    return uri, None


class DataPlane:
    def __init__(
        self,
        store: ApiStore,
        account_id: str,
        lambdas: Callable[[], LambdaInvoker | None],
    ) -> None:
        self.store = store
        self.account_id = account_id
        self.lambdas = lambdas  # a getter: the Lambda provider is built lazily by the registry
        self._cache: dict[str, CompiledApi | None] = {}
        self._running: set[asyncio.Future[Any]] = set()  # invocations that outlived a timeout
        store.listeners.append(self.invalidate)
        self._id_prefix = base64.b32encode(os.urandom(5)).decode()[:6]
        self._counter = 0

    def invalidate(self, api_id: str) -> None:
        self._cache.pop(api_id, None)

    def compiled(self, api_id: str) -> CompiledApi | None:
        if api_id in self._cache:
            return self._cache[api_id]
        found = self._cache[api_id] = compile_api(self.store, api_id)
        return found

    def websocket(self, api_id: str) -> bool:
        api = self.compiled(api_id)
        return api is not None and api.websocket

    def outlive(self, task: asyncio.Future[Any]) -> None:
        """Keep an invocation that outlived its integration timeout until it ends."""
        self._running.add(task)
        task.add_done_callback(_forget(self._running))

    def request_id(self) -> str:
        # Shaped like AWS's ("JKJaXmPLvHcESHA="): short, unique per process run.
        self._counter += 1
        return f"{self._id_prefix}{self._counter:09X}="

    async def handle(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(PATH_PREFIX):
            api_id, _, rest = request.path[len(PATH_PREFIX) :].partition("/")
            path = "/" + rest
        else:
            api_id = request.host.split(HOST_MARKER, 1)[0]
            path = request.path or "/"
        api = self.compiled(api_id)
        if api is None:
            return message(404, "Not Found")
        if api.websocket:
            # Plain HTTP to a WebSocket API: only signed @connections calls are served.
            text = "Missing Authentication Token" if "/@connections" in path else "Forbidden"
            return message(403, text)
        staged = api.stage_for(path)
        if staged is None:
            return message(404, "Not Found")
        stage, route_path, prefix = staged
        origin = request.headers.get("origin")
        if (
            api.cors is not None
            and origin
            and request.method == "OPTIONS"
            and "access-control-request-method" in request.headers
        ):
            headers = cors.preflight(
                api.cors,
                origin,
                request.headers["access-control-request-method"],
                request.headers.get("access-control-request-headers", ""),
            )
            return HttpResponse(204, headers, b"")
        response = await self._serve(request, api, stage, route_path, prefix, api_id)
        if api.cors is not None and origin:
            extra = cors.response_headers(api.cors, origin)
            if extra:
                names = {name for name, _ in extra}
                response.headers = [h for h in response.headers if h[0].lower() not in names]
                response.headers.extend(extra)
        return response

    async def _serve(
        self,
        request: HttpRequest,
        api: CompiledApi,
        stage: dict[str, Any],
        route_path: str,
        prefix: str,
        api_id: str,
    ) -> HttpResponse:
        request_id = self.request_id()
        extra = [("apigw-requestid", request_id)]
        found = api.routes.match(request.method, route_path)
        if found is None:
            return message(404, "Not Found", extra)
        route, params = found
        bucket = api.bucket(stage, route.route_key)
        if bucket is not None and not bucket.take():
            return message(429, "Too Many Requests", extra)
        target = route.route.get("Target") or ""
        integration = api.integrations.get(target.removeprefix("integrations/"))
        if integration is None:
            return message(404, "Not Found", extra)
        body = await request.read()
        inv = events.Invocation(
            api_id=api_id,
            account_id=self.account_id,
            stage=stage["StageName"],
            route_key=route.route_key,
            resource_path=route.path or route.route_key,
            method=request.method,
            raw_path=prefix + route_path,
            route_path=route_path,
            query_string=request.query_string,
            headers=_forwarded(request),
            body=body,
            path_parameters=params,
            stage_variables=stage.get("StageVariables") or None,
            domain_name=request.host or f"{api_id}.execute-api.localhost",
            source_ip=request.client_ip,
            request_id=request_id,
            epoch_ms=int(time.time() * 1000),
        )
        authorizer_id = route.route.get("AuthorizerId")
        auth_type = route.route.get("AuthorizationType") or "NONE"
        if auth_type in ("JWT", "CUSTOM") and authorizer_id:
            authorizer = api.authorizers.get(authorizer_id)
            if authorizer is None:
                return message(500, "Internal Server Error", extra)
            try:
                inv.authorizer = await authorize(
                    authorizer, route.route, inv, api.jwt_secret, self.lambdas
                )
            except Denied as denied:
                return message(denied.status, denied.text, extra)
        return await self._integrate(integration, inv, extra)

    async def _integrate(
        self, integration: dict[str, Any], inv: events.Invocation, extra: list[tuple[str, str]]
    ) -> HttpResponse:
        if integration.get("IntegrationType") != "AWS_PROXY":
            return message(500, "Internal Server Error", extra)
        lambdas = self.lambdas()
        if lambdas is None:
            log.warning("HTTP API %s: the Lambda service is not available", inv.api_id)
            return message(500, "Internal Server Error", extra)
        v1 = integration.get("PayloadFormatVersion") == "1.0"
        event = events.event_v1(inv) if v1 else events.event_v2(inv)
        name, qualifier = lambda_target(integration.get("IntegrationUri") or "")
        timeout = (integration.get("TimeoutInMillis") or 30000) / 1000
        # As on AWS, an integration timeout does not stop the function: the invocation runs
        # on as its own task (cancelling it would strand a busy Lambda worker).
        task = asyncio.ensure_future(
            lambdas.invoke_function(name, json.dumps(event).encode(), qualifier=qualifier)
        )
        done, _ = await asyncio.wait((task,), timeout=timeout)
        if not done:
            self.outlive(task)
            return message(503, "Service Unavailable", extra)
        try:
            result = task.result()
        except Exception as err:  # a missing function is a 500 on AWS too
            if getattr(err, "code", "") == "RequestTooLargeException":
                # The event is over Lambda's 6 MB (a ~4.5 MB binary body, base64-encoded).
                return message(413, "Request Entity Too Large", extra)
            log.warning("HTTP API %s: invoking %s failed: %s", inv.api_id, name, err)
            return message(500, "Internal Server Error", extra)
        if result.function_error:
            return message(500, "Internal Server Error", extra)
        try:
            status, headers, body = (events.response_v1 if v1 else events.response_v2)(
                result.payload
            )
        except events.BadLambdaResponse as bad:
            log.warning("HTTP API %s: %s: %s", inv.api_id, name, bad)
            return message(500, "Internal Server Error", extra)
        headers.extend(extra)
        return HttpResponse(status, headers, body)


def _forget(running: set[asyncio.Future[Any]]) -> Callable[[asyncio.Future[Any]], None]:
    def done(task: asyncio.Future[Any]) -> None:
        running.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it as never awaited

    return done


def _forwarded(request: HttpRequest) -> dict[str, str]:
    """The headers a function sees: the client's plus API Gateway's forwarding headers."""
    headers = dict(request.headers)
    headers.setdefault("x-forwarded-for", request.client_ip)
    headers.setdefault("x-forwarded-proto", "http")
    port = request.host.rpartition(":")[2] if ":" in request.host else "80"
    headers.setdefault("x-forwarded-port", port)
    return headers
