"""CORS for HTTP APIs: API Gateway answers preflights itself from the API's
CorsConfiguration and adds the CORS headers to every response (overriding the integration's)."""

from __future__ import annotations

from typing import Any


def _allowed_origin(cors: dict[str, Any], origin: str) -> str | None:
    origins = cors.get("AllowOrigins") or []
    if origin in origins:
        return origin
    if "*" in origins:
        return "*"
    return None


def preflight(cors: dict[str, Any], origin: str, method: str, wanted: str) -> list[tuple[str, str]]:
    """Headers of the 204 preflight answer; empty when the origin or method isn't allowed."""
    allow = _allowed_origin(cors, origin)
    methods = [m.upper() for m in cors.get("AllowMethods") or []]
    if allow is None or (method.upper() not in methods and "*" not in methods):
        return []
    headers = [("access-control-allow-origin", allow)]
    headers.append(("access-control-allow-methods", ",".join(methods)))
    allowed_headers = [h.lower() for h in cors.get("AllowHeaders") or []]
    if wanted:
        asked = [h.strip().lower() for h in wanted.split(",") if h.strip()]
        if "*" not in allowed_headers and any(h not in allowed_headers for h in asked):
            return []
    if allowed_headers:
        headers.append(("access-control-allow-headers", ",".join(allowed_headers)))
    if cors.get("MaxAge") is not None:
        headers.append(("access-control-max-age", str(cors["MaxAge"])))
    if cors.get("AllowCredentials"):
        headers.append(("access-control-allow-credentials", "true"))
    return headers


def response_headers(cors: dict[str, Any], origin: str) -> list[tuple[str, str]]:
    allow = _allowed_origin(cors, origin)
    if allow is None:
        return []
    headers = [("access-control-allow-origin", allow)]
    if cors.get("ExposeHeaders"):
        headers.append(("access-control-expose-headers", ",".join(cors["ExposeHeaders"])))
    if cors.get("AllowCredentials"):
        headers.append(("access-control-allow-credentials", "true"))
    return headers
