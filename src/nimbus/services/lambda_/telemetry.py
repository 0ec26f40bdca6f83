"""Invocation logs and metrics, written in batches off the request's path."""

from __future__ import annotations

from typing import Any

from nimbus.services.telemetry_batch import BatchedTelemetry, stats_datum, values_datums


class Telemetry(BatchedTelemetry):
    """Queues (group, stream) log events and AWS/Lambda metrics; one write per flush."""

    namespace = "AWS/Lambda"
    delay_s = 0.02  # short enough that logs show up "right away", long enough to batch

    def __init__(self, registry: Any) -> None:
        super().__init__(registry)
        self._metrics: list[dict[str, Any]] = []
        self._invocations: list[tuple[str, float, bool, int]] = []

    def log_events(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        self.queue_logs(group, stream, events)

    def invocation(self, function: str, duration_ms: float, error: bool, concurrent: int) -> None:
        self._invocations.append((function, duration_ms, error, concurrent))
        self.schedule()

    def metrics(self, data: list[dict[str, Any]]) -> None:
        self._metrics.extend(data)
        self.schedule()

    def take_metrics(self) -> list[dict[str, Any]]:
        metrics, self._metrics = self._metrics, []
        invocations, self._invocations = self._invocations, []
        return metrics + aggregate(invocations) if invocations else metrics


def aggregate(samples: list[tuple[str, float, bool, int]]) -> list[dict[str, Any]]:
    """One flush's invocations as a few statistic-set datums per function, not 5 per invoke."""
    by_function: dict[str, list[tuple[float, bool, int]]] = {}
    for function, duration, error, concurrent in samples:
        by_function.setdefault(function, []).append((duration, error, concurrent))
    data: list[dict[str, Any]] = []
    for function, rows in by_function.items():
        dims = [{"Name": "FunctionName", "Value": function}]
        data.append(stats_datum("Invocations", dims, "Count", [1.0] * len(rows)))
        data.append(stats_datum("Errors", dims, "Count", [float(e) for _, e, _ in rows]))
        concurrency = stats_datum("ConcurrentExecutions", dims, "Count",
                                  [float(c) for _, _, c in rows])  # fmt: skip
        data.append(concurrency)
        data.append({k: v for k, v in concurrency.items() if k != "Dimensions"})  # account-wide
        data += values_datums("Duration", dims, "Milliseconds", [d for d, _, _ in rows])
    return data


def throttle_metrics(function: str) -> list[dict[str, Any]]:
    dims = [{"Name": "FunctionName", "Value": function}]
    return [{"MetricName": "Throttles", "Dimensions": dims, "Value": 1.0, "Unit": "Count"}]
