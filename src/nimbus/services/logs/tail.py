"""Follow a log group over the API (for ``nimbus logs --follow`` talking to a running server).

Polls FilterLogEvents from the newest timestamp seen, skipping event ids already printed, the
way ``aws logs tail --follow`` does. Like it, an event that arrives later with an *older*
timestamp than one already shown is not shown. In-process callers can use
``LogsProvider.follow`` instead, which follows arrival order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any


def follow_via_api(
    client: Any,
    group: str,
    *,
    since_ms: int | None = None,
    filter_pattern: str | None = None,
    stream_prefix: str | None = None,
    poll_interval: float = 1.0,
    stop: threading.Event | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield FilterLogEvents event dicts of ``group`` as they appear; ``client`` is boto3 logs."""
    stop = stop or threading.Event()
    start = since_ms if since_ms is not None else int(time.time() * 1000) - 10_000
    seen_at_start: set[str] = set()  # event ids already yielded with timestamp == start
    while not stop.is_set():
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start}
        if filter_pattern:
            kwargs["filterPattern"] = filter_pattern
        if stream_prefix:
            kwargs["logStreamNamePrefix"] = stream_prefix
        try:
            pages = client.get_paginator("filter_log_events").paginate(**kwargs)
            events = [e for page in pages for e in page["events"]]
        except client.exceptions.ResourceNotFoundException:
            events = []  # the group may be created by the first invocation
        for event in events:
            if event["eventId"] in seen_at_start:
                continue
            if event["timestamp"] > start:
                start, seen_at_start = event["timestamp"], set()
            seen_at_start.add(event["eventId"])
            yield event
        stop.wait(poll_interval)
