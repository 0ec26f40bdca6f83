"""The console's "try it" box: ConverseStream in-process, its text streamed to the browser as
newline-delimited JSON (``{"text": ...}`` lines, then one ``{"done": true, ...}`` line, or an
``{"error": ...}`` line when the model fails after the stream has started)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest, HttpResponse

from .api import Params, bad_request, json_object

if TYPE_CHECKING:
    from .api import ConsoleApi

log = logging.getLogger("nimbus.console")

_BODY_LIMIT = 256 * 1024
_HEADERS = [
    ("content-type", "application/x-ndjson; charset=utf-8"),
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
]


def _line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode() + b"\n"


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value in (None, ""):
        if required:
            raise bad_request(f"The field '{name}' is required.")
        return None
    if not isinstance(value, str):
        raise bad_request(f"The field '{name}' must be a string.")
    return value


def converse_request(body: dict[str, Any]) -> dict[str, Any]:
    """A ConverseStream request (boto3's shape) from the form's fields."""
    prompt = _text(body, "prompt", required=True)
    req: dict[str, Any] = {
        "modelId": _text(body, "modelId", required=True),
        "messages": [{"role": "user", "content": [{"text": prompt}]}],
    }
    system = _text(body, "system")
    if system:
        req["system"] = [{"text": system}]
    inference = {k: body[k] for k in ("maxTokens", "temperature") if body.get(k) is not None}
    if inference:
        req["inferenceConfig"] = inference  # the botocore validator checks the types
    guardrail = _text(body, "guardrailId")
    if guardrail:
        req["guardrailConfig"] = {
            "guardrailIdentifier": guardrail,
            "guardrailVersion": _text(body, "guardrailVersion") or "DRAFT",
            "trace": "enabled",
        }
    return req


async def _lines(events: AsyncIterator[dict[str, Any]], started: float) -> AsyncIterator[bytes]:
    def ms() -> float:
        return round((time.perf_counter() - started) * 1000, 2)

    first: float | None = None
    done: dict[str, Any] = {"done": True}
    try:
        async for event in events:
            if "contentBlockDelta" in event:
                text = event["contentBlockDelta"].get("delta", {}).get("text")
                if text:
                    first = ms() if first is None else first
                    yield _line({"text": text})
            elif "messageStop" in event:
                done["stopReason"] = event["messageStop"].get("stopReason")
            elif "metadata" in event:
                meta = event["metadata"]
                done["usage"] = meta.get("usage")
                done["latencyMs"] = (meta.get("metrics") or {}).get("latencyMs")
                if meta.get("trace"):
                    done["trace"] = meta["trace"]
    except AwsError as err:
        yield _line({"error": {"code": err.code, "message": err.message}})
        return
    except Exception:  # the response has started: say so in the stream rather than cut it
        log.exception("console ConverseStream failed")
        yield _line({"error": {"code": "InternalError", "message": "See the Nimbus log."}})
        return
    finally:
        closer = getattr(events, "aclose", None)
        if closer is not None:
            await closer()
    yield _line({**done, "firstTokenMs": first, "totalMs": ms()})


async def converse_stream(api: ConsoleApi, request: HttpRequest, params: Params) -> Any:
    body = await json_object(request, _BODY_LIMIT)
    started = time.perf_counter()
    # Failures before the first event (unknown model, bad input) are ordinary error replies.
    out = await api.call("bedrock-runtime", "ConverseStream", **converse_request(body))
    return HttpResponse(200, list(_HEADERS), _lines(out["stream"], started))


def register(api: ConsoleApi) -> None:
    api.add("POST", "bedrock/converse-stream", converse_stream)
