"""JWT authorizer checks.

Nimbus cannot fetch an issuer's JWKS, so RS256/ES256 signatures are NOT verified: the token's
issuer, audience (``aud`` or ``client_id``), expiry, not-before and scopes are checked exactly
as AWS does. As a Nimbus extension, an API tagged ``nimbus:jwt-hs256-secret`` verifies HS256
tokens against that shared secret (and then refuses unsigned or differently signed tokens).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

SECRET_TAG = "nimbus:jwt-hs256-secret"


class Unauthorized(Exception):
    """401: the token is missing, malformed, or fails a claim check."""


class Forbidden(Exception):
    """403: a valid token without a scope the route requires."""


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def decode(token: str, secret: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of a compact JWS; the signature is checked only with a secret."""
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthorized("the token is not a JWT")
    try:
        header = json.loads(_b64(parts[0]))
        claims = json.loads(_b64(parts[1]))
    except (ValueError, UnicodeDecodeError):
        raise Unauthorized("the token is not a JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthorized("the token is not a JWT")
    if secret is not None:
        if header.get("alg") != "HS256":
            raise Unauthorized("the token is not signed with HS256")
        expected = hmac.new(
            secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256
        ).digest()
        try:
            given = _b64(parts[2])
        except ValueError:
            raise Unauthorized("bad signature") from None
        if not hmac.compare_digest(expected, given):
            raise Unauthorized("bad signature")
    return header, claims


def check(
    token: str,
    issuer: str | None,
    audiences: list[str],
    scopes: list[str],
    *,
    secret: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The ``requestContext.authorizer`` value for a valid token; raises otherwise."""
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    _, claims = decode(token, secret)
    now = time.time() if now is None else now
    if issuer and claims.get("iss") != issuer:
        raise Unauthorized("the token's issuer does not match")
    token_aud = claims.get("aud", claims.get("client_id"))
    token_auds = token_aud if isinstance(token_aud, list) else [token_aud]
    if audiences and not any(aud in audiences for aud in token_auds):
        raise Unauthorized("the token's audience does not match")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= now:
        raise Unauthorized("the token has expired or has no exp claim")
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and nbf > now:
        raise Unauthorized("the token is not valid yet")
    iat = claims.get("iat")
    if iat is not None and not isinstance(iat, int | float):
        raise Unauthorized("the token's iat claim is not a number")
    granted = str(claims.get("scope") or claims.get("scp") or "")
    granted_list = granted.split() if isinstance(granted, str) else []
    if scopes and not any(scope in granted_list for scope in scopes):
        raise Forbidden("the token lacks a required scope")
    # AWS hands claims to the function as strings.
    as_text = {
        k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
        for k, v in claims.items()
    }
    return {"jwt": {"claims": as_text, "scopes": granted_list if scopes else None}}


def sign_hs256(claims: dict[str, Any], secret: str) -> str:
    """An HS256 token (tests, and users who run the Nimbus secret extension)."""

    def enc(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = enc({"alg": "HS256", "typ": "JWT"}) + "." + enc(claims)
    sig = hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest()
    return head + "." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()
