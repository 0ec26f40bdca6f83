"""CloudWatch reads for console charts and summaries, through the cloudwatch provider."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import ConsoleApi

_QUERIES_PER_CALL = 500  # GetMetricData's limit


@dataclass(frozen=True, slots=True)
class Window:
    """A time range aligned to ``period`` so each chart point is one whole bucket."""

    start: float
    end: float
    period: int

    @classmethod
    def last(cls, minutes: int, period: int) -> Window:
        end = time.time()
        start = end - minutes * 60
        return cls(start - start % period, end - end % period + period, period)

    @property
    def whole(self) -> int:
        """A period that puts the whole window in one bucket: buckets align to multiples of
        the period, so one longer than the epoch time holds every sample (exact percentiles
        over the window, not an average of per-minute ones)."""
        return 60 * (int(self.end // 60) + 1)

    def as_json(self) -> dict[str, float]:
        return {"start": self.start * 1000, "end": self.end * 1000, "period": self.period}


def query(qid: str, namespace: str, metric: str, dims: dict[str, str], period: int, stat: str
          ) -> dict[str, Any]:  # fmt: skip
    dimensions = [{"Name": k, "Value": v} for k, v in dims.items()]
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions},
            "Period": period,
            "Stat": stat,
        },
    }


async def fetch(
    api: ConsoleApi, queries: list[dict[str, Any]], window: Window
) -> dict[str, list[list[float]]]:
    """Query id -> ``[[epoch ms, value], ...]`` in time order (empty when there is no data)."""
    series: dict[str, list[list[float]]] = {q["Id"]: [] for q in queries}
    for first in range(0, len(queries), _QUERIES_PER_CALL):
        token = None
        while True:
            out = await api.call(
                "cloudwatch",
                "GetMetricData",
                MetricDataQueries=queries[first : first + _QUERIES_PER_CALL],
                ScanBy="TimestampAscending",
                StartTime=datetime.fromtimestamp(window.start, tz=UTC),
                EndTime=datetime.fromtimestamp(window.end, tz=UTC),
                NextToken=token,
            )
            for result in out.get("MetricDataResults", []):
                points = zip(result["Timestamps"], result["Values"], strict=True)
                series[result["Id"]] += [[t.timestamp() * 1000, v] for t, v in points]
            token = out.get("NextToken")
            if not token:
                break
    for points in series.values():
        points.sort()
    return series


def total(points: list[list[float]]) -> float:
    return sum(p[1] for p in points)


def first_value(points: list[list[float]]) -> float | None:
    return points[0][1] if points else None


def added(*series: list[list[float]]) -> list[list[float]]:
    """Point-wise sum of series (a timestamp missing from one counts as 0 there)."""
    sums: dict[float, float] = {}
    for points in series:
        for t, v in points:
            sums[t] = sums.get(t, 0.0) + v
    return [[t, sums[t]] for t in sorted(sums)]
