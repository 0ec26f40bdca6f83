"""The prompt layer's one path, shared by the three patterns (REST, WebSocket ask, streaming).

template version -> input guardrail -> render -> route -> cache -> model (retries, fallback)
-> output guardrail -> cache -> audit record + metrics. ``generate`` answers at once;
``stream`` hands each text delta to a callback as the model produces it, then checks the whole
answer with the output guardrail (as ConverseStream's asynchronous guardrail mode does): when it
intervenes the outcome is ``replaced`` and carries the text to show instead.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain

from prompt_layer.audit import AuditLog, mask, sha256
from prompt_layer.cache import Cached, ResponseCache, cache_key
from prompt_layer.errors import LANGUAGE_NAMES, LayerError
from prompt_layer.guard import BLOCKED, NONE, Guard, Verdict
from prompt_layer.routing import TIERS, Models, ModelsFailed, Retrier, error_code, route
from prompt_layer.templates import Catalog, render
from prompt_layer.usage import NAMESPACE, emf_line, estimated_cost

MAX_PROMPT_CHARS = 8000
DEFAULT_MAX_TOKENS = 512
MAX_TOKENS_LIMIT = 2048
CACHEABLE_STOPS = frozenset({"end_turn", "stop_sequence", "max_tokens"})


class ClientGone(Exception):
    """The caller went away mid-answer (a closed WebSocket): stop generating."""


@dataclass(frozen=True)
class Request:
    prompt: str
    template: str = "chat"
    language: str = "vi"
    tier: str = "auto"  # auto | small | large
    max_tokens: int | None = None
    temperature: float | None = None
    use_cache: bool = True


def parse_request(body: object, lang: str) -> Request:
    """A Request from a JSON body ({"prompt", "template", "model", "maxTokens", ...})."""
    if not isinstance(body, dict):
        raise LayerError(400, "bad_json")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise LayerError(400, "empty_prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise LayerError(413, "too_long", limit=MAX_PROMPT_CHARS)
    template = body.get("template") or "chat"
    tier = body.get("model") or "auto"
    if not isinstance(template, str) or len(template) > 100:
        raise LayerError(400, "bad_parameter", name="template")
    if tier not in TIERS:
        raise LayerError(400, "bad_parameter", name="model")
    max_tokens = body.get("maxTokens")
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int)
        or not 1 <= max_tokens <= MAX_TOKENS_LIMIT
    ):  # fmt: skip
        raise LayerError(400, "bad_parameter", name="maxTokens")
    temperature = body.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool) or not isinstance(temperature, int | float)
        or not 0 <= temperature <= 1
    ):  # fmt: skip
        raise LayerError(400, "bad_parameter", name="temperature")
    use_cache = body.get("cache", True)
    if not isinstance(use_cache, bool):
        raise LayerError(400, "bad_parameter", name="cache")
    return Request(prompt, template, lang, tier, max_tokens,
                   None if temperature is None else float(temperature), use_cache)  # fmt: skip


@dataclass
class Outcome:
    request_id: str
    text: str = ""
    template: str = ""
    model: str = ""
    route: str = ""
    fallback: bool = False
    cached: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    model_latency_ms: float = 0.0
    cost_usd: float = 0.0
    stop_reason: str = ""
    guardrail_input: str = NONE
    guardrail_output: str = NONE
    findings: list[str] = field(default_factory=list)
    replaced: bool = False  # streaming: the streamed text was replaced by the output guardrail

    @property
    def blocked(self) -> bool:
        return BLOCKED in (self.guardrail_input, self.guardrail_output)

    def to_json(self) -> dict:
        return {
            "requestId": self.request_id,
            "text": self.text,
            "template": self.template,
            "model": self.model,
            "route": self.route,
            "fallback": self.fallback,
            "cached": self.cached,
            "stopReason": self.stop_reason,
            "usage": {
                "inputTokens": self.input_tokens,
                "outputTokens": self.output_tokens,
                "totalTokens": self.input_tokens + self.output_tokens,
            },
            "latencyMs": self.latency_ms,
            "modelLatencyMs": self.model_latency_ms,
            "costUsd": self.cost_usd,
            "guardrail": {
                "input": self.guardrail_input,
                "output": self.guardrail_output,
                "findings": self.findings,
                "blocked": self.blocked,
            },
            "replaced": self.replaced,
        }


class Layer:
    def __init__(self, runtime, catalog: Catalog, guard: Guard, cache: ResponseCache,
                 audit: AuditLog, models: Models, retrier: Retrier | None = None, *,
                 namespace: str = NAMESPACE, clock: Callable[[], float] = time.time,
                 perf: Callable[[], float] = time.perf_counter,
                 emit: Callable[[str], None] = print,
                 new_id: Callable[[], str] = lambda: uuid.uuid4().hex) -> None:  # fmt: skip
        self.runtime, self.catalog, self.guard = runtime, catalog, guard
        self.cache, self.audit, self.models = cache, audit, models
        self.retrier = retrier or Retrier()
        self.namespace, self.clock, self.perf = namespace, clock, perf
        self.emit, self.new_id = emit, new_id

    def generate(self, req: Request, pattern: str, caller: str = "",
                 request_id: str | None = None) -> Outcome:  # fmt: skip
        return self._run(req, pattern, caller, None, request_id)

    def stream(self, req: Request, pattern: str, caller: str, on_delta: Callable[[str], None],
               request_id: str | None = None) -> Outcome:  # fmt: skip
        return self._run(req, pattern, caller, on_delta, request_id)

    # -- one request ----------------------------------------------------------------------
    def _run(self, req: Request, pattern: str, caller: str, on_delta: Callable[[str], None] | None,
             request_id: str | None) -> Outcome:  # fmt: skip
        started = self.perf()
        out = Outcome(request_id or self.new_id())
        trace: dict = {"pattern": pattern, "caller": sha256(caller)[:16] if caller else "",
                       "language": req.language, "prompt_sha256": sha256(req.prompt),
                       "prompt_chars": len(req.prompt), "outcome": "ok"}  # fmt: skip
        try:
            self._answer(req, out, trace, on_delta)
            return out
        except ClientGone:
            trace["outcome"] = "client_gone"
            raise
        except LayerError as refused:
            trace["outcome"] = "refused" if refused.status < 500 else "error"
            trace["error"] = refused.key
            raise
        except Exception as exc:
            code = error_code(exc)
            trace["outcome"], trace["error"] = "error", code or type(exc).__name__
            if code:  # a service the layer depends on failed (guardrail, prompt, table)
                raise LayerError(503, "unavailable") from exc
            raise
        finally:
            out.latency_ms = round((self.perf() - started) * 1000.0, 2)
            self._record(out, trace)

    def _answer(self, req: Request, out: Outcome, trace: dict,
                on_delta: Callable[[str], None] | None) -> None:  # fmt: skip
        template = self.catalog.get(req.template)
        out.template = template.label
        checked = self.guard.check(req.prompt, "INPUT")
        self._note(out, checked, "input")
        if checked.action == BLOCKED:
            out.text, out.stop_reason = checked.text, "guardrail_intervened"
            trace["outcome"] = "blocked"
            if on_delta:
                on_delta(out.text)
            return
        trace["prompt_masked"] = mask(checked.text)
        values = {"input": checked.text, "language": LANGUAGE_NAMES.get(req.language, "English")}
        rendered = render(template, values)
        chosen = route(self.models, rendered.all_text(), template.tier, req.tier)
        out.model, out.route = chosen.model, chosen.reason
        trace["routed_model"] = chosen.model
        params: dict = {"maxTokens": req.max_tokens or template.max_tokens or DEFAULT_MAX_TOKENS}
        temperature = req.temperature if req.temperature is not None else template.temperature
        if temperature is not None:
            params["temperature"] = temperature
        fields = rendered.converse_fields()
        key = cache_key(chosen.model, template.arn, fields, params, self.guard.label)
        hit = self._cached(key) if req.use_cache else None
        if hit:
            out.text, out.model, out.stop_reason = hit.text, hit.model, hit.stop_reason
            out.cached = True
            if on_delta:
                on_delta(hit.text)
            return
        chain_ = [chosen.model, self.models.fallback]
        try:
            if on_delta is None:
                reply, used, tries = self.retrier.run(
                    chain_, lambda m: self._converse(m, fields, params)
                )
            else:
                opened, used, tries = self.retrier.run(
                    chain_, lambda m: self._open_stream(m, fields, params)
                )
                reply = self._relay(*opened, on_delta)
        except ModelsFailed as failed:
            trace["tries"] = [f"{t['model']}:{t['error']}" for t in failed.tries]
            raise LayerError(503, "unavailable") from None
        except ClientGone:
            raise
        except Exception as exc:  # the stream broke after it started: too late to fall back
            if not error_code(exc):
                raise
            trace["tries"] = [f"{chosen.model}:{error_code(exc)}"]
            raise LayerError(503, "unavailable") from exc
        trace["tries"] = [f"{t['model']}:{t['error']}" for t in tries]
        text, usage, latency, stop = reply
        out.model, out.fallback = used, used != chosen.model
        out.input_tokens = int(usage.get("inputTokens", 0))
        out.output_tokens = int(usage.get("outputTokens", 0))
        out.model_latency_ms, out.stop_reason = float(latency), stop
        out.cost_usd = estimated_cost(used, out.input_tokens, out.output_tokens)
        checked = self.guard.check(text, "OUTPUT")
        self._note(out, checked, "output")
        out.text = checked.text
        out.replaced = on_delta is not None and checked.intervened
        if checked.action == BLOCKED:
            trace["outcome"] = "blocked"
        elif req.use_cache and out.text and stop in CACHEABLE_STOPS:
            entry = Cached(out.text, used, stop, out.input_tokens, out.output_tokens, 0)
            try:
                self.cache.put(key, entry)
            except Exception as exc:  # a cache that cannot be written only costs a model call
                self.emit(f"cache write failed for {out.request_id}: {error_code(exc) or exc!r}")

    def _cached(self, key: str) -> Cached | None:
        try:
            return self.cache.get(key)
        except Exception as exc:  # an unreadable cache means asking the model
            self.emit(f"cache read failed: {error_code(exc) or exc!r}")
            return None

    @staticmethod
    def _note(out: Outcome, verdict: Verdict, source: str) -> None:
        setattr(out, f"guardrail_{source}", verdict.action)
        out.findings += [f for f in verdict.findings if f not in out.findings]

    # -- the model ------------------------------------------------------------------------
    def _converse(self, model: str, fields: dict, params: dict) -> tuple:
        reply = self.runtime.converse(modelId=model, inferenceConfig=params, **fields)
        content = reply.get("output", {}).get("message", {}).get("content", [])
        text = "".join(block.get("text", "") for block in content)
        latency = reply.get("metrics", {}).get("latencyMs", 0)
        return text, reply.get("usage", {}), latency, reply.get("stopReason", "end_turn")

    def _open_stream(self, model: str, fields: dict, params: dict) -> tuple[list, Iterator, object]:
        """Start ConverseStream and read up to the first text, so that a model failing before it
        answers anything can still be retried or replaced by the fallback."""
        reply = self.runtime.converse_stream(modelId=model, inferenceConfig=params, **fields)
        stream = reply["stream"]
        events = iter(stream)
        head = []
        for event in events:
            head.append(event)
            if "contentBlockDelta" in event or "messageStop" in event:
                break
        return head, events, stream

    def _relay(self, head: list, events: Iterable, stream: object,
               on_delta: Callable[[str], None]) -> tuple:  # fmt: skip
        parts: list[str] = []
        usage: dict = {}
        latency, stop = 0, "end_turn"
        try:
            for event in chain(head, events):
                if "contentBlockDelta" in event:
                    piece = event["contentBlockDelta"].get("delta", {}).get("text")
                    if piece:
                        parts.append(piece)
                        on_delta(piece)
                elif "messageStop" in event:
                    stop = event["messageStop"].get("stopReason", stop)
                elif "metadata" in event:
                    usage = event["metadata"].get("usage", {})
                    latency = event["metadata"].get("metrics", {}).get("latencyMs", 0)
        except ClientGone:
            close = getattr(stream, "close", None)
            if close:
                close()
            raise
        return "".join(parts), usage, latency, stop

    # -- audit and metrics ----------------------------------------------------------------
    def _record(self, out: Outcome, trace: dict) -> None:
        now = self.clock()
        record = {
            "request_id": out.request_id,
            **trace,
            "template": out.template,
            "model": out.model,
            "route": out.route,
            "fallback": out.fallback,
            "cached": out.cached,
            "input_tokens": out.input_tokens,
            "output_tokens": out.output_tokens,
            "latency_ms": out.latency_ms,
            "model_latency_ms": out.model_latency_ms,
            "cost_usd": out.cost_usd,
            "stop_reason": out.stop_reason,
            "guardrail": self.guard.label,
            "guardrail_input": out.guardrail_input,
            "guardrail_output": out.guardrail_output,
            "findings": out.findings,
        }
        if out.text:
            record["answer_sha256"], record["answer_chars"] = sha256(out.text), len(out.text)
        try:
            self.audit.write(record, now)
        except Exception as exc:  # the answer still goes out; the failure is in the log
            self.emit(f"audit write failed for {out.request_id}: {error_code(exc) or exc!r}")
        values = {
            "Requests": 1,
            "InputTokens": out.input_tokens,
            "OutputTokens": out.output_tokens,
            "Latency": out.latency_ms,
            "EstimatedCost": out.cost_usd,
            "CacheHits": int(out.cached),
            "GuardrailInterventions": int(
                out.guardrail_input != NONE or out.guardrail_output != NONE
            ),
            "Fallbacks": int(out.fallback),
            "Errors": int(trace["outcome"] == "error"),
        }
        if out.model_latency_ms:
            values["ModelLatency"] = out.model_latency_ms
        dimensions = {"Pattern": trace["pattern"], "ModelId": out.model or "none"}
        self.emit(emf_line(self.namespace, int(now * 1000), dimensions, values))
