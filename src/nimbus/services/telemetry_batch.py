"""Service logs and metrics written in batches off the request path (Lambda, SageMaker, Bedrock).

A service queues log events and samples as requests happen; the first one of a burst schedules a
flush ``delay_s`` later, which writes every queued log event in one CloudWatch Logs call and the
service's aggregated datums in CloudWatch calls of at most 1,000.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

log = logging.getLogger("nimbus.telemetry")

Datum = dict[str, Any]
_DATUMS_PER_CALL = 1000
_VALUES_PER_DATUM = 150  # Values (not a statistic set) keeps percentiles exact


def statistic_set(values: list[float]) -> dict[str, float]:
    return {
        "SampleCount": float(len(values)),
        "Sum": float(sum(values)),
        "Minimum": float(min(values)),
        "Maximum": float(max(values)),
    }


def stats_datum(name: str, dims: list[dict[str, str]], unit: str, values: list[float]) -> Datum:
    return {"MetricName": name, "Dimensions": dims, "Unit": unit,
            "StatisticValues": statistic_set(values)}  # fmt: skip


def values_datums(name: str, dims: list[dict[str, str]], unit: str, values: list[float]) -> list:
    return [
        {"MetricName": name, "Dimensions": dims, "Unit": unit,
         "Values": values[start : start + _VALUES_PER_DATUM]}
        for start in range(0, len(values), _VALUES_PER_DATUM)
    ]  # fmt: skip


class BatchedTelemetry:
    namespace: ClassVar[str]
    delay_s: ClassVar[float] = 0.05

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self._logs: dict[tuple[str, str], list[tuple[int, str]]] = {}
        self._scheduled: asyncio.TimerHandle | None = None

    def queue_logs(self, group: str, stream: str, events: list[tuple[int, str]]) -> None:
        self._logs.setdefault((group, stream), []).extend(events)
        self.schedule()

    def take_metrics(self) -> list[Datum]:
        """The datums of the samples queued since the last flush, which are then forgotten."""
        raise NotImplementedError

    def schedule(self) -> None:
        if self._scheduled is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._scheduled = loop.call_later(self.delay_s, self.flush)

    def flush(self) -> None:
        self._scheduled = None
        pending, self._logs = self._logs, {}
        try:
            metrics = self.take_metrics()
            if pending:
                items = [(group, stream, events) for (group, stream), events in pending.items()]
                self.registry.get("logs").append_many(items)
            for start in range(0, len(metrics), _DATUMS_PER_CALL):
                self.registry.get("cloudwatch").put_metrics(
                    self.namespace, metrics[start : start + _DATUMS_PER_CALL]
                )
        except Exception:  # telemetry must never fail a request
            log.exception("could not write %s logs or metrics", self.namespace)
