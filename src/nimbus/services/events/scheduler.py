"""Runs scheduled rules: one asyncio task that wakes every tick and fires the rules now due.

Time comes from an injectable clock (``Callable[[], datetime]``) so tests can step it; the
server uses the wall clock, sped up by ``NIMBUS_SCHEDULE_SPEEDUP`` (test-only: at 60, a
``rate(1 minute)`` rule fires every real second). Fires missed while the server was down, or
while the loop was late, are not replayed, as on AWS: the next fire is the first one after now.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.events.schedule import Cron, Rate, parse
from nimbus.services.events.store import RuleRecord, RuleStore

log = logging.getLogger("nimbus.events")

Clock = Callable[[], datetime]
#: (target ARN, payload) -> delivered; raises AwsError when the target refuses it.
Deliver = Callable[[str, bytes], Awaitable[Any]]


def wall_clock() -> datetime:
    return datetime.now(UTC)


def scaled_clock(speed: float) -> Clock:
    """A clock that runs ``speed`` times faster than the wall clock from now on."""
    if speed == 1:
        return wall_clock
    start, mono = datetime.now(UTC).timestamp(), time.monotonic()
    return lambda: datetime.fromtimestamp(start + (time.monotonic() - mono) * speed, UTC)


@functools.lru_cache(maxsize=512)
def _schedule(expression: str) -> Rate | Cron:
    return parse(expression)


def scheduled_event(rule: RuleRecord, due: datetime, account: str, region: str) -> dict:
    """The event AWS sends for a scheduled rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule.doc["Arn"]],
        "detail": {},
    }


def target_payload(target: dict[str, Any], event: dict[str, Any]) -> bytes:
    """``Input`` (constant JSON text), ``InputPath`` (``$.a.b`` into the event) or the event."""
    if target.get("Input") is not None:
        return target["Input"].encode()
    path = target.get("InputPath")
    value: Any = event
    if path and path != "$":
        for part in path.removeprefix("$.").split("."):
            value = value.get(part) if isinstance(value, dict) else None
    return json.dumps(value).encode()


class Scheduler:
    def __init__(self, store: RuleStore, deliver: Deliver, clock: Clock, *, account: str,
                 region: str, tick_seconds: float = 1.0) -> None:  # fmt: skip
        self.store = store
        self.deliver = deliver
        self.clock = clock
        self.account = account
        self.region = region
        self.tick_seconds = tick_seconds
        self.started = clock()
        # (bus, rule) -> ((expression, anchor), next fire time or None)
        self._next: dict[tuple[str, str], tuple[tuple[str, float], datetime | None]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="events-cron")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("the events scheduler failed a tick")
            await asyncio.sleep(self.tick_seconds)

    def next_fire(self, rule: RuleRecord) -> datetime | None:
        """When ``rule`` fires next as this scheduler sees it (for tests and the console)."""
        entry = self._next.get((rule.bus, rule.name))
        return entry[1] if entry else None

    async def tick(self) -> list[tuple[str, datetime]]:
        """Fire every enabled rule that is due; return (rule name, scheduled time) of each."""
        now = self.clock()
        fired: list[tuple[str, datetime]] = []
        live: set[tuple[str, str]] = set()
        for rule in self.store.scheduled():
            if not rule.enabled:
                continue
            key = (rule.bus, rule.name)
            live.add(key)
            expression = rule.doc["ScheduleExpression"]
            signature = (expression, rule.anchor)
            entry = self._next.get(key)
            schedule = _schedule(expression)
            anchor = datetime.fromtimestamp(rule.anchor, UTC)
            if entry is None or entry[0] != signature:
                # A rule seen for the first time counts from its anchor, or from this
                # scheduler's start when it is older: fires missed while down are not replayed.
                due = schedule.next_after(max(anchor, self.started), anchor)
            else:
                due = entry[1]
            if due is not None and due <= now:
                await self._fire(rule, due)
                fired.append((rule.name, due))
                due = schedule.next_after(now, anchor)
            self._next[key] = (signature, due)
        for key in set(self._next) - live:
            del self._next[key]
        return fired

    async def _fire(self, rule: RuleRecord, due: datetime) -> None:
        event = scheduled_event(rule, due, self.account, self.region)
        for target in rule.targets:
            try:
                await self.deliver(target["Arn"], target_payload(target, event))
            except AwsError as err:
                log.warning(
                    "rule %s could not deliver to %s: %s", rule.name, target["Arn"], err.message
                )
