"""The console's static files: a fixed allowlist read once from package data.

Request paths never become file paths: a name is looked up in ``_FILES`` or it is a 404.
``index.html`` links its assets with a content hash (``?v=...``) so the assets can be cached
for a year while the page itself is always revalidated.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from nimbus.aws.http import HttpRequest, HttpResponse

ASSET_PREFIX = "/_nimbus/console/static/"

_FILES = {
    "console.js": "text/javascript; charset=utf-8",
    "bedrock.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}

# Everything the page needs is served from this origin; inline SVG charts are DOM-built.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str
    cache_control: str


def _read(name: str) -> bytes:
    return resources.files("nimbus.console").joinpath("static", name).read_bytes()


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


class StaticFiles:
    def __init__(self) -> None:
        self._assets: dict[str, Asset] | None = None

    def _load(self) -> dict[str, Asset]:
        if self._assets is None:
            assets: dict[str, Asset] = {}
            page = _read("index.html").decode()
            for name, content_type in _FILES.items():
                body = _read(name)
                etag = _etag(body)
                versioned = f"{ASSET_PREFIX}{name}?v={etag.strip(chr(34))}"
                page = page.replace(f"{ASSET_PREFIX}{name}", versioned)
                immutable = "public, max-age=31536000, immutable"
                assets[name] = Asset(body, content_type, etag, immutable)
            html = page.encode()
            assets["index.html"] = Asset(html, "text/html; charset=utf-8", _etag(html), "no-cache")
            self._assets = assets
        return self._assets

    def page(self, request: HttpRequest) -> HttpResponse:
        return self._serve(request, "index.html")

    def asset(self, request: HttpRequest) -> HttpResponse:
        return self._serve(request, request.path[len(ASSET_PREFIX) :])

    def _serve(self, request: HttpRequest, name: str) -> HttpResponse:
        asset = self._load().get(name)
        if asset is None or request.method not in ("GET", "HEAD"):
            status = 404 if asset is None else 405
            body = b"Not found" if asset is None else b"Method not allowed"
            return HttpResponse(status, [("content-type", "text/plain")], body)
        headers = [
            ("content-type", asset.content_type),
            ("cache-control", asset.cache_control),
            ("etag", asset.etag),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
        ]
        if name == "index.html":
            headers.append(("content-security-policy", _CSP))
        if asset.etag in request.headers.get("if-none-match", ""):
            return HttpResponse(304, headers, b"")
        return HttpResponse(200, headers, asset.body)
