"""EventBridge schedule expressions: ``rate(N unit)`` and 6-field ``cron(...)``, in UTC.

``parse(expression)`` returns a schedule whose ``next_after(t)`` is the first fire time strictly
after ``t`` (``None`` when the expression never fires again). Cron follows AWS's syntax:

    cron(minutes hours day-of-month month day-of-week year)

with ``, - * /`` everywhere, ``?`` in exactly one of day-of-month / day-of-week, ``L`` and ``W``
(``L``, ``LW``, ``15W``) in day-of-month, and ``L`` / ``5L`` / ``2#1`` in day-of-week, whose
values are 1-7 = SUN-SAT. Months take JAN-DEC, days of week SUN-SAT.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from nimbus.aws.errors import AwsError

INVALID = "Parameter ScheduleExpression is not valid."
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d: i + 1 for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"rate\(\s*(\d+)\s+([a-z]+)\s*\)\Z")
_CRON = re.compile(r"cron\(([^()]*)\)\Z")
_LAST_YEAR = 2199


def invalid() -> AwsError:
    return AwsError("ValidationException", INVALID, 400)


def parse(expression: str) -> Rate | Cron:
    """The schedule for ``expression``; ValidationException as AWS words it when malformed."""
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        singular = unit.removesuffix("s")
        if singular not in _UNITS or value < 1 or (unit == singular) != (value == 1):
            raise invalid()  # AWS wants "1 minute" and "5 minutes", never "1 minutes"
        return Rate(value * _UNITS[singular])
    cron = _CRON.match(text)
    if cron:
        return Cron.parse(cron.group(1))
    raise invalid()


def minute_floor(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Rate:
    seconds: int

    def next_after(self, t: datetime, anchor: datetime | None = None) -> datetime:
        """Fires at ``anchor + k * period`` (the anchor is the minute the rule was enabled)."""
        start = minute_floor(anchor or t)
        periods = int((t - start).total_seconds() // self.seconds) + 1
        return start + timedelta(seconds=self.seconds * max(periods, 1))


def _number(token: str, names: dict[str, int]) -> int:
    if token.isdigit():
        return int(token)
    if token.upper() in names:
        return names[token.upper()]
    raise invalid()


def _values(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    """``*``, ``5``, ``1-5``, ``0/15``, ``*/5``, ``8-17/2`` and comma lists of those."""
    names = names or {}
    out: set[int] = set()
    for part in text.split(","):
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise invalid()
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = _number(a, names), _number(b, names)
        else:
            first = _number(base, names)
            last = high if slash else first
        if not (low <= first <= high and low <= last <= high):
            raise invalid()
        if first <= last:
            out.update(range(first, last + 1, step))
        else:  # a wrapping range such as FRI-MON or 22-2
            span = list(range(first, high + 1)) + list(range(low, last + 1))
            out.update(span[::step])
    return out


def _aws_weekday(day: date) -> int:
    """1 = Sunday ... 7 = Saturday."""
    return (day.weekday() + 1) % 7 + 1


def _nearest_weekday(year: int, month: int, dom: int) -> int:
    """The weekday nearest ``dom`` in the same month (``15W``)."""
    last = calendar.monthrange(year, month)[1]
    dom = min(dom, last)
    weekday = date(year, month, dom).weekday()
    if weekday == 5:  # Saturday -> Friday, or Monday when the 1st is a Saturday
        return dom - 1 if dom > 1 else dom + 2
    if weekday == 6:  # Sunday -> Monday, or Friday when it is the month's last day
        return dom + 1 if dom < last else dom - 2
    return dom


@dataclass(frozen=True)
class _DaySpec:
    any: bool = False
    days: frozenset[int] = frozenset()
    last: bool = False  # dom L
    last_weekday: bool = False  # dom LW
    nearest: frozenset[int] = frozenset()  # dom 15W
    last_of: frozenset[int] = frozenset()  # dow 5L: the last Thursday
    nth: frozenset[tuple[int, int]] = frozenset()  # dow 2#1: (weekday, n)


def _dom(text: str) -> _DaySpec:
    if text == "?":
        return _DaySpec(any=True)
    if text == "*":
        return _DaySpec(days=frozenset(range(1, 32)))
    if text == "L":
        return _DaySpec(last=True)
    if text == "LW":
        return _DaySpec(last_weekday=True)
    if text.endswith("W") and "," not in text:
        day = text[:-1]
        if not day.isdigit() or not 1 <= int(day) <= 31:
            raise invalid()
        return _DaySpec(nearest=frozenset({int(day)}))
    return _DaySpec(days=frozenset(_values(text, 1, 31)))


def _dow(text: str) -> _DaySpec:
    if text == "?":
        return _DaySpec(any=True)
    if text == "L":
        return _DaySpec(days=frozenset({7}))
    if "#" in text:
        day, _, n = text.partition("#")
        if not n.isdigit() or not 1 <= int(n) <= 5:
            raise invalid()
        return _DaySpec(nth=frozenset({(_number(day, _DAYS), int(n))}))
    if text.endswith("L"):
        day = _number(text[:-1], _DAYS)
        if not 1 <= day <= 7:
            raise invalid()
        return _DaySpec(last_of=frozenset({day}))
    return _DaySpec(days=frozenset(_values(text, 1, 7, _DAYS)))


@dataclass(frozen=True)
class Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    dom: _DaySpec
    months: frozenset[int]
    dow: _DaySpec
    years: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, body: str) -> Cron:
        fields = body.split()
        if len(fields) != 6:
            raise invalid()
        minute, hour, dom, month, dow, year = fields
        dom_spec, dow_spec = _dom(dom), _dow(dow)
        if dom_spec.any == dow_spec.any:  # exactly one of the two must be "?"
            raise invalid()
        return cls(
            minutes=tuple(sorted(_values(minute, 0, 59))),
            hours=tuple(sorted(_values(hour, 0, 23))),
            dom=dom_spec,
            months=frozenset(_values(month, 1, 12, _MONTHS)),
            dow=dow_spec,
            years=frozenset(_values(year, 1970, _LAST_YEAR)),
        )

    def _day_matches(self, day: date) -> bool:
        last = calendar.monthrange(day.year, day.month)[1]
        if not self.dom.any:
            spec = self.dom
            return (
                day.day in spec.days
                or (spec.last and day.day == last)
                or (spec.last_weekday and day.day == _nearest_weekday(day.year, day.month, last))
                or any(day.day == _nearest_weekday(day.year, day.month, n) for n in spec.nearest)
            )
        spec = self.dow
        weekday = _aws_weekday(day)
        return (
            weekday in spec.days
            or (weekday in spec.last_of and day.day + 7 > last)
            or (weekday, (day.day - 1) // 7 + 1) in spec.nth
        )

    def next_after(self, t: datetime, anchor: datetime | None = None) -> datetime | None:
        t = minute_floor(t.astimezone(UTC)) + timedelta(minutes=1)
        day = t.date()
        while day.year <= _LAST_YEAR:
            if day.year not in self.years:
                later = [y for y in self.years if y > day.year]
                if not later:
                    return None
                day = date(min(later), 1, 1)
                continue
            if day.month not in self.months:
                day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
                continue
            if self._day_matches(day):
                earliest = t.hour * 60 + t.minute if day == t.date() else 0
                for hour in self.hours:
                    for minute in self.minutes:
                        if hour * 60 + minute >= earliest:
                            return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
            day += timedelta(days=1)
        return None
