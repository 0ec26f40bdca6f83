"""AWS/Bedrock metrics and model invocation logs, written in batches off the request's path.

Each invocation adds a sample; a flush (50 ms later, one per burst) writes a few statistic-set
datums per model id through the cloudwatch provider and, when model invocation logging is on,
one log event per invocation to its CloudWatch Logs group, shaped like AWS's
``ModelInvocationLog`` records.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nimbus.services.telemetry_batch import BatchedTelemetry, stats_datum, values_datums

log = logging.getLogger("nimbus.bedrock")

NAMESPACE = "AWS/Bedrock"
LOG_STREAM = "aws/bedrock/modelinvocations"


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


def aggregate(samples: list[Invocation]) -> list[dict[str, Any]]:
    by_model: dict[str, list[Invocation]] = {}
    for sample in samples:
        by_model.setdefault(sample.model_id, []).append(sample)
    data: list[dict[str, Any]] = []
    for model_id, rows in by_model.items():
        dims = [{"Name": "ModelId", "Value": model_id}]
        ok = [r for r in rows if r.status < 400]
        if ok:
            data.append(stats_datum("Invocations", dims, "Count", [1.0] * len(ok)))
            for name, values in (
                ("InputTokenCount", [float(r.input_tokens) for r in ok]),
                ("OutputTokenCount", [float(r.output_tokens) for r in ok]),
            ):
                data.append(stats_datum(name, dims, "Count", values))
            data += values_datums("InvocationLatency", dims, "Milliseconds",
                                  [r.latency_ms for r in ok])  # fmt: skip
        for name, failed in (
            ("InvocationThrottles", [r for r in rows if r.status == 429]),
            (
                "InvocationClientErrors",
                [r for r in rows if 400 <= r.status < 500 and r.status != 429],
            ),
            ("InvocationServerErrors", [r for r in rows if r.status >= 500]),
        ):
            if failed:
                data.append(stats_datum(name, dims, "Count", [1.0] * len(failed)))
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


class Telemetry(BatchedTelemetry):
    namespace = NAMESPACE

    def __init__(self, registry: Any, logging_config: Callable[[], dict[str, Any] | None]) -> None:
        super().__init__(registry)
        self.logging_config = logging_config
        self._samples: list[Invocation] = []

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
                self.queue_logs(group, LOG_STREAM, [(int(sample.timestamp * 1000), line)])
                return
        self.schedule()

    def take_metrics(self) -> list[dict[str, Any]]:
        samples, self._samples = self._samples, []
        return aggregate(samples)
