"""Reading log events: GetLogEvents, FilterLogEvents and the in-process readers.

Mixed into LogsProvider. Paging tokens are positions in (timestamp, rowid) order:
``f/<ts>/<id>`` reads forward after it, ``b/<ts>/<id>`` backward before it, ``e/..`` continues
a FilterLogEvents scan.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import AwsError
from nimbus.services.logs.engine import LogsEngine
from nimbus.services.logs.event_queries import LogEvent
from nimbus.services.logs.filter_pattern import (
    FilterPatternError,
    compile_pattern,
    sql_prefilter,
)

if TYPE_CHECKING:
    from nimbus.aws.context import RequestContext

FILTER_SCAN_BUDGET = 200_000  # events examined per FilterLogEvents call before paging
FAR_FUTURE = 2**62


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def bad_token() -> AwsError:
    return invalid("The specified nextToken is invalid.")


def position(token: str, prefix: str) -> tuple[int, int]:
    try:
        head, ts, rowid = token.split("/")
        if head != prefix:
            raise ValueError(token)
        return int(ts), int(rowid)
    except ValueError:
        raise bad_token() from None


def limit_param(req: dict[str, Any], key: str, default: int, maximum: int) -> int:
    value = req.get(key, default)
    if not isinstance(value, int) or not 1 <= value <= maximum:
        raise invalid(f"{key} must be between 1 and {maximum}.")
    return value


def group_name(req: dict[str, Any]) -> str:
    """logGroupName, or logGroupIdentifier given as a name or an ARN."""
    name = req.get("logGroupName") or req.get("logGroupIdentifier")
    if not name:
        raise invalid("logGroupName or logGroupIdentifier is required.")
    if name.startswith("arn:"):
        _, _, rest = name.partition(":log-group:")
        name = rest.removesuffix(":*")
    return name


def time_window_end(req: dict[str, Any]) -> int:
    """endTime (exclusive), checked against startTime."""
    start, end = req.get("startTime"), req.get("endTime")
    if start is not None and end is not None and end < start:
        raise invalid("endTime must be greater than or equal to startTime.")
    return FAR_FUTURE if end is None else end


class LogReadOperations:
    """Mixed into LogsProvider."""

    engine: LogsEngine

    # --- reading events ------------------------------------------------------------------------

    def get_log_events(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        group = self.engine.get_group(group_name(req))
        stream = self.engine.get_stream(group.id, req["logStreamName"])
        limit = limit_param(req, "limit", 10_000, 10_000)
        start = max(req.get("startTime") or 0, self.engine.retention_cutoff(group))
        end = time_window_end(req)
        token = req.get("nextToken")
        query = {"start": start, "end": end, "limit": limit}
        if token and token.startswith("f/"):
            after = position(token, "f")
            events = self.engine.stream_events(stream.id, after=after, **query)
        elif token and token.startswith("b/"):
            before = position(token, "b")
            events = self.engine.stream_events(
                stream.id, before=before, newest_first=True, **query
            )[::-1]
        elif token:
            raise bad_token()
        elif req.get("startFromHead"):
            events = self.engine.stream_events(stream.id, **query)
        else:
            events = self.engine.stream_events(stream.id, newest_first=True, **query)[::-1]
        if events:
            forward = f"f/{events[-1].timestamp}/{events[-1].id}"
            backward = f"b/{events[0].timestamp}/{events[0].id}"
        elif token and token.startswith("f/"):
            # Nothing new: the same forward token lets a client keep tailing.
            ts, rowid = position(token, "f")
            forward, backward = token, f"b/{ts}/{rowid + 1}"
        elif token:
            ts, rowid = position(token, "b")
            forward, backward = f"f/{ts}/{rowid - 1}", token
        else:
            forward, backward = f"f/{start}/0", f"b/{start}/0"
        return {
            "events": [
                {"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion}
                for e in events
            ],
            "nextForwardToken": forward,
            "nextBackwardToken": backward,
        }

    def filter_log_events(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        group = self.engine.get_group(group_name(req))
        names, prefix = req.get("logStreamNames"), req.get("logStreamNamePrefix")
        if names and prefix:
            raise invalid("logStreamNames and logStreamNamePrefix are mutually exclusive.")
        limit = limit_param(req, "limit", 10_000, 10_000)
        try:
            matches = compile_pattern(req.get("filterPattern"))
        except FilterPatternError as exc:
            raise invalid(f"Invalid filter pattern: {exc}") from None
        stream_ids = self.engine.stream_ids(group.id, names, prefix) if names or prefix else None
        after = position(req["nextToken"], "e") if req.get("nextToken") else None
        start = max(req.get("startTime") or 0, self.engine.retention_cutoff(group))
        end = time_window_end(req)
        found: list[LogEvent] = []
        next_token = None
        contains, json_only = sql_prefilter(req.get("filterPattern"))
        events = self.engine.group_events(
            group.id,
            start=start,
            end=end,
            stream_ids=stream_ids,
            after=after,
            contains=contains,
            json_only=json_only,
        )
        for scanned, event in enumerate(events, start=1):
            if matches(event.message):
                found.append(event)
            if len(found) >= limit or scanned >= FILTER_SCAN_BUDGET:
                next_token = f"e/{event.timestamp}/{event.id}"
                break
        searched = sorted({e.stream for e in found})
        out: dict[str, Any] = {
            "events": [
                {
                    "logStreamName": e.stream,
                    "timestamp": e.timestamp,
                    "message": e.message,
                    "ingestionTime": e.ingestion,
                    "eventId": f"{e.id:056d}",
                }
                for e in found
            ],
            "searchedLogStreams": [
                {"logStreamName": s, "searchedCompletely": next_token is None} for s in searched
            ],
        }
        if next_token:
            out["nextToken"] = next_token
        return out

    # --- in-process readers ----------------------------------------------------------------

    def read(
        self,
        group: str,
        *,
        after_id: int = 0,
        stream_prefix: str | None = None,
        filter_pattern: str | None = None,
        limit: int = 1000,
    ) -> list[LogEvent]:
        """Events of a group in arrival order after ``after_id`` (each event's ``id``).

        Raises ``ResourceNotFoundException`` for a missing group; ``FilterPatternError`` for a
        bad pattern.
        """
        matches = compile_pattern(filter_pattern)
        gid = self.engine.get_group(group).id
        found: list[LogEvent] = []
        while len(found) < limit:
            batch = self.engine.events_since(gid, after_id, stream_prefix=stream_prefix, limit=1000)
            found += [e for e in batch if matches(e.message)]
            if len(batch) < 1000:
                break
            after_id = batch[-1].id  # keep scanning past events the pattern rejected
        return found[:limit]

    def follow(
        self,
        group: str,
        *,
        since_ms: int | None = None,
        stream_prefix: str | None = None,
        filter_pattern: str | None = None,
        poll_interval: float = 0.25,
        stop: threading.Event | None = None,
    ) -> Iterator[LogEvent]:
        """Yield events as they arrive (``nimbus logs --follow``) until ``stop`` is set.

        Starts with events whose timestamp is at or after ``since_ms`` (default: new ones only)
        and waits for the group to exist.
        """
        stop = stop or threading.Event()
        matches = compile_pattern(filter_pattern)
        cursor = 0
        first = True
        while not stop.is_set():
            try:
                batch = self.read(group, after_id=cursor, stream_prefix=stream_prefix, limit=1000)
            except AwsError:
                batch = []
            for event in batch:
                cursor = event.id
                if first and since_ms is None:
                    continue
                if (since_ms is None or event.timestamp >= since_ms) and matches(event.message):
                    yield event
            if len(batch) < 1000:
                first = False
                stop.wait(poll_interval)

    def sweep(self) -> None:
        """Drop events past retention now (the engine also does so about once a minute)."""
        self.engine.sweep_expired(force=True)
