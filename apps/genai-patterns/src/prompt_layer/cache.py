"""An exact-match response cache in DynamoDB, with TTL.

The key is a SHA-256 of everything that decides the answer: the model, the template version,
the rendered prompt (system and messages, after the input guardrail), the inference parameters
and the guardrail version. Items carry ``expires_at`` (the table's TTL attribute); DynamoDB
deletes expired items lazily, so a read also ignores an item whose time has passed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass


def cache_key(model: str, template: str, prompt: dict, params: dict, guardrail: str) -> str:
    material = json.dumps(
        {"model": model, "template": template, "prompt": prompt, "params": params,
         "guardrail": guardrail},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Cached:
    text: str
    model: str
    stop_reason: str
    input_tokens: int
    output_tokens: int
    created_at: int


class ResponseCache:
    def __init__(self, dynamodb, table: str, ttl_seconds: int,
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.dynamodb, self.table = dynamodb, table
        self.ttl_seconds, self.clock = ttl_seconds, clock

    @property
    def enabled(self) -> bool:
        return bool(self.table) and self.ttl_seconds > 0

    def get(self, key: str) -> Cached | None:
        if not self.enabled:
            return None
        item = self.dynamodb.get_item(TableName=self.table, Key={"key": {"S": key}}).get("Item")
        if not item or int(item["expires_at"]["N"]) <= self.clock():
            return None
        return Cached(
            text=item["text"]["S"],
            model=item["model"]["S"],
            stop_reason=item["stop_reason"]["S"],
            input_tokens=int(item["input_tokens"]["N"]),
            output_tokens=int(item["output_tokens"]["N"]),
            created_at=int(item["created_at"]["N"]),
        )

    def put(self, key: str, entry: Cached) -> None:
        if not self.enabled:
            return
        now = int(self.clock())
        self.dynamodb.put_item(
            TableName=self.table,
            Item={
                "key": {"S": key},
                "text": {"S": entry.text},
                "model": {"S": entry.model},
                "stop_reason": {"S": entry.stop_reason},
                "input_tokens": {"N": str(entry.input_tokens)},
                "output_tokens": {"N": str(entry.output_tokens)},
                "created_at": {"N": str(now)},
                "expires_at": {"N": str(now + self.ttl_seconds)},
            },
        )
