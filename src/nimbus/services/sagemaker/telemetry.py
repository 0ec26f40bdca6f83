"""Endpoint logs and AWS/SageMaker metrics, written in batches off the request's path."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

log = logging.getLogger("nimbus.sagemaker")

_FLUSH_DELAY_S = 0.05


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "SampleCount": float(len(values)),
        "Sum": float(sum(values)),
        "Minimum": float(min(values)),
        "Maximum": float(max(values)),
    }


class Telemetry:
    """Queues log lines and invocation samples; one logs write and one metrics write per flush."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self._logs: dict[tuple[str, str], list[tuple[int, str]]] = {}
        # (endpoint, variant) -> [(model_us, overhead_us, status)]
        self._samples: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
        self._scheduled: asyncio.TimerHandle | None = None

    def log_line(self, group: str, stream: str, line: str) -> None:
        self._logs.setdefault((group, stream), []).append((int(time.time() * 1000), line))
        self._schedule()

    def invocation(
        self, endpoint: str, variant: str, model_us: int, overhead_us: int, status: int
    ) -> None:
        self._samples.setdefault((endpoint, variant), []).append((model_us, overhead_us, status))
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
        pending, self._logs = self._logs, {}
        samples, self._samples = self._samples, {}
        try:
            if pending:
                items = [(group, stream, events) for (group, stream), events in pending.items()]
                self.registry.get("logs").append_many(items)
            metrics = aggregate(samples)
            for start in range(0, len(metrics), 1000):
                self.registry.get("cloudwatch").put_metrics(
                    "AWS/SageMaker", metrics[start : start + 1000]
                )
        except Exception:  # telemetry must never fail an invocation
            log.exception("could not write SageMaker logs or metrics")


def aggregate(samples: dict[tuple[str, str], list[tuple[int, int, int]]]) -> list[dict[str, Any]]:
    """A few datums per variant per flush, not five per invocation."""
    data: list[dict[str, Any]] = []
    for (endpoint, variant), rows in samples.items():
        dims = [
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": variant},
        ]
        count = "Count"
        ones = [1.0] * len(rows)
        data.append(
            {
                "MetricName": "Invocations",
                "Dimensions": dims,
                "Unit": count,
                "StatisticValues": _stats(ones),
            }
        )
        data.append(
            {
                "MetricName": "InvocationsPerInstance",
                "Dimensions": dims,
                "Unit": count,
                "StatisticValues": _stats(ones),
            }
        )
        for name, low in (("Invocation4XXErrors", 400), ("Invocation5XXErrors", 500)):
            errors = [float(low <= status < low + 100) for _, _, status in rows]
            data.append(
                {
                    "MetricName": name,
                    "Dimensions": dims,
                    "Unit": count,
                    "StatisticValues": _stats(errors),
                }
            )
        for index, name in ((0, "ModelLatency"), (1, "OverheadLatency")):
            values = [float(row[index]) for row in rows]
            for start in range(0, len(values), 150):  # Values keeps percentiles exact
                data.append(
                    {
                        "MetricName": name,
                        "Dimensions": dims,
                        "Unit": "Microseconds",
                        "Values": values[start : start + 150],
                    }
                )
    return data
