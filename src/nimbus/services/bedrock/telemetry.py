"""AWS/Bedrock metrics and model invocation logs, written in batches off the request's path.

Each invocation adds a sample; a flush (50 ms later, one per burst) writes a few statistic-set
datums per model id through the cloudwatch provider and, when model invocation logging is on,
one log event per invocation to its CloudWatch Logs group, shaped like AWS's
``ModelInvocationLog`` records.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("nimbus.bedrock")

NAMESPACE = "AWS/Bedrock"
LOG_STREAM = "aws/bedrock/modelinvocations"
_FLUSH_DELAY_S = 0.05


@dataclass(slots=True)
class Invocation:
    operation: str
    model_id: str
    request_id: str
    identity_arn: str
    region: str
    account_id: str
    latency_ms: float
    input_tokens: int = 0
    output_tokens: int = 0
    status: int = 200
    error_code: str | None = None
    # Built only when invocation logging is on: the request and response bodies as JSON.
    input_body: Callable[[], Any] | None = None
    output_body: Callable[[], Any] | None = None
    timestamp: float = 0.0


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "SampleCount": float(len(values)),
        "Sum": float(sum(values)),
        "Minimum": float(min(values)),
        "Maximum": float(max(values)),
    }


def aggregate(samples: list[Invocation]) -> list[dict[str, Any]]:
    by_model: dict[str, list[Invocation]] = {}
    for sample in samples:
        by_model.setdefault(sample.model_id, []).append(sample)
    data: list[dict[str, Any]] = []
    for model_id, rows in by_model.items():
        dims = [{"Name": "ModelId", "Value": model_id}]
        ok = [r for r in rows if r.status < 400]

        def counted(name: str, values: list[float], unit: str = "Count", dims: list = dims) -> None:
            data.append(
                {
                    "MetricName": name,
                    "Dimensions": dims,
                    "Unit": unit,
                    "StatisticValues": _stats(values),
                }
            )

        if ok:
            counted("Invocations", [1.0] * len(ok))
            counted("InputTokenCount", [float(r.input_tokens) for r in ok])
            counted("OutputTokenCount", [float(r.output_tokens) for r in ok])
            latencies = [r.latency_ms for r in ok]
            for start in range(0, len(latencies), 150):  # Values keeps percentiles exact
                data.append(
                    {
                        "MetricName": "InvocationLatency",
                        "Dimensions": dims,
                        "Unit": "Milliseconds",
                        "Values": latencies[start : start + 150],
                    }
                )
        throttles = [1.0 for r in rows if r.status == 429]
        client = [1.0 for r in rows if 400 <= r.status < 500 and r.status != 429]
        server = [1.0 for r in rows if r.status >= 500]
        for name, values in (
            ("InvocationThrottles", throttles),
            ("InvocationClientErrors", client),
            ("InvocationServerErrors", server),
        ):
            if values:
                counted(name, values)
    return data


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return str(value)


def _strip_images(value: Any) -> Any:
    """Bodies without image bytes (imageDataDeliveryEnabled false)."""
    if isinstance(value, dict):
        return {
            k: (
                "<omitted>"
                if k in ("bytes", "data") and isinstance(v, bytes | str) and len(v) > 256
                else _strip_images(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_strip_images(v) for v in value]
    return value


def _strip_embeddings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in ("embedding", "embeddingsByType")}
    return value


def log_record(sample: Invocation, config: dict[str, Any]) -> str:
    text_on = config.get("textDataDeliveryEnabled", True)
    record: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sample.timestamp)),
        "accountId": sample.account_id,
        "identity": {"arn": sample.identity_arn},
        "region": sample.region,
        "requestId": sample.request_id,
        "operation": sample.operation,
        "modelId": sample.model_id,
    }
    given: dict[str, Any] = {"inputContentType": "application/json"}
    if text_on and sample.input_body is not None:
        body = sample.input_body()
        if not config.get("imageDataDeliveryEnabled", True):
            body = _strip_images(body)
        given["inputBodyJson"] = body
    given["inputTokenCount"] = sample.input_tokens
    record["input"] = given
    if sample.error_code:
        record["errorCode"] = sample.error_code
    else:
        answer: dict[str, Any] = {"outputContentType": "application/json"}
        if text_on and sample.output_body is not None:
            body = sample.output_body()
            if not config.get("embeddingDataDeliveryEnabled", True):
                body = _strip_embeddings(body)
            answer["outputBodyJson"] = body
        answer["outputTokenCount"] = sample.output_tokens
        record["output"] = answer
    return json.dumps(record, default=_json_default, ensure_ascii=False, separators=(",", ":"))


class Telemetry:
    def __init__(self, registry: Any, logging_config: Callable[[], dict[str, Any] | None]) -> None:
        self.registry = registry
        self.logging_config = logging_config
        self._samples: list[Invocation] = []
        self._logs: dict[str, list[tuple[int, str]]] = {}
        self._scheduled: asyncio.TimerHandle | None = None

    def logging_on(self) -> bool:
        config = self.logging_config()
        return bool(config and config.get("cloudWatchConfig"))

    def record(self, sample: Invocation) -> None:
        sample.timestamp = sample.timestamp or time.time()
        self._samples.append(sample)
        config = self.logging_config()
        group = ((config or {}).get("cloudWatchConfig") or {}).get("logGroupName")
        if group:
            try:
                line = log_record(sample, config or {})
            except Exception:  # a body that won't serialise must not fail the invocation
                log.exception("could not build a model invocation log record")
            else:
                self._logs.setdefault(group, []).append((int(sample.timestamp * 1000), line))
        self._schedule()

    def _schedule(self) -> None:
        if self._scheduled is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._scheduled = loop.call_later(_FLUSH_DELAY_S, self.flush)

    def flush(self) -> None:
        self._scheduled = None
        samples, self._samples = self._samples, []
        pending, self._logs = self._logs, {}
        try:
            if pending:
                items = [(group, LOG_STREAM, events) for group, events in pending.items()]
                self.registry.get("logs").append_many(items)
            metrics = aggregate(samples)
            for start in range(0, len(metrics), 1000):
                self.registry.get("cloudwatch").put_metrics(
                    NAMESPACE, metrics[start : start + 1000]
                )
        except Exception:  # telemetry must never fail an invocation
            log.exception("could not write Bedrock metrics or invocation logs")
