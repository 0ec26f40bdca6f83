"""Bucket CORS rules: validation and matching a browser request against them."""

from __future__ import annotations

import re
from typing import Any

from nimbus.aws.errors import AwsError

METHODS = {"GET", "PUT", "HEAD", "POST", "DELETE"}
MAX_RULES = 100


def validate_cors(config: dict[str, Any]) -> dict[str, Any]:
    rules = config.get("CORSRules") or []
    if not rules or len(rules) > MAX_RULES:
        raise AwsError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our "
            "published schema",
            400,
        )
    for rule in rules:
        if not rule.get("AllowedMethods") or not rule.get("AllowedOrigins"):
            raise AwsError(
                "MalformedXML", "Each CORSRule needs AllowedMethods and AllowedOrigins.", 400
            )
        for method in rule["AllowedMethods"]:
            if method not in METHODS:
                raise AwsError(
                    "InvalidRequest",
                    f"Found unsupported HTTP method in CORS config. Unsupported method is {method}",
                    400,
                )
        for origin in rule["AllowedOrigins"]:
            if origin.count("*") > 1:
                raise AwsError(
                    "InvalidRequest",
                    f'AllowedOrigin "{origin}" can not have more than one wildcard.',
                    400,
                )
    return {"CORSRules": rules}


def _wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
    return re.match(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def match_rule(
    config: dict[str, Any] | None, origin: str, method: str, request_headers: list[str]
) -> dict[str, str] | None:
    """The Access-Control-* headers of the first rule allowing this request, else None."""
    if not config:
        return None
    method = method.upper()
    for rule in config.get("CORSRules", []):
        origin_pattern = next(
            (p for p in rule.get("AllowedOrigins", []) if _wildcard(p, origin)), None
        )
        if origin_pattern is None or method not in rule.get("AllowedMethods", []):
            continue
        allowed = rule.get("AllowedHeaders") or []
        wanted = [h.strip().lower() for h in request_headers if h.strip()]
        if not all(any(_wildcard(p, h, ignore_case=True) for p in allowed) for h in wanted):
            continue
        headers = {
            "Access-Control-Allow-Origin": "*" if origin_pattern == "*" else origin,
            "Access-Control-Allow-Methods": ", ".join(rule["AllowedMethods"]),
            "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
        }
        if origin_pattern != "*":
            headers["Access-Control-Allow-Credentials"] = "true"
        if wanted:
            headers["Access-Control-Allow-Headers"] = ", ".join(wanted)
        if rule.get("ExposeHeaders"):
            headers["Access-Control-Expose-Headers"] = ", ".join(rule["ExposeHeaders"])
        if rule.get("MaxAgeSeconds") is not None:
            headers["Access-Control-Max-Age"] = str(rule["MaxAgeSeconds"])
        return headers
    return None
