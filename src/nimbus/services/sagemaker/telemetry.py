"""Endpoint logs and AWS/SageMaker metrics, written in batches off the request's path."""

from __future__ import annotations

import time
from typing import Any

from nimbus.services.telemetry_batch import BatchedTelemetry, stats_datum, values_datums


class Telemetry(BatchedTelemetry):
    """Queues log lines and invocation samples; one logs write and one metrics write per flush."""

    namespace = "AWS/SageMaker"

    def __init__(self, registry: Any) -> None:
        super().__init__(registry)
        # (endpoint, variant) -> [(model_us, overhead_us, status)]
        self._samples: dict[tuple[str, str], list[tuple[int, int, int]]] = {}

    def log_line(self, group: str, stream: str, line: str) -> None:
        self.queue_logs(group, stream, [(int(time.time() * 1000), line)])

    def invocation(
        self, endpoint: str, variant: str, model_us: int, overhead_us: int, status: int
    ) -> None:
        self._samples.setdefault((endpoint, variant), []).append((model_us, overhead_us, status))
        self.schedule()

    def take_metrics(self) -> list[dict[str, Any]]:
        samples, self._samples = self._samples, {}
        return aggregate(samples)


def aggregate(samples: dict[tuple[str, str], list[tuple[int, int, int]]]) -> list[dict[str, Any]]:
    """A few datums per variant per flush, not five per invocation."""
    data: list[dict[str, Any]] = []
    for (endpoint, variant), rows in samples.items():
        dims = [
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": variant},
        ]
        ones = [1.0] * len(rows)
        data.append(stats_datum("Invocations", dims, "Count", ones))
        data.append(stats_datum("InvocationsPerInstance", dims, "Count", ones))
        for name, low in (("Invocation4XXErrors", 400), ("Invocation5XXErrors", 500)):
            errors = [float(low <= status < low + 100) for _, _, status in rows]
            data.append(stats_datum(name, dims, "Count", errors))
        for index, name in ((0, "ModelLatency"), (1, "OverheadLatency")):
            values = [float(row[index]) for row in rows]
            data += values_datums(name, dims, "Microseconds", values)
    return data
