"""One audit record per request, with its usage, in DynamoDB: never secrets or raw personal data.

A record holds SHA-256 hashes of the prompt and the answer (to match a complaint to a request
without keeping the text), the prompt as the input guardrail left it then masked again here
(defence in depth: e-mail addresses, card and phone numbers, long digit runs and access keys),
the kinds the guardrails found (never the matches), the caller as a hash, the template version,
the model chain, tokens, latency and cost. Partition ``pk`` is the UTC day, sort key
``<ISO time>#<request id>``; ``expires_at`` (TTL) keeps 90 days.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

RETENTION_DAYS = 90
MASKED_CHARS = 500

_MASKS = (
    (re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"), "{ACCESS_KEY}"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "{EMAIL}"),
    (re.compile(r"(?<!\d)(?:\d[ -]?){13,19}(?!\d)"), "{CARD}"),
    (re.compile(r"(?<![\w])(?:\+?84|0)(?:[\s.-]?\d){8,10}(?!\d)"), "{PHONE}"),
    (re.compile(r"(?<![\w])\+?\d[\d\s().-]{7,}\d(?!\d)"), "{PHONE}"),
    (re.compile(r"\d{6,}"), "{NUMBER}"),
    (re.compile(r"(?i)(password|passwd|mật khẩu|secret|token)(\s*[:=]\s*)\S+"), r"\1\2{SECRET}"),
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def mask(text: str, limit: int = MASKED_CHARS) -> str:
    """The text with anything that looks personal or secret replaced by a {KIND} tag."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text[:limit]


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _value(value: object) -> dict:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": repr(value) if isinstance(value, float) else str(value)}
    if isinstance(value, list | tuple):
        return {"L": [_value(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: _value(v) for k, v in value.items()}}
    return {"S": str(value)}


def to_item(record: dict, now: float) -> dict:
    """The DynamoDB item (low-level attribute values) of an audit record."""
    stamp = iso(now)
    item = {
        "pk": {"S": stamp[:10]},
        "sk": {"S": f"{stamp}#{record['request_id']}"},
        "created_at": {"S": stamp},
        "expires_at": {"N": str(int(now) + RETENTION_DAYS * 86400)},
    }
    for name, value in record.items():
        if value is not None and value != "":
            item[name] = _value(value)
    return item


class AuditLog:
    def __init__(self, dynamodb, table: str) -> None:
        self.dynamodb, self.table = dynamodb, table

    def write(self, record: dict, now: float) -> None:
        if self.table:
            self.dynamodb.put_item(TableName=self.table, Item=to_item(record, now))
