"""The web console: a static single-page app and its JSON API, both under ``/_nimbus/console/``."""

from __future__ import annotations

from typing import Any

from botocore.model import ServiceModel

from nimbus.aws.http import HttpRequest, HttpResponse
from nimbus.services.registry import ServiceRegistry

from .api import API_PREFIX, ConsoleApi, json_response
from .static import ASSET_PREFIX, StaticFiles

CONSOLE_PREFIX = "/_nimbus/console/"


def is_console(request: HttpRequest) -> bool:
    """The console's own paths, or the endpoint's root opened by a person in a browser."""
    return request.path.startswith(CONSOLE_PREFIX.rstrip("/")) or _is_browser_root(request)


def _is_browser_root(request: HttpRequest) -> bool:
    """``GET /`` without a signature (header or presigned query) is a person, not an SDK."""
    if request.path != "/" or request.method not in ("GET", "HEAD"):
        return False
    if "authorization" in request.headers or "x-amz-target" in request.headers:
        return False
    if ".s3-website" in request.host or ".execute-api." in request.host:
        return False  # a website's or an HTTP API's own root
    return not any(name.lower().startswith("x-amz-") for name in request.query)


class Console:
    def __init__(self, registry: ServiceRegistry, models: dict[str, ServiceModel]) -> None:
        self.static = StaticFiles()
        self.api = ConsoleApi(registry, models)

    async def handle(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            return await self.api.handle(request)
        if request.path.startswith(ASSET_PREFIX):
            return self.static.asset(request)
        if request.path in ("/", CONSOLE_PREFIX, CONSOLE_PREFIX.rstrip("/")):
            return self.static.page(request)
        body: Any = {"code": "NotFound", "message": f"No console page at {request.path}."}
        return json_response(404, body)
