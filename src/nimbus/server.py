"""The one ASGI app: Nimbus's own endpoints, S3 websites, browser CORS, then the AWS front."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import json
import logging
import time
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any
from urllib.parse import quote, unquote

from nimbus.aws.dispatch import Dispatcher
from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest, HttpResponse
from nimbus.aws.streams import BodyStream
from nimbus.config import Settings
from nimbus.console import Console, is_console
from nimbus.services.registry import ServiceRegistry

log = logging.getLogger("nimbus.server")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_WEBSITE_PREFIX = "/_website/"
_DRAIN_LIMIT = 64 * 1024 * 1024


class NimbusApp:
    def __init__(self, settings: Settings, on_ready: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.on_ready = on_ready
        self.registry = ServiceRegistry(
            settings.data_dir.resolve(), settings.region, settings.account_id, settings.base_url
        )
        self.dispatcher = Dispatcher(self.registry)
        self.console = Console(self.registry, self.dispatcher.models)
        self.started = time.time()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] == "websocket":
            # WebSocket APIs: ws://host/_api/{apiId}/{stage} or {apiId}.execute-api.localhost
            await self.registry.get("apigatewayv2").handle_websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        request = await _request(scope, receive)
        response = await self.route(request)
        # An unread body (refused upload, 413) must leave the connection before the response,
        # or the next request on this keep-alive connection would be parsed from its bytes.
        if not request.body.consumed and not await request.body.drain(_DRAIN_LIMIT):
            response.headers.append(("connection", "close"))
        await _send(response, send, receive, head=request.method == "HEAD")

    async def drain(self) -> None:
        """Before the server stops accepting: end WebSocket connections, whose $disconnect
        functions may still call Nimbus."""
        await self.registry.get("apigatewayv2").drain_websockets(timeout=10.0)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # botocore's service models are large and live forever: move them out of the
                # collector's sight so full collections don't stall requests for milliseconds.
                gc.collect()
                gc.freeze()
                # Lambda resumes queued async invocations and S3 triggers left by a restart.
                self.registry.get("lambda")
                self.registry.get("events")  # starts the scheduler of scheduled rules
                if (self.registry.data_dir / "sagemaker").is_dir():
                    self.registry.get("sagemaker")  # reloads the endpoints' models
                await send({"type": "lifespan.startup.complete"})
                if self.on_ready is not None:
                    self.on_ready()
            elif message["type"] == "lifespan.shutdown":
                self.registry.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def route(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if is_console(request):
            return await self.console.handle(request)
        if path.startswith("/_nimbus/"):
            return self._nimbus(request)
        if path.startswith("/_api/") or ".execute-api." in request.host:
            # HTTP API data plane (execute-api): /_api/{apiId}/... or {apiId}.execute-api.localhost
            apis = self.registry.get("apigatewayv2")
            if apis.is_connections_call(request):  # a WebSocket stage's @connections API
                return await self.dispatcher.handle(request, self.settings.base_url)
            return await apis.handle_execute_api(request)
        website = _website_target(request)
        if website is not None:
            return self._website(*website)
        origin = request.headers.get("origin")
        if request.method == "OPTIONS" and origin:
            return self._preflight(request, origin)
        response = await self.dispatcher.handle(request, self.settings.base_url)
        if origin and not _signed_for_other_service(request):
            response.headers.extend(self._cors(request, origin, request.method).items())
        return response

    # -- Nimbus's own endpoints -------------------------------------------------------------
    def _nimbus(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/_nimbus/health":
            body = {
                "status": "running",
                "version": _version(),
                "endpoint": self.settings.base_url,
                "region": self.settings.region,
                "data_dir": str(self.settings.data_dir.resolve()),
                "services": sorted(self.dispatcher.models),
                "uptime_seconds": round(time.time() - self.started, 1),
            }
            return _json(200, body)
        return _json(404, {"message": f"No Nimbus endpoint at {request.path}."})

    # -- S3 for browsers ----------------------------------------------------------------------
    def _website(self, bucket: str, key: str, base: str) -> HttpResponse:
        s3 = self.registry.get("s3")
        try:
            status, headers, body = s3.website_response(bucket, key)
        except AwsError as err:
            text = f"<html><body><h1>{err.status} {err.code}</h1><p>{err.message}</p></body></html>"
            return HttpResponse(err.status, [("content-type", "text/html")], text.encode())
        location = headers.get("Location")
        if location is not None:
            # "/docs/" is relative to the website root, which is /_website/{bucket} here.
            if location.startswith("/"):
                location = base + location
            headers["Location"] = quote(location, safe="/:?#[]@!$&'()*+,;=~")
        return HttpResponse(status, list(headers.items()), body)

    def _bucket_of(self, request: HttpRequest) -> str:
        return request.path.lstrip("/").split("/", 1)[0]

    def _cors(self, request: HttpRequest, origin: str, method: str) -> dict[str, str]:
        bucket = self._bucket_of(request)
        if not bucket:
            return {}
        wanted = request.headers.get("access-control-request-headers", "")
        names = [h.strip().lower() for h in wanted.split(",") if h.strip()]
        try:
            found = self.registry.get("s3").cors_headers(bucket, origin, method, names)
        except AwsError:
            return {}
        return found or {}

    def _preflight(self, request: HttpRequest, origin: str) -> HttpResponse:
        method = request.headers.get("access-control-request-method", "")
        headers = self._cors(request, origin, method)
        if not headers:
            body = (
                "<Error><Code>AccessForbidden</Code><Message>CORSResponse: This CORS request is "
                "not allowed. This is usually because the evalution of Origin, request method / "
                "Access-Control-Request-Method or Access-Control-Request-Headers are not "
                "whitelisted by the resource's CORS spec.</Message></Error>"
            )
            return HttpResponse(403, [("content-type", "application/xml")], body.encode())
        return HttpResponse(200, list(headers.items()), b"")


def _signed_for_other_service(request: HttpRequest) -> bool:
    auth = request.headers.get("authorization", "")
    return (bool(auth) and "/s3/aws4_request" not in auth) or "x-amz-target" in request.headers


def _website_target(request: HttpRequest) -> tuple[str, str, str] | None:
    """``/_website/{bucket}/{path}`` or a ``{bucket}.s3-website.localhost`` host name:
    the bucket, the percent-decoded path and the URL path of the website's root."""
    if request.path.startswith(_WEBSITE_PREFIX):
        bucket, _, rest = request.path[len(_WEBSITE_PREFIX) :].partition("/")
        return bucket, unquote(rest), _WEBSITE_PREFIX + bucket
    host = request.host.split(":", 1)[0]
    if ".s3-website" in host and host.endswith(".localhost"):
        return host.split(".s3-website", 1)[0], unquote(request.path.lstrip("/")), ""
    return None


async def _request(scope: Scope, receive: Receive) -> HttpRequest:
    # ASGI servers hand over lower-case names; repeated headers are joined as HTTP allows.
    raw_headers = scope["headers"]
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw_headers}
    if len(headers) != len(raw_headers):
        headers = {}
        for raw_name, raw_value in raw_headers:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
    length_text = headers.get("content-length")
    length = int(length_text) if length_text and length_text.isdigit() else None
    chunked = "aws-chunked" in headers.get("content-encoding", "") or headers.get(
        "x-amz-content-sha256", ""
    ).startswith("STREAMING-")
    decoded_text = headers.get("x-amz-decoded-content-length", "")
    decoded = int(decoded_text) if decoded_text.isdigit() else None
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1").split("?", 1)[0] if raw_path else scope["path"]
    body = BodyStream(receive, content_length=length, aws_chunked=chunked, decoded_length=decoded)
    request = HttpRequest(
        method=scope["method"],
        path=path,
        query_string=scope["query_string"].decode("latin-1"),
        headers=headers,
        body=body,
        host=headers.get("host", ""),
        client_ip=(scope.get("client") or ("", 0))[0],
    )
    _virtual_host(request)
    return request


def _virtual_host(request: HttpRequest) -> None:
    """``bucket.localhost`` / ``bucket.s3.localhost`` hosts become path-style S3 requests."""
    host = request.host.split(":", 1)[0]
    if not host.endswith(".localhost") or ".s3-website" in host or ".execute-api." in host:
        return
    label = host[: -len(".localhost")].removesuffix(".s3")
    auth = request.headers.get("authorization", "")
    if label and label != "s3" and (not auth or "/s3/aws4_request" in auth):
        request.path = f"/{label}{request.path}"


async def _send(response: HttpResponse, send: Send, receive: Receive, *, head: bool) -> None:
    headers = [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers]
    body = response.body
    names = {k.lower() for k, _ in response.headers}
    if isinstance(body, bytes | bytearray):
        if "content-length" not in names:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else bytes(body)})
        return
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    if not head:
        if isinstance(body, AsyncIterable):
            await _until_disconnect(_pump(body, send), receive)
        else:
            for chunk in body:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    close = getattr(body, "close", None)
    if close is not None:
        result = close()
        if inspect.isawaitable(result):
            await result
    await send({"type": "http.response.body", "body": b""})


async def _pump(body: AsyncIterable[bytes], send: Send) -> None:
    async for chunk in body:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _until_disconnect(work: Awaitable[None], receive: Receive) -> None:
    """Run ``work``, cancelled if the client goes away: a dropped ConverseStream must stop
    the model instead of generating to the end for nobody (uvicorn's send stays silent)."""
    task = asyncio.ensure_future(work)
    listener = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait({task, listener}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, listener):
            pending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(asyncio.CancelledError):
            await listener


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _json(status: int, body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(status, [("content-type", "application/json")], json.dumps(body).encode())


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nimbus")
    except PackageNotFoundError:
        return "dev"
