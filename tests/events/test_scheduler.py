"""The scheduler with an injected clock: rules fire when due, once, and resume after a restart."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support import Call

from nimbus.aws.context import RequestContext
from nimbus.services.base import ServiceEnv
from nimbus.services.events.provider import EventsProvider
from nimbus.services.registry import ServiceRegistry

FN = "arn:aws:lambda:us-east-1:000000000000:function:tick"


class FakeClock:
    def __init__(self, start: str) -> None:
        self.now = datetime.fromisoformat(start).replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Harness:
    """An events provider over a data dir, its clock, and what it delivered."""

    def __init__(self, registry: ServiceRegistry, data_dir: Path, clock: FakeClock,
                 ctx: RequestContext) -> None:  # fmt: skip
        env = ServiceEnv(data_dir, "us-east-1", "000000000000", "http://127.0.0.1:1", registry)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.provider = EventsProvider(env, clock=clock)
        self.delivered: list[tuple[str, Any]] = []

        async def deliver(arn: str, payload: bytes) -> None:
            self.delivered.append((arn, json.loads(payload)))

        self.provider.scheduler.deliver = deliver
        self.call = Call(self.provider, ctx)

    def tick(self) -> list[tuple[str, datetime]]:
        return asyncio.run(self.provider.scheduler.tick())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock("2026-11-22 09:58:30")


@pytest.fixture
def events(registry: ServiceRegistry, tmp_path: Path, clock: FakeClock, ctx: Any) -> Harness:
    harness = Harness(registry, tmp_path / "events", clock, ctx)
    yield harness
    harness.provider.close()


def test_rate_rule_fires_each_minute_with_the_scheduled_event(events: Harness, clock: Any) -> None:
    arn = events.call("put_rule", Name="every-minute", ScheduleExpression="rate(1 minute)")
    events.call("put_targets", Rule="every-minute", Targets=[{"Id": "fn", "Arn": FN}])
    assert events.tick() == []
    clock.advance(seconds=29)  # 09:58:59
    assert events.tick() == []
    clock.advance(seconds=1)  # 09:59:00, one minute after the minute the rule was made
    assert [name for name, _ in events.tick()] == ["every-minute"]
    assert events.tick() == []  # once per due time
    (target, event), = events.delivered  # fmt: skip
    assert target == FN
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region",
                          "resources", "detail"}  # fmt: skip
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2026-11-22T09:59:00Z" and event["detail"] == {}
    assert event["resources"] == [arn["RuleArn"]] and event["account"] == "000000000000"
    assert event["region"] == "us-east-1" and event["version"] == "0"
    clock.advance(minutes=1)
    events.tick()
    assert [e["time"] for _, e in events.delivered] == ["2026-11-22T09:59:00Z",
                                                        "2026-11-22T10:00:00Z"]  # fmt: skip


def test_late_ticks_do_not_replay_missed_fires(events: Harness, clock: Any) -> None:
    events.call("put_rule", Name="r", ScheduleExpression="rate(1 minute)")
    events.call("put_targets", Rule="r", Targets=[{"Id": "fn", "Arn": FN}])
    events.tick()
    clock.advance(minutes=10)
    assert len(events.tick()) == 1  # one fire, not ten
    assert events.tick() == []


def test_cron_rule_input_and_input_path(events: Harness, clock: Any) -> None:
    events.call("put_rule", Name="ten", ScheduleExpression="cron(0 10 * * ? *)")
    events.call("put_targets", Rule="ten", Targets=[
        {"Id": "a", "Arn": FN, "Input": '{"job": "report"}'},
        {"Id": "b", "Arn": FN + "2", "InputPath": "$.resources"},
    ])  # fmt: skip
    clock.advance(minutes=1)  # 09:59:30
    assert events.tick() == []
    clock.advance(seconds=30)
    assert events.tick() == [("ten", datetime(2026, 11, 22, 10, 0, tzinfo=UTC))]
    rule_arn = "arn:aws:events:us-east-1:000000000000:rule/ten"
    assert events.delivered == [(FN, {"job": "report"}), (FN + "2", [rule_arn])]


def test_disabled_rules_do_not_fire_and_restart_fresh(events: Harness, clock: Any) -> None:
    events.call("put_rule", Name="r", ScheduleExpression="rate(1 minute)", State="DISABLED")
    events.call("put_targets", Rule="r", Targets=[{"Id": "fn", "Arn": FN}])
    clock.advance(minutes=5)
    assert events.tick() == []
    events.call("enable_rule", Name="r")  # at 10:03:30: next fire a minute after 10:03
    clock.advance(seconds=29)
    assert events.tick() == []
    clock.advance(seconds=1)
    assert events.tick() == [("r", datetime(2026, 11, 22, 10, 4, tzinfo=UTC))]
    events.call("disable_rule", Name="r")
    clock.advance(minutes=3)
    assert events.tick() == []


def test_the_schedule_resumes_after_a_restart_without_replay(
    registry: Any, tmp_path: Path, clock: FakeClock, ctx: Any
) -> None:
    first = Harness(registry, tmp_path / "events", clock, ctx)
    first.call("put_rule", Name="r", ScheduleExpression="rate(2 minutes)")
    first.call("put_targets", Rule="r", Targets=[{"Id": "fn", "Arn": FN}])
    first.provider.close()
    clock.advance(minutes=30)  # down from 09:58:30 to 10:28:30: fires at 10:00 ... 10:28 missed
    second = Harness(registry, tmp_path / "events", clock, ctx)
    try:
        assert second.tick() == []
        assert second.provider.scheduler.next_fire(
            second.provider.store.get("default", "r")
        ) == datetime(2026, 11, 22, 10, 30, tzinfo=UTC)  # the rhythm of the 09:58 anchor
        clock.advance(minutes=2)
        assert second.tick() == [("r", datetime(2026, 11, 22, 10, 30, tzinfo=UTC))]
    finally:
        second.provider.close()
