"""Subscription filters: matching log events delivered to a destination (Lambda, Kinesis ...).

Filters are stored like AWS's (at most two per log group). Delivery is in-process: the
service that owns the destination sets ``LogsProvider.subscription_sink`` to a callable
``(destination_arn, event) -> None``; ``event`` is exactly what a Lambda subscriber receives:
``{"awslogs": {"data": base64(gzip(json payload))}}``. Without a sink, nothing is delivered.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import AwsError
from nimbus.services.logs.engine import now_ms
from nimbus.services.logs.filter_pattern import FilterPatternError, compile_pattern

if TYPE_CHECKING:
    from nimbus.aws.context import RequestContext

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscription_filters (
    group_id INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    pattern TEXT NOT NULL,
    destination TEXT NOT NULL,
    role_arn TEXT,
    distribution TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (group_id, name)
);
"""
MAX_PER_GROUP = 2
Sink = Callable[[str, dict[str, Any]], None]


def subscription_event(
    *,
    account: str,
    group: str,
    stream: str,
    filters: list[str],
    events: list[tuple[int, int, str]],
) -> dict[str, Any]:
    """The Lambda event for delivered log events ((id, timestamp, message) triples)."""
    payload = {
        "messageType": "DATA_MESSAGE",
        "owner": account,
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": filters,
        "logEvents": [
            {"id": f"{event_id:056d}", "timestamp": ts, "message": message}
            for event_id, ts, message in events
        ],
    }
    data = gzip.compress(json.dumps(payload).encode())
    return {"awslogs": {"data": base64.b64encode(data).decode()}}


class SubscriptionOperations:
    """Mixed into LogsProvider."""

    engine: Any
    env: Any
    subscription_sink: Sink | None = None

    def init_subscriptions(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        with lock:
            db.executescript(SCHEMA)

    def put_subscription_filter(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        group = self.engine.get_group(req["logGroupName"])
        try:
            compile_pattern(req["filterPattern"])
        except FilterPatternError as exc:
            raise AwsError("InvalidParameterException", f"Invalid filter pattern: {exc}") from None
        distribution = req.get("distribution") or "ByLogStream"
        with self.engine.lock:
            others = self.engine.db.execute(
                "SELECT COUNT(*) FROM subscription_filters WHERE group_id = ? AND name != ?",
                (group.id, req["filterName"]),
            ).fetchone()[0]
            if others >= MAX_PER_GROUP:
                raise AwsError(
                    "LimitExceededException", "Resource limit exceeded: 2 subscription filters."
                )
            self.engine.db.execute(
                "INSERT INTO subscription_filters (group_id, name, pattern, destination,"
                " role_arn, distribution, created) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (group_id, name) DO UPDATE SET pattern = excluded.pattern,"
                " destination = excluded.destination, role_arn = excluded.role_arn,"
                " distribution = excluded.distribution",
                (
                    group.id,
                    req["filterName"],
                    req["filterPattern"],
                    req["destinationArn"],
                    req.get("roleArn"),
                    distribution,
                    now_ms(),
                ),
            )
        return {}

    def describe_subscription_filters(
        self, req: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any]:
        group = self.engine.get_group(req["logGroupName"])
        prefix = req.get("filterNamePrefix") or ""
        out = []
        for name, pattern, dest, role, dist, created in self._subscriptions(group.id):
            if not name.startswith(prefix):
                continue
            item = {
                "filterName": name,
                "logGroupName": group.name,
                "filterPattern": pattern,
                "destinationArn": dest,
                "distribution": dist,
                "creationTime": created,
            }
            if role:
                item["roleArn"] = role
            out.append(item)
        return {"subscriptionFilters": out}

    def delete_subscription_filter(
        self, req: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any]:
        group = self.engine.get_group(req["logGroupName"])
        with self.engine.lock:
            cur = self.engine.db.execute(
                "DELETE FROM subscription_filters WHERE group_id = ? AND name = ?",
                (group.id, req["filterName"]),
            )
        if cur.rowcount == 0:
            raise AwsError(
                "ResourceNotFoundException", "The specified subscription filter does not exist."
            )
        return {}

    def _subscriptions(self, group_id: int) -> list[tuple]:
        with self.engine.lock:
            return self.engine.db.execute(
                "SELECT name, pattern, destination, role_arn, distribution, created"
                " FROM subscription_filters WHERE group_id = ? ORDER BY name",
                (group_id,),
            ).fetchall()

    def deliver_subscriptions(
        self,
        group: str,
        group_id: int,
        stream: str,
        ids: list[int],
        batch: list[tuple[int, str]],
    ) -> None:
        """Send a stored batch's matching events to each subscription's destination."""
        sink = self.subscription_sink
        if sink is None or not batch:
            return
        events = [(i, ts, m) for i, (ts, m) in zip(ids, batch, strict=True)]
        for name, pattern, destination, _, _, _ in self._subscriptions(group_id):
            matches = compile_pattern(pattern)
            hits = [e for e in events if matches(e[2])]
            if not hits:
                continue
            event = subscription_event(
                account=self.env.account_id,
                group=group,
                stream=stream,
                filters=[name],
                events=hits,
            )
            try:
                sink(destination, event)
            except Exception:  # a failing subscriber must not fail the log write
                log.exception("subscription %s to %s failed", name, destination)
