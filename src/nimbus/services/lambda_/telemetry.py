"""Invocation logs and metrics, written in batches off the request's path."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("nimbus.lambda")

_FLUSH_DELAY_S = 0.02  # short enough that logs show up "right away", long enough to batch


class Telemetry:
    """Queues (group, stream) log events and AWS/Lambda metrics; one write per flush."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self._logs: dict[tuple[str, str], list[tuple[int, str]]] = {}
        self._metrics: list[dict[str, Any]] = []
        self._invocations: list[tuple[str, float, bool, int]] = []
        self._scheduled: asyncio.TimerHandle | None = None

    def log_events(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        self._logs.setdefault((group, stream), []).extend(events)
        self._schedule()

    def invocation(self, function: str, duration_ms: float, error: bool, concurrent: int) -> None:
        self._invocations.append((function, duration_ms, error, concurrent))
        self._schedule()

    def metrics(self, data: list[dict[str, Any]]) -> None:
        self._metrics.extend(data)
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
        metrics, self._metrics = self._metrics, []
        invocations, self._invocations = self._invocations, []
        metrics += aggregate(invocations) if invocations else []
        try:
            if pending:
                items = [(group, stream, events) for (group, stream), events in pending.items()]
                self.registry.get("logs").append_many(items)
            for start in range(0, len(metrics), 1000):
                self.registry.get("cloudwatch").put_metrics(
                    "AWS/Lambda", metrics[start : start + 1000]
                )
        except Exception:  # telemetry must never fail an invocation
            log.exception("could not write Lambda logs or metrics")


def _stats(values: list[float]) -> dict[str, float]:
    return {"SampleCount": float(len(values)), "Sum": float(sum(values)),
            "Minimum": float(min(values)), "Maximum": float(max(values))}  # fmt: skip


def aggregate(samples: list[tuple[str, float, bool, int]]) -> list[dict[str, Any]]:
    """One flush's invocations as a few statistic-set datums per function, not 5 per invoke."""
    by_function: dict[str, list[tuple[float, bool, int]]] = {}
    for function, duration, error, concurrent in samples:
        by_function.setdefault(function, []).append((duration, error, concurrent))
    data: list[dict[str, Any]] = []
    for function, rows in by_function.items():
        dims = [{"Name": "FunctionName", "Value": function}]
        count = "Count"
        data.append({"MetricName": "Invocations", "Dimensions": dims, "Unit": count,
                     "StatisticValues": _stats([1.0] * len(rows))})  # fmt: skip
        data.append({"MetricName": "Errors", "Dimensions": dims, "Unit": count,
                     "StatisticValues": _stats([float(e) for _, e, _ in rows])})  # fmt: skip
        concurrency = _stats([float(c) for _, _, c in rows])
        data.append({"MetricName": "ConcurrentExecutions", "Dimensions": dims, "Unit": count,
                     "StatisticValues": concurrency})  # fmt: skip
        data.append({"MetricName": "ConcurrentExecutions", "Unit": count,
                     "StatisticValues": concurrency})  # fmt: skip
        durations = [d for d, _, _ in rows]
        for start in range(0, len(durations), 150):  # Values keeps percentiles exact
            data.append({"MetricName": "Duration", "Dimensions": dims, "Unit": "Milliseconds",
                         "Values": durations[start : start + 150]})  # fmt: skip
    return data


def throttle_metrics(function: str) -> list[dict[str, Any]]:
    dims = [{"Name": "FunctionName", "Value": function}]
    return [{"MetricName": "Throttles", "Dimensions": dims, "Value": 1.0, "Unit": "Count"}]
