"""The WebSocket data plane: handshake -> $connect (authorizer, integration) -> messages routed
by the API's RouteSelectionExpression -> $disconnect, with API Gateway's timeouts.

Addresses: ``ws://{host}:{port}/_api/{apiId}/{stage}``, or ``ws://{apiId}.execute-api.localhost:
{port}/{stage}``. The @connections API of a stage is the same address over http:
``http://{host}:{port}/_api/{apiId}/{stage}/@connections/{connectionId}``. Events carry
``domainName = {apiId}.execute-api.localhost:{port}`` so that the AWS sample construction
``https://{domainName}/{stage}`` names the API; Lambda workers map it to Nimbus.

Test knobs (environment of the server): ``NIMBUS_WS_IDLE_TIMEOUT_S`` (default 600) and
``NIMBUS_WS_MAX_DURATION_S`` (default 7200).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nimbus.services.apigatewayv2 import ws_auth, ws_events
from nimbus.services.apigatewayv2.authorizers import Denied
from nimbus.services.apigatewayv2.compiled import CompiledApi
from nimbus.services.apigatewayv2.connections import REASONS, Connection, Connections, Gone
from nimbus.services.apigatewayv2.dataplane import (
    HOST_MARKER,
    PATH_PREFIX,
    DataPlane,
    lambda_target,
)
from nimbus.services.apigatewayv2.ws_answers import (
    Refused,
    as_json,
    connect_answer,
    mock_connect,
    refused,
    reply_body,
)
from nimbus.services.apigatewayv2.ws_rules import INTEGRATION_TIMEOUT_MS, select_route_key

log = logging.getLogger("nimbus.apigatewayv2.websocket")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


MESSAGES_IN_FLIGHT = 64  # per connection


@dataclass(slots=True)
class Outcome:
    """An integration's answer: ``payload`` when it ran, else ``error`` says what went wrong."""

    payload: bytes | None = None
    error: str | None = None  # "Internal server error" | "Endpoint request timed out"


class WebSocketPlane:
    def __init__(
        self,
        plane: DataPlane,
        connections: Connections,
        region: str,
        iam: Callable[[], Any],
    ) -> None:
        self.plane = plane
        self.connections = connections
        self.region = region
        self.iam = iam  # a getter: IAM is only needed for AWS_IAM routes
        self.idle_timeout = float(os.environ.get("NIMBUS_WS_IDLE_TIMEOUT_S", "600"))
        self.max_duration = float(os.environ.get("NIMBUS_WS_MAX_DURATION_S", "7200"))
        self._tasks: set[asyncio.Task[Any]] = set()
        self._open: set[Connection] = set()  # accepted, $disconnect not yet done

    # -- the connection's life -------------------------------------------------------------
    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        port = str((scope.get("server") or ("", 80))[1])
        handshake = ws_events.Handshake(headers, scope["query_string"].decode("latin-1"), port)
        host = handshake.header("host") or ""
        try:
            api, stage = self._target(path.split("?", 1)[0], host)
        except Refused as refusal:
            await self._refuse(scope, send, refusal)
            return
        api_id = api.api["ApiId"]
        now = time.time()
        conn = Connection(
            connection_id=self.connections.new_id(),
            api_id=api_id,
            stage=stage["StageName"],
            domain_name=host if HOST_MARKER in host else f"{api_id}.execute-api.localhost:{port}",
            host=host,
            source_ip=(scope.get("client") or ("", 0))[0],
            user_agent=handshake.header("user-agent") or "",
            connected_at=now,
            send=send,
            last_active=now,
        )
        try:
            accept = await self._connect(api, stage, conn, handshake, path)
        except Refused as refusal:
            await self._refuse(scope, send, refusal)
            return
        try:
            await send(accept)
        except OSError:
            return  # the client left during $connect: never connected, so no $disconnect
        self.connections.add(conn)
        self._open.add(conn)
        self._schedule(conn)
        try:
            code, reason = await self._pump(conn, receive)
            self.connections.remove(conn)
            await self._disconnect(conn, code, reason)
        finally:
            self.connections.remove(conn)
            self._open.discard(conn)

    async def drain(self, timeout: float) -> None:
        """Server shutdown: end every connection with 1001 "Going away" and wait (bounded) for
        their $disconnect functions, while those can still call Nimbus."""
        for conn in list(self._open):
            await conn.close(1001, "Going away")
        deadline = time.monotonic() + timeout
        while self._open and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    def _target(self, path: str, host: str) -> tuple[CompiledApi, dict[str, Any]]:
        if path.startswith(PATH_PREFIX):
            api_id, _, rest = path[len(PATH_PREFIX) :].partition("/")
        elif HOST_MARKER in host:
            api_id, rest = host.split(HOST_MARKER, 1)[0], path.lstrip("/")
        else:
            raise refused(404, "Not Found")
        api = self.plane.compiled(api_id)
        if api is None or not api.websocket:
            raise refused(404, "Not Found")
        stage_name = rest.strip("/")
        stage = api.stages.get(stage_name) if "/" not in stage_name else None
        if stage is None:
            raise refused(403, "Forbidden")
        return api, stage

    async def _refuse(self, scope: Scope, send: Send, refusal: Refused) -> None:
        if "websocket.http.response" not in (scope.get("extensions") or {}):
            await send({"type": "websocket.close", "code": 1008})
            return
        body = refusal.body
        head = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        start = {"type": "websocket.http.response.start", "status": refusal.status}
        await send({**start, "headers": head})
        await send({"type": "websocket.http.response.body", "body": body})

    async def _connect(
        self,
        api: CompiledApi,
        stage: dict[str, Any],
        conn: Connection,
        handshake: ws_events.Handshake,
        path: str,
    ) -> dict[str, Any]:
        """Run $connect's authorization and integration; the ASGI accept, or raise Refused."""
        accept: dict[str, Any] = {"type": "websocket.accept"}
        route = api.by_key.get("$connect")
        if route is None:
            return accept
        request = ws_auth.ConnectRequest(
            conn=conn,
            handshake=handshake,
            request_id=self.plane.request_id(),
            now_ms=int(time.time() * 1000),
            stage_variables=stage.get("StageVariables") or None,
            method_arn=(
                f"arn:aws:execute-api:{self.region}:{self.plane.account_id}:"
                f"{conn.api_id}/{conn.stage}/$connect"
            ),
        )
        try:
            await self._authorize(api, route, request, path)
        except Denied as denied:
            raise refused(denied.status, denied.text) from None
        integration = self._integration(api, route)
        if integration is None:
            return accept
        if integration.get("IntegrationType") == "MOCK":
            mock_connect(integration)
            return accept
        event = ws_events.connect_event(
            conn, handshake, request.request_id, request.now_ms, request.stage_variables
        )
        outcome = await self._invoke(integration, event, conn.api_id)
        if outcome.payload is None:
            status = 504 if outcome.error == "Endpoint request timed out" else 500
            raise refused(status, outcome.error or "Internal server error")
        return connect_answer(outcome.payload, accept)

    async def _authorize(
        self, api: CompiledApi, route: dict[str, Any], request: ws_auth.ConnectRequest, path: str
    ) -> None:
        auth = route.get("AuthorizationType") or "NONE"
        if auth == "CUSTOM":
            authorizer = api.authorizers.get(route.get("AuthorizerId") or "")
            if authorizer is None:
                raise Denied(500, "Internal server error")
            request.conn.authorizer = await ws_auth.lambda_authorizer(
                authorizer, request, self.plane.lambdas()
            )
        elif auth == "AWS_IAM":
            ws_auth.iam_check(request, path, self.iam())

    async def _pump(self, conn: Connection, receive: Receive) -> tuple[int, str]:
        """Dispatch the client's messages until the connection ends: (close code, reason).

        At most MESSAGES_IN_FLIGHT of one connection's messages run at once; beyond that the
        connection is not read, so a flooding client is slowed by TCP, not by our memory."""
        slots = asyncio.Semaphore(MESSAGES_IN_FLIGHT)

        async def run(body: str | bytes) -> None:
            try:
                await self._message(conn, body)
            finally:
                slots.release()

        while True:
            message = await receive()
            if message["type"] == "websocket.receive":
                conn.touch()
                text = message.get("text")
                body: str | bytes = text if text is not None else (message.get("bytes") or b"")
                await slots.acquire()
                self._spawn(run(body))
            elif message["type"] == "websocket.disconnect":
                conn.closing = True
                code = int(message.get("code") or 1005)
                return code, message.get("reason") or REASONS.get(code, "")

    async def _disconnect(self, conn: Connection, code: int, reason: str) -> None:
        api = self.plane.compiled(conn.api_id)
        route = api.by_key.get("$disconnect") if api is not None else None
        integration = self._integration(api, route) if api is not None and route else None
        if integration is None or integration.get("IntegrationType") != "AWS_PROXY":
            return
        stage = api.stages.get(conn.stage) if api is not None else None
        event = ws_events.disconnect_event(
            conn,
            code,
            reason,
            self.plane.request_id(),
            int(time.time() * 1000),
            (stage or {}).get("StageVariables") or None,
        )
        await self._invoke(integration, event, conn.api_id)  # best effort, as on AWS

    # -- messages ---------------------------------------------------------------------------
    async def _message(self, conn: Connection, body: str | bytes) -> None:
        request_id = self.plane.request_id()
        api = self.plane.compiled(conn.api_id)
        if api is None:
            await self._error(conn, "Forbidden", request_id)
            return
        expression = api.api.get("RouteSelectionExpression") or ""
        key = select_route_key(expression, body if isinstance(body, str) else None)
        route = api.by_key.get(key) if key and key not in ("$connect", "$disconnect") else None
        route = route or api.by_key.get("$default")
        if route is None:
            await self._error(conn, "Forbidden", request_id)
            return
        integration = self._integration(api, route)
        if integration is None:
            await self._error(conn, "Internal server error", request_id)
            return
        if integration.get("IntegrationType") == "MOCK":
            return
        stage = api.stages.get(conn.stage) or {}
        event = ws_events.message_event(
            conn,
            route["RouteKey"],
            body,
            request_id,
            self.plane.request_id(),
            int(time.time() * 1000),
            stage.get("StageVariables") or None,
        )
        outcome = await self._invoke(integration, event, conn.api_id)
        if outcome.payload is None:
            await self._error(conn, outcome.error or "Internal server error", request_id)
        elif route["RouteId"] in api.two_way and route.get("RouteResponseSelectionExpression"):
            reply = reply_body(outcome.payload)
            if reply is not None:
                await self._post(conn, reply)

    async def _error(self, conn: Connection, text: str, request_id: str) -> None:
        body = {"message": text, "connectionId": conn.connection_id, "requestId": request_id}
        await self._post(conn, as_json(body))

    async def _post(self, conn: Connection, data: bytes) -> None:
        with contextlib.suppress(Gone):  # the client left before the answer
            await conn.post(data)

    # -- integrations -----------------------------------------------------------------------
    def _integration(self, api: CompiledApi, route: dict[str, Any]) -> dict[str, Any] | None:
        target = route.get("Target") or ""
        return api.integrations.get(target.removeprefix("integrations/")) if target else None

    async def _invoke(
        self, integration: dict[str, Any], event: dict[str, Any], api_id: str
    ) -> Outcome:
        lambdas = self.plane.lambdas()
        if lambdas is None or integration.get("IntegrationType") != "AWS_PROXY":
            return Outcome(error="Internal server error")
        name, qualifier = lambda_target(integration.get("IntegrationUri") or "")
        limit = min(
            integration.get("TimeoutInMillis") or INTEGRATION_TIMEOUT_MS, INTEGRATION_TIMEOUT_MS
        )
        # An integration timeout does not stop the function (as on AWS): it runs on detached.
        task = asyncio.ensure_future(
            lambdas.invoke_function(name, json.dumps(event).encode(), qualifier=qualifier)
        )
        done, _ = await asyncio.wait((task,), timeout=limit / 1000)
        if not done:
            self.plane.outlive(task)
            return Outcome(error="Endpoint request timed out")
        try:
            result = task.result()
        except Exception as err:  # a missing function: the client hears of an internal error
            log.warning("WebSocket API %s: invoking %s failed: %s", api_id, name, err)
            return Outcome(error="Internal server error")
        if result.function_error:
            return Outcome(error="Internal server error")
        return Outcome(payload=result.payload)

    # -- idle and maximum-duration limits ---------------------------------------------------
    def _schedule(self, conn: Connection) -> None:
        due = min(conn.idle_since + self.idle_timeout, conn.started + self.max_duration)
        loop = asyncio.get_running_loop()
        conn.timer = loop.call_later(max(due - time.monotonic(), 0.0), self._expire, conn)

    def _expire(self, conn: Connection) -> None:
        conn.timer = None
        if conn.closing:
            return
        now = time.monotonic()
        if now >= conn.idle_since + self.idle_timeout or now >= conn.started + self.max_duration:
            self._spawn(conn.close(1001, "Going away"))
        else:
            self._schedule(conn)

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
