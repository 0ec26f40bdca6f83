"""POST /generate: the synchronous pattern. The client waits while the prompt layer asks the model.

Body: ``{"prompt": "...", "template": "chat", "model": "auto|small|large", "maxTokens": 512,
"temperature": 0.3, "cache": true, "language": "vi|en"}``; only ``prompt`` is required.
Answers 200 with the text, the model, tokens, latency, cost and what the guardrail did (a blocked
request is a 200 with ``guardrail.blocked``, as Bedrock answers it); 400/413 for bad input and 503
when no model answers, with a message in the caller's language (``language`` or Accept-Language).

Uses boto3 only. ``handle`` takes the layer as an argument so tests can pass their own.
"""

from __future__ import annotations

import base64
import binascii
import json

from prompt_layer import Layer, LayerError, from_environment, language, parse_request


def response(status: int, body: dict) -> dict:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json; charset=utf-8", "cache-control": "no-store"},
        "body": json.dumps(body, ensure_ascii=False),
    }


def read_body(event: dict) -> object:
    """The JSON body of an HTTP API event, or None when it is not JSON."""
    raw = event.get("body") or ""
    try:
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode("utf-8")
        return json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def handle(layer: Layer, event: dict) -> dict:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    body = read_body(event)
    lang = language(body.get("language") if isinstance(body, dict) else None,
                    headers.get("accept-language"))  # fmt: skip
    caller = (event.get("requestContext") or {}).get("http", {}).get("sourceIp", "")
    try:
        outcome = layer.generate(parse_request(body, lang), "rest", caller)
    except LayerError as refused:
        return response(refused.status, refused.to_json(lang))
    except Exception as exc:  # logged without the prompt; the caller gets a plain 500
        print(f"generate failed: {type(exc).__name__}: {exc}")
        return response(500, LayerError(500, "internal").to_json(lang))
    return response(200, outcome.to_json())


_layer: Layer | None = None


def lambda_handler(event, context):
    global _layer
    if _layer is None:
        _layer = from_environment()
    return handle(_layer, event)
