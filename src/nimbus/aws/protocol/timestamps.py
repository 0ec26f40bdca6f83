"""Timestamp formats of the AWS protocols: ISO 8601, epoch seconds and RFC 822 (HTTP dates)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime


def to_datetime(value: object) -> datetime:
    """Parse any of the wire formats; raises ValueError on nonsense."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    if not isinstance(value, str):
        raise ValueError("not a timestamp")
    text = value.strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = parsedate_to_datetime(text)  # raises ValueError/TypeError when not RFC 822
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _aware(value: datetime | float | int) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)


def iso8601(value: datetime | float | int) -> str:
    dt = _aware(value).astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def rfc822(value: datetime | float | int) -> str:
    return format_datetime(_aware(value).astimezone(UTC), usegmt=True)


def epoch(value: datetime | float | int) -> float:
    if isinstance(value, datetime):
        return round(_aware(value).timestamp(), 3)
    return float(value)


def format_timestamp(value: datetime | float | int, fmt: str) -> str | float:
    if fmt == "unixTimestamp":
        return epoch(value)
    if fmt == "rfc822":
        return rfc822(value)
    return iso8601(value)
