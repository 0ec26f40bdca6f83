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
        if self.summarized_only or self.has_negative:
            return None  # these need the raw values
        p = parse_percentile(stat)
        if p is not None:
            return percentile(self.samples, p)
        spec = parse_range_statistic(stat)
        return range_statistic(self.samples, spec) if spec else None


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


@dataclass(frozen=True, slots=True)
class RangeStat:
    """tm/wm/tc/ts/PR/IQM: a statistic over the values between two bounds."""

    kind: str  # tm | wm | tc | ts | pr
    low: float | None  # None: unbounded
    high: float | None
    percent: bool  # bounds are percentiles (else absolute values)


_SHORT_RANGE = re.compile(r"(tm|wm|tc|ts)(\d{1,2}(?:\.\d{1,10})?)", re.IGNORECASE)
_LONG_RANGE = re.compile(
    r"(tm|wm|tc|ts|pr)\((\d+(?:\.\d+)?)?(%?):(\d+(?:\.\d+)?)?(%?)\)", re.IGNORECASE
)


def parse_range_statistic(stat: str) -> RangeStat | None:
    """``tm90``, ``TM(10%:90%)``, ``TM(150:1000)``, ``IQM``, ``PR(:300)`` ...; else None."""
    if stat.upper() == "IQM":
        return RangeStat("tm", 25.0, 75.0, True)
    if m := _SHORT_RANGE.fullmatch(stat):
        return RangeStat(m[1].lower(), None, float(m[2]), True)
    m = _LONG_RANGE.fullmatch(stat)
    if m is None or (m[2] is None and m[4] is None):
        return None
    percent = bool(m[3] or m[5])
    kind = m[1].lower()
    if kind == "pr" and percent:
        return None  # percentile rank takes values, not percentages
    low = float(m[2]) if m[2] is not None else None
    high = float(m[4]) if m[4] is not None else None
    if percent and any(b is not None and b > 100 for b in (low, high)):
        return None
    return RangeStat(kind, low, high, percent)


def range_statistic(samples: list[tuple[float, float]], spec: RangeStat) -> float | None:
    """Trimmed/winsorized mean, trimmed count/sum, or percentile rank of weighted samples.

    Percentage bounds cut by rank (fractional weights allowed, hence decimal trimmed
    counts as on AWS); value bounds keep low < v <= high.
    """
    ordered = sorted(samples)
    total = sum(c for _, c in ordered)
    if not ordered or total <= 0:
        return None
    if spec.kind == "pr":
        low = -math.inf if spec.low is None else spec.low
        high = math.inf if spec.high is None else spec.high
        inside = sum(c for v, c in ordered if low < v <= high)
        return 100.0 * inside / total
    if spec.kind == "wm":
        lo_p = 0.0 if spec.low is None else spec.low
        hi_p = 100.0 if spec.high is None else spec.high
        if spec.percent:
            floor_v, ceil_v = percentile(ordered, lo_p), percentile(ordered, hi_p)
        else:
            floor_v = -math.inf if spec.low is None else spec.low
            ceil_v = math.inf if spec.high is None else spec.high
        assert floor_v is not None and ceil_v is not None
        return sum(min(max(v, floor_v), ceil_v) * c for v, c in ordered) / total
    kept: list[tuple[float, float]] = []
    if spec.percent:
        lo_rank = (spec.low or 0.0) / 100 * total
        hi_rank = (100.0 if spec.high is None else spec.high) / 100 * total
        seen = 0.0
        for v, c in ordered:
            share = max(0.0, min(seen + c, hi_rank) - max(seen, lo_rank))
            if share > 0:
                kept.append((v, share))
            seen += c
    else:
        low = -math.inf if spec.low is None else spec.low
        high = math.inf if spec.high is None else spec.high
        kept = [(v, c) for v, c in ordered if low < v <= high]
    count = sum(c for _, c in kept)
    if spec.kind == "tc":
        return count
    weighted = sum(v * c for v, c in kept)
    if spec.kind == "ts":
        return weighted
    return weighted / count if count else None


def is_statistic(stat: str) -> bool:
    """Whether ``stat`` names a statistic Nimbus computes (for request validation)."""
    return (
        stat in BASIC_STATISTICS
        or parse_percentile(stat) is not None
        or parse_range_statistic(stat) is not None
    )


def bucket_start(ts: float, period: int) -> int:
    """Start (epoch seconds) of the period bucket holding ``ts``: buckets align to the period."""
    return int(ts // period * period)
