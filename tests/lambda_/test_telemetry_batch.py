"""The shared batcher behind Lambda, SageMaker and Bedrock telemetry, with a stand-in registry."""

from __future__ import annotations

import asyncio
from typing import Any

from nimbus.services.lambda_.telemetry import Telemetry


class _Sink:
    def __init__(self) -> None:
        self.logs: list[Any] = []
        self.metrics: list[tuple[str, list[dict[str, Any]]]] = []

    def get(self, service: str) -> Any:
        return self

    def append_many(self, items: list[Any]) -> None:
        self.logs.append(items)

    def put_metrics(self, namespace: str, data: list[dict[str, Any]]) -> None:
        self.metrics.append((namespace, data))


def test_a_burst_is_one_logs_write_and_one_metrics_write() -> None:
    sink = _Sink()
    telemetry = Telemetry(sink)

    async def burst() -> None:
        for n in range(3):
            telemetry.log_events("/aws/lambda/f", "s", [(n, f"line {n}")])
            telemetry.invocation("f", 2.0 + n, n == 2, 1)
        await asyncio.sleep(telemetry.delay_s * 3)

    asyncio.run(burst())
    assert sink.logs == [[("/aws/lambda/f", "s", [(0, "line 0"), (1, "line 1"), (2, "line 2")])]]
    [(namespace, data)] = sink.metrics
    by_name = {(d["MetricName"], bool(d.get("Dimensions"))): d for d in data}
    assert namespace == "AWS/Lambda"
    assert by_name[("Invocations", True)]["StatisticValues"]["Sum"] == 3
    assert by_name[("Errors", True)]["StatisticValues"]["Sum"] == 1
    assert by_name[("Duration", True)]["Values"] == [2.0, 3.0, 4.0]
    assert ("ConcurrentExecutions", False) in by_name  # the account-wide series too


def test_a_failing_sink_never_reaches_the_caller() -> None:
    class Broken(_Sink):
        def put_metrics(self, namespace: str, data: list[dict[str, Any]]) -> None:
            raise RuntimeError("disk full")

    telemetry = Telemetry(Broken())
    telemetry.invocation("f", 1.0, False, 1)  # no running loop: flushed at once
