"""Console API for Bedrock models: the catalog, the backend serving each model, and its
AWS/Bedrock metrics (totals and percentiles over a window, series for charts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nimbus.aws.http import HttpRequest
from nimbus.config import bedrock_models_path
from nimbus.services.bedrock import catalog
from nimbus.services.bedrock.backends.config import ModelRoute, shown_url

from . import metrics
from .api import Params

if TYPE_CHECKING:
    from .api import ConsoleApi

NAMESPACE = "AWS/Bedrock"
_ERRORS = ("InvocationClientErrors", "InvocationServerErrors", "InvocationThrottles")
# (key, metric, statistic) of a model's summary over the whole window
_TOTALS = (
    ("invocations", "Invocations", "Sum"),
    ("inputTokens", "InputTokenCount", "Sum"),
    ("outputTokens", "OutputTokenCount", "Sum"),
    ("latencyP50", "InvocationLatency", "p50"),
    ("latencyP99", "InvocationLatency", "p99"),
    *((f"err{i}", name, "Sum") for i, name in enumerate(_ERRORS)),
)
_SPARK = (("sInv", "Invocations"), ("sIn", "InputTokenCount"), ("sOut", "OutputTokenCount"))
_LABELS = {"builtin": "built-in offline model", "openai": "OpenAI-compatible server",
           "bedrock": "real Amazon Bedrock"}  # fmt: skip


def backend(route: ModelRoute, model_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": route.kind, "label": _LABELS[route.kind],
                           "configured": route.explicit}  # fmt: skip
    if route.explicit:
        out["match"] = route.match
    if route.kind == "openai":
        out["baseUrl"] = shown_url(route.base_url)
        out["model"] = route.model or catalog.base_model_id(model_id)
    elif route.kind == "bedrock":
        out["region"] = route.region or None
        out["profile"] = route.profile or None
    elif route.token_delay_ms:
        out["tokenDelayMs"] = route.token_delay_ms
    if route.fallback:
        out["fallback"] = list(route.fallback)
    return out


def _row(model_id: str, model: catalog.FoundationModel | None) -> dict[str, Any]:
    if model is None:  # a configured id outside the catalog (an Ollama model name, say)
        return {"modelId": model_id, "modelName": model_id, "provider": "Custom",
                "inputModalities": [], "outputModalities": [], "streaming": True}  # fmt: skip
    name = model.name if model.model_id == model_id else f"{model.name} (inference profile)"
    return {
        "modelId": model_id,
        "modelName": name,
        "provider": model.provider,
        "inputModalities": list(model.input_modalities),
        "outputModalities": list(model.output_modalities),
        "streaming": model.streaming,
    }


async def _active_model_ids(api: ConsoleApi, recent: bool) -> list[str]:
    """ModelId dimension values with AWS/Bedrock data (in the last three hours if ``recent``)."""
    found: list[str] = []
    token = None
    for _ in range(20):
        out = await api.call("cloudwatch", "ListMetrics", Namespace=NAMESPACE, NextToken=token,
                             RecentlyActive="PT3H" if recent else None)  # fmt: skip
        for metric in out.get("Metrics", []):
            for dim in metric.get("Dimensions", []):
                if dim["Name"] == "ModelId" and dim["Value"] not in found:
                    found.append(dim["Value"])
        token = out.get("NextToken")
        if not token:
            break
    return found


async def _stats(api: ConsoleApi, model_ids: list[str], window: metrics.Window) -> dict[str, Any]:
    queries = []
    for i, model_id in enumerate(model_ids):
        dims = {"ModelId": model_id}
        queries += [metrics.query(f"m{i}_{key}", NAMESPACE, name, dims, window.whole, stat)
                    for key, name, stat in _TOTALS]  # fmt: skip
        queries += [metrics.query(f"m{i}_{key}", NAMESPACE, name, dims, window.period, "Sum")
                    for key, name in _SPARK]  # fmt: skip
    series = await metrics.fetch(api, queries, window)
    stats: dict[str, Any] = {}
    for i, model_id in enumerate(model_ids):
        got = {key: series[f"m{i}_{key}"] for key, *_ in (*_TOTALS, *_SPARK)}
        stats[model_id] = {
            "invocations": metrics.total(got["invocations"]),
            "inputTokens": metrics.total(got["inputTokens"]),
            "outputTokens": metrics.total(got["outputTokens"]),
            "latencyP50": metrics.first_value(got["latencyP50"]),
            "latencyP99": metrics.first_value(got["latencyP99"]),
            "errors": sum(metrics.total(got[f"err{n}"]) for n in range(len(_ERRORS))),
            "series": {
                "invocations": got["sInv"],
                "tokens": metrics.added(got["sIn"], got["sOut"]),
            },
        }
    return stats


async def list_models(api: ConsoleApi, request: HttpRequest, params: Params) -> Any:
    minutes = params.number("minutes", 60, 5, 24 * 60)
    window = metrics.Window.last(minutes, params.number("period", 60, 60, 3600))
    runtime = api.registry.get("bedrock-runtime")
    active = await _active_model_ids(api, recent=minutes <= 180)
    ids = [m.model_id for m in catalog.MODELS]
    ids += [m for m in active if m not in catalog.BY_ID]
    stats = await _stats(api, [m for m in ids if m in active], window)
    models = [
        {**_row(m, catalog.lookup(m)), "backend": backend(runtime.router.route_for(m), m),
         "stats": stats.get(m)}
        for m in ids
    ]  # fmt: skip
    path = bedrock_models_path(api.registry.data_dir)
    config = {"path": str(path) if path else None, "error": runtime.config_error,
              "routes": len(runtime.router.routes)}  # fmt: skip
    return {**window.as_json(), "minutes": minutes, "models": models, "config": config}


async def model_metrics(api: ConsoleApi, request: HttpRequest, params: Params, model: str) -> Any:
    window = metrics.Window.last(params.number("minutes", 60, 5, 24 * 60),
                                 params.number("period", 60, 60, 3600))  # fmt: skip
    dims = {"ModelId": model}
    wanted = [("invocations", "Invocations", "Sum"), ("inputTokens", "InputTokenCount", "Sum"),
              ("outputTokens", "OutputTokenCount", "Sum"),
              ("latency", "InvocationLatency", "Average"),
              *((f"err{i}", name, "Sum") for i, name in enumerate(_ERRORS))]  # fmt: skip
    queries = [metrics.query(k, NAMESPACE, n, dims, window.period, s) for k, n, s in wanted]
    got = await metrics.fetch(api, queries, window)
    series = {k: got[k] for k in ("invocations", "inputTokens", "outputTokens", "latency")}
    series["errors"] = metrics.added(*(got[f"err{i}"] for i in range(len(_ERRORS))))
    series["tokens"] = metrics.added(got["inputTokens"], got["outputTokens"])
    return {**window.as_json(), "modelId": model, "series": series}


def register(api: ConsoleApi) -> None:
    api.add("GET", "bedrock/models", list_models)
    api.add("GET", "bedrock/models/{model}/metrics", model_metrics)
