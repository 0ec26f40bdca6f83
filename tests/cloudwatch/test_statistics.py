"""Extended statistics over raw samples, checked against direct computations."""

from __future__ import annotations

import random

import pytest

from nimbus.services.cloudwatch.statistics import (
    parse_range_statistic,
    percentile,
    range_statistic,
)

VALUES = [float(v) for v in range(1, 101)]  # 1..100
SAMPLES = [(v, 1.0) for v in VALUES]


def stat(name: str, samples: list[tuple[float, float]] = SAMPLES) -> float | None:
    spec = parse_range_statistic(name)
    assert spec is not None, name
    return range_statistic(samples, spec)


def test_trimmed_mean_drops_the_top_share() -> None:
    assert stat("tm90") == pytest.approx(sum(VALUES[:90]) / 90)
    assert stat("TM(10%:90%)") == pytest.approx(sum(VALUES[10:90]) / 80)
    assert stat("IQM") == pytest.approx(sum(VALUES[25:75]) / 50)


def test_value_bounds_exclude_low_include_high() -> None:
    inside = [v for v in VALUES if 20 < v <= 30]
    assert stat("TM(20:30)") == pytest.approx(sum(inside) / len(inside))
    assert stat("TC(20:30)") == len(inside)
    assert stat("TS(20:30)") == sum(inside)
    assert stat("PR(:25)") == 25.0
    assert stat("PR(50:)") == 50.0


def test_winsorized_mean_clamps_to_the_boundaries() -> None:
    p98 = percentile(SAMPLES, 98)
    assert stat("wm98") == pytest.approx(sum(min(v, p98) for v in VALUES) / 100)


def test_weighted_samples_equal_repeated_values() -> None:
    rng = random.Random(3)
    values = [float(rng.randint(1, 50)) for _ in range(400)]
    weighted: dict[float, float] = {}
    for v in values:
        weighted[v] = weighted.get(v, 0) + 1
    for name in ("tm80", "TM(5%:95%)", "wm90", "tc75", "ts75", "PR(10:20)"):
        expanded = stat(name, [(v, 1.0) for v in values])
        assert stat(name, list(weighted.items())) == pytest.approx(expanded), name


@pytest.mark.parametrize("bad", ["tm", "TM()", "TM(:)", "PR(10%:20%)", "TM(5%:200%)", "xyz"])
def test_unknown_statistics_are_not_parsed(bad: str) -> None:
    assert parse_range_statistic(bad) is None
