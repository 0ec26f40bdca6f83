"""The prompt-engineering layer every handler of this app goes through: versioned prompt
templates (Bedrock Prompt management), model routing with retries and a fallback, Bedrock
Guardrails on input and output, an exact-match response cache in DynamoDB, usage and cost per
request (DynamoDB + CloudWatch metrics), and an audit record per request."""

from __future__ import annotations

import os
from collections.abc import Mapping

from prompt_layer.audit import AuditLog
from prompt_layer.cache import ResponseCache
from prompt_layer.errors import LayerError, language
from prompt_layer.guard import Guard
from prompt_layer.pipeline import ClientGone, Layer, Outcome, Request, parse_request
from prompt_layer.routing import Models, Retrier
from prompt_layer.templates import Catalog

__all__ = [
    "ClientGone",
    "Layer",
    "LayerError",
    "Models",
    "Outcome",
    "Request",
    "Retrier",
    "from_environment",
    "language",
    "parse_request",
]


def from_environment(env: Mapping[str, str] = os.environ) -> Layer:
    """The layer as the template configures it, with boto3 clients."""
    import boto3
    from botocore.config import Config

    # The layer retries and falls back itself; the SDK's own retries would hide throttling.
    runtime = boto3.client(
        "bedrock-runtime",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5,
                      read_timeout=int(env.get("MODEL_TIMEOUT_SECONDS", "60"))),
    )  # fmt: skip
    dynamodb = boto3.client("dynamodb")
    arns = [a for a in env.get("PROMPT_VERSION_ARNS", "").split(",") if a.strip()]
    models = Models(
        small=env["SMALL_MODEL_ID"],
        large=env["LARGE_MODEL_ID"],
        fallback=env.get("FALLBACK_MODEL_ID") or env["SMALL_MODEL_ID"],
        threshold_tokens=int(env.get("ROUTE_THRESHOLD_TOKENS", "400")),
    )
    return Layer(
        runtime,
        Catalog(boto3.client("bedrock-agent"), arns),
        Guard(runtime, env.get("GUARDRAIL_ID", ""), env.get("GUARDRAIL_VERSION", "DRAFT")),
        ResponseCache(
            dynamodb, env.get("CACHE_TABLE", ""), int(env.get("CACHE_TTL_SECONDS", "3600"))
        ),
        AuditLog(dynamodb, env.get("AUDIT_TABLE", "")),
        models,
        namespace=env.get("METRICS_NAMESPACE", "GenAIPatterns"),
    )
