"""Statistics over raw metric samples, per period bucket.

Percentiles use the nearest-rank definition: pNN is the smallest observed value v such that at
least NN % of the samples (weighted by their counts) are <= v. That matches CloudWatch's
documented meaning ("p95: 95 percent of the data within the period is lower than this value")
and, like CloudWatch, always returns a value that was actually published, never an
interpolation between two samples.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

BASIC_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d{1,2})?|100(?:\.0{1,2})?)")


def parse_percentile(stat: str) -> float | None:
    """``p99`` / ``p99.9`` -> 99.0 / 99.9; None when ``stat`` is not a percentile."""
    m = PERCENTILE.fullmatch(stat)
    return float(m.group(1)) if m else None


@dataclass(slots=True)
class Bucket:
    """Aggregates of one period: exact sums plus the raw (value, count) samples."""

    count: float = 0.0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    samples: list[tuple[float, float]] = field(default_factory=list)
    # Statistic sets with min != max carry no raw values: percentiles are unavailable.
    summarized_only: bool = False
    # CloudWatch offers no percentiles for a metric with any negative value.
    has_negative: bool = False
    unit: str = "None"

    def add(
        self,
        count: float,
        total: float,
        minimum: float,
        maximum: float,
        value: float | None,
        unit: str,
    ) -> None:
        self.count += count
        self.total += total
        self.minimum = min(self.minimum, minimum)
        self.maximum = max(self.maximum, maximum)
        self.unit = unit
        if minimum < 0:
            self.has_negative = True
        if value is not None:
            self.samples.append((value, count))
        else:
            self.summarized_only = True

    def statistic(self, stat: str) -> float | None:
        if self.count <= 0:
            return None
        if stat == "SampleCount":
            return self.count
        if stat == "Sum":
            return self.total
        if stat == "Average":
            return self.total / self.count
        if stat == "Minimum":
            return self.minimum
        if stat == "Maximum":
            return self.maximum
        p = parse_percentile(stat)
        if p is None or self.summarized_only or self.has_negative:
            return None
        return percentile(self.samples, p)


def percentile(samples: list[tuple[float, float]], p: float) -> float | None:
    """Nearest-rank percentile of weighted samples ((value, count) pairs)."""
    if not samples:
        return None
    ordered = sorted(samples)
    total = sum(c for _, c in ordered)
    # Rank of the wanted sample, 1-based; p0 is the minimum.
    rank = max(math.ceil(p / 100.0 * total - 1e-9), 1)
    seen = 0.0
    for value, count in ordered:
        seen += count
        if seen >= rank:
            return value
    return ordered[-1][0]


def bucket_start(ts: float, period: int) -> int:
    """Start (epoch seconds) of the period bucket holding ``ts``: buckets align to the period."""
    return int(ts // period * period)
