"""Schedule expressions against the examples in AWS's EventBridge documentation."""
# ruff: noqa: E501  (one documented example per line reads best)

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nimbus.aws.errors import AwsError
from nimbus.services.events.schedule import parse


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fires(expression: str, start: str, count: int) -> list[str]:
    schedule, t, out = parse(expression), at(start), []
    for _ in range(count):
        t = schedule.next_after(t)
        assert t is not None
        out.append(t.strftime("%a %Y-%m-%d %H:%M"))
    return out


# 2026-11-20 is a Friday.
@pytest.mark.parametrize(
    ("expression", "start", "expected"),
    [
        # Run at 10:00 am (UTC+0) every day
        ("cron(0 10 * * ? *)", "2026-11-20 10:00", ["Sat 2026-11-21 10:00", "Sun 2026-11-22 10:00"]),
        # Run at 12:15 pm (UTC+0) every day
        ("cron(15 12 * * ? *)", "2026-11-20 09:00", ["Fri 2026-11-20 12:15", "Sat 2026-11-21 12:15"]),
        # Run at 6:00 pm (UTC+0) every Monday through Friday
        ("cron(0 18 ? * MON-FRI *)", "2026-11-20 19:00", ["Mon 2026-11-23 18:00", "Tue 2026-11-24 18:00"]),
        # Run at 8:00 am (UTC+0) every 1st day of the month
        ("cron(0 8 1 * ? *)", "2026-11-20 00:00", ["Tue 2026-12-01 08:00", "Fri 2027-01-01 08:00"]),
        # Run every 15 minutes
        ("cron(0/15 * * * ? *)", "2026-11-20 10:07", ["Fri 2026-11-20 10:15", "Fri 2026-11-20 10:30", "Fri 2026-11-20 10:45", "Fri 2026-11-20 11:00"]),
        # Run every 10 minutes Monday through Friday
        ("cron(0/10 * ? * MON-FRI *)", "2026-11-20 23:45", ["Fri 2026-11-20 23:50", "Mon 2026-11-23 00:00"]),
        # Run every 5 minutes Monday through Friday between 8:00 am and 5:55 pm (UTC+0)
        ("cron(0/5 8-17 ? * MON-FRI *)", "2026-11-20 17:52", ["Fri 2026-11-20 17:55", "Mon 2026-11-23 08:00"]),
        # Run at 9:00 am on the first Monday of every month
        ("cron(0 9 ? * 2#1 *)", "2026-11-20 00:00", ["Mon 2026-12-07 09:00", "Mon 2027-01-04 09:00"]),
        # Run at 10:15 am on the last Friday of every month during the years 2026 to 2027
        ("cron(15 10 ? * 6L 2026-2027)", "2026-11-01 00:00", ["Fri 2026-11-27 10:15", "Fri 2026-12-25 10:15"]),
        # Day-of-week by number: 1 = SUN ... 7 = SAT; L alone is the last day of the week (SAT)
        ("cron(0 12 ? * 1,7 *)", "2026-11-20 00:00", ["Sat 2026-11-21 12:00", "Sun 2026-11-22 12:00"]),
        ("cron(0 12 ? * L *)", "2026-11-20 00:00", ["Sat 2026-11-21 12:00", "Sat 2026-11-28 12:00"]),
        # Last day of the month, and the last weekday of the month
        ("cron(0 0 L * ? *)", "2026-11-20 00:00", ["Mon 2026-11-30 00:00", "Thu 2026-12-31 00:00", "Sun 2027-01-31 00:00", "Sun 2027-02-28 00:00"]),
        ("cron(0 0 LW * ? *)", "2027-01-01 00:00", ["Fri 2027-01-29 00:00", "Fri 2027-02-26 00:00"]),
        # The weekday nearest the 15th (2026-11-15 is a Sunday -> Monday 16th), and the 1st W
        ("cron(0 6 15W * ? *)", "2026-11-01 00:00", ["Mon 2026-11-16 06:00", "Tue 2026-12-15 06:00"]),
        ("cron(0 6 1W * ? *)", "2026-07-20 00:00", ["Mon 2026-08-03 06:00"]),  # Aug 1 is a Saturday
        # Lists, ranges with steps, month names, a wrapping hour range
        ("cron(5,35 */6 * JAN,JUL ? *)", "2026-11-20 00:00", ["Fri 2027-01-01 00:05", "Fri 2027-01-01 00:35", "Fri 2027-01-01 06:05"]),
        ("cron(0 22-1 ? * FRI *)", "2026-11-20 21:00", ["Fri 2026-11-20 22:00", "Fri 2026-11-20 23:00", "Fri 2026-11-27 00:00"]),
        # Leap day only
        ("cron(0 0 29 2 ? *)", "2026-01-01 00:00", ["Tue 2028-02-29 00:00"]),
    ],
)  # fmt: skip
def test_cron_documented_examples(expression: str, start: str, expected: list[str]) -> None:
    assert fires(expression, start, len(expected)) == expected


def test_cron_ends_with_its_last_year() -> None:
    assert parse("cron(0 0 1 1 ? 2027)").next_after(at("2027-01-01 00:00")) is None


def test_rate_counts_from_its_anchor_minute() -> None:
    rate = parse("rate(5 minutes)")
    anchor = at("2026-11-22 10:00:40")
    assert rate.next_after(anchor, anchor) == at("2026-11-22 10:05")
    assert rate.next_after(at("2026-11-22 10:05"), anchor) == at("2026-11-22 10:10")
    assert rate.next_after(at("2026-11-22 11:03:10"), anchor) == at("2026-11-22 11:05")
    assert parse("rate(1 hour)").next_after(anchor, anchor) == at("2026-11-22 11:00")
    assert parse("rate(2 days)").next_after(anchor, anchor) == at("2026-11-24 10:00")


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",  # 1 takes the singular
        "rate(5 minute)",  # more than 1 takes the plural
        "rate(0 minutes)",
        "rate(5 seconds)",
        "rate(-1 minutes)",
        "rate(minutes)",
        "cron(0 10 * * ?)",  # five fields
        "cron(0 10 * * * *)",  # day-of-month and day-of-week both given
        "cron(0 10 ? * ? *)",  # neither given
        "cron(60 * * * ? *)",
        "cron(0 24 * * ? *)",
        "cron(0 0 32 * ? *)",
        "cron(0 0 ? 13 MON *)",
        "cron(0 0 ? * 8 *)",
        "cron(0 0 ? * FUN *)",
        "cron(0 0 ? * 2#6 *)",
        "cron(0/0 * * * ? *)",
        "cron(0 0 * * ? 1969)",
        "every 5 minutes",
        "",
    ],
)
def test_invalid_expressions_are_validation_errors(expression: str) -> None:
    with pytest.raises(AwsError) as info:
        parse(expression)
    assert info.value.code == "ValidationException"
    assert info.value.message == "Parameter ScheduleExpression is not valid."
