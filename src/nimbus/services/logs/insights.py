"""CloudWatch Logs Insights: StartQuery / GetQueryResults / StopQuery / DescribeQueries.

Queries run to completion inside StartQuery (local data is small) and their results are kept
in memory for GetQueryResults, like AWS keeps them for a while. Records carry the system
fields (@timestamp, @message, @logStream, @log, @ingestionTime, @ptr), the fields of JSON
messages flattened with dots, and for Lambda platform lines @type, @requestId, @duration,
@billedDuration, @memorySize and @maxMemoryUsed.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import AwsError
from nimbus.services.logs.engine import LogsEngine
from nimbus.services.logs.event_queries import LogEvent
from nimbus.services.logs.insights_query import Aggregate, Command, QueryError, parse_query

if TYPE_CHECKING:
    from nimbus.aws.context import RequestContext

Record = dict[str, Any]
DEFAULT_LIMIT = 1000
MAX_SCANNED = 5_000_000  # events read per query
MAX_KEPT = 200_000  # records surviving the leading filters, held in memory
KEPT_QUERIES = 500
FIELD_SAMPLE = 1000  # events GetLogGroupFields looks at
_LAMBDA_REPORT = re.compile(
    r"REPORT RequestId: (?P<req>\S+)\s+Duration: (?P<dur>[\d.]+) ms\s+"
    r"Billed Duration: (?P<billed>[\d.]+) ms\s+Memory Size: (?P<mem>\d+) MB\s+"
    r"Max Memory Used: (?P<used>\d+) MB"
)
_LAMBDA_MARK = re.compile(r"(START|END) RequestId: (\S+)")


def _flatten(value: Any, prefix: str, out: Record) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _flatten(v, f"{prefix}.{i}", out)
    elif prefix and len(out) < 1000:  # AWS discovers a bounded number of fields
        out.setdefault(prefix, value)


def make_record(event: LogEvent, group: str, account: str) -> Record:
    msg = event.message
    record: Record = {
        "@timestamp": event.timestamp,
        "@message": msg,
        "@logStream": event.stream,
        "@log": f"{account}:{group}",
        "@ingestionTime": event.ingestion,
        "@ptr": f"{event.id:020d}",
    }
    stripped = msg.lstrip()
    if stripped.startswith("{"):
        try:
            doc = json.loads(msg)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            _flatten(doc, "", record)
    elif stripped.startswith("REPORT") and (m := _LAMBDA_REPORT.match(stripped)):
        record |= {
            "@type": "REPORT",
            "@requestId": m["req"],
            "@duration": float(m["dur"]),
            "@billedDuration": float(m["billed"]),
            "@memorySize": int(m["mem"]),
            "@maxMemoryUsed": int(m["used"]),
        }
    elif m := _LAMBDA_MARK.match(stripped):
        record |= {"@type": m[1], "@requestId": m[2]}
    return record


def _format(name: str, value: Any) -> str:
    is_time = name in ("@timestamp", "@ingestionTime") or name.startswith("bin(")
    if is_time and isinstance(value, int | float):
        stamp = datetime.fromtimestamp(value / 1000, tz=UTC)
        return stamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _nearest_rank(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(p / 100 * len(ordered) - 1e-9), 1)
    return ordered[min(rank, len(ordered)) - 1]


def _aggregate(agg: Aggregate, rows: list[Record]) -> Any:
    if agg.func == "count":
        return len(rows) if agg.arg is None else sum(1 for r in rows if r.get(agg.arg) is not None)
    values = [r.get(agg.arg) for r in rows] if agg.arg else []
    if agg.func == "count_distinct":
        return len({json.dumps(v, sort_keys=True) for v in values if v is not None})
    numbers = []
    for v in values:
        if isinstance(v, int | float) and not isinstance(v, bool):
            numbers.append(float(v))
        elif isinstance(v, str):
            with contextlib.suppress(ValueError):
                numbers.append(float(v))
    if not numbers:
        return None
    if agg.func == "sum":
        return sum(numbers)
    if agg.func == "avg":
        return sum(numbers) / len(numbers)
    if agg.func == "min":
        return min(numbers)
    if agg.func == "max":
        return max(numbers)
    return _nearest_rank(numbers, agg.percentile)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (2, 0)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def _apply_local(commands: list[Command], r: Record) -> bool:
    """Run record-local commands (fields, parse, filter) on one record; False drops it."""
    for cmd in commands:
        if cmd.name == "fields":
            for label, expr in cmd.fields:
                value = expr(r)
                if value is not None:
                    r[label] = value
        elif cmd.name == "parse":
            assert cmd.extract is not None
            if isinstance(r.get(cmd.source), str) and (got := cmd.extract(r[cmd.source])):
                r.update(got)
        elif cmd.name == "filter":
            assert cmd.predicate is not None
            if not cmd.predicate(r):
                return False
    return True


def split_local(commands: list[Command]) -> tuple[list[Command], list[Command]]:
    """(leading record-local commands, what run_query must still do).

    The local prefix runs while scanning so non-matching events are never kept in memory;
    its ``fields`` stay in the remainder (re-evaluating them is harmless) so that they still
    decide the output columns.
    """
    n = 0
    while n < len(commands) and commands[n].name in ("fields", "parse", "filter"):
        n += 1
    local = commands[:n]
    return local, [c for c in local if c.name == "fields"] + commands[n:]


def run_query(
    commands: list[Command], records: list[Record], limit: int | None
) -> tuple[list[list[dict[str, str]]], int]:
    """Apply the pipeline; returns (result rows, records matched)."""
    shown: list[str] = []
    display: list[str] | None = None
    stats_done = sorted_by_user = False
    for cmd in commands:
        if cmd.name in ("fields", "display"):
            for r in records:
                for label, expr in cmd.fields:
                    value = expr(r)
                    if value is not None:
                        r[label] = value
            labels = [label for label, _ in cmd.fields]
            if cmd.name == "display":
                display = labels
            else:
                shown += [x for x in labels if x not in shown]
        elif cmd.name == "filter":
            assert cmd.predicate is not None
            records = [r for r in records if cmd.predicate(r)]
        elif cmd.name == "parse":
            assert cmd.extract is not None
            for r in records:
                if isinstance(r.get(cmd.source), str) and (got := cmd.extract(r[cmd.source])):
                    r.update(got)
        elif cmd.name == "sort":
            for key, desc in reversed(cmd.order):
                present = [r for r in records if r.get(key) is not None]
                present.sort(key=lambda r, k=key: _sort_key(r.get(k)), reverse=desc)
                records = present + [r for r in records if r.get(key) is None]
            sorted_by_user = True
        elif cmd.name == "limit":
            records = records[: cmd.count]
        elif cmd.name == "dedup":
            seen: set[str] = set()
            kept = []
            for r in records:
                key = json.dumps([r.get(label) for label, _ in cmd.fields], default=str)
                if key not in seen:
                    seen.add(key)
                    kept.append(r)
            records = kept
        elif cmd.name == "stats":
            matched = len(records)
            groups: OrderedDict[str, tuple[Record, list[Record]]] = OrderedDict()
            for r in records:
                keys = {label: expr(r) for label, expr in cmd.group_by}
                slot = groups.setdefault(json.dumps(keys, default=str), (keys, []))
                slot[1].append(r)
            if not cmd.group_by and not groups:
                groups["{}"] = ({}, [])
            records = [
                {**keys, **{a.alias: _aggregate(a, rows) for a in cmd.aggregates}}
                for keys, rows in groups.values()
            ]
            shown = [label for label, _ in cmd.group_by] + [a.alias for a in cmd.aggregates]
            stats_done = True
    if not stats_done:
        matched = len(records)
        if not sorted_by_user:
            records.sort(key=lambda r: (r["@timestamp"], r["@ptr"]), reverse=True)
    columns = display or shown or ["@timestamp", "@message"]
    if not stats_done and "@ptr" not in columns:
        columns = [*columns, "@ptr"]
    cap = min(limit or DEFAULT_LIMIT, 10_000)
    rows = [
        [{"field": c, "value": _format(c, r[c])} for c in columns if r.get(c) is not None]
        for r in records[:cap]
    ]
    return rows, matched


class InsightsOperations:
    """Mixed into LogsProvider."""

    engine: LogsEngine
    env: Any
    _queries: OrderedDict[str, dict[str, Any]]

    def _query_groups(self, req: dict[str, Any]) -> list[str]:
        names = list(req.get("logGroupNames") or req.get("logGroupIdentifiers") or [])
        if req.get("logGroupName"):
            names.append(req["logGroupName"])
        if not names:
            raise AwsError("InvalidParameterException", "Specify at least one log group.")
        return [
            n.partition(":log-group:")[2].removesuffix(":*") if n.startswith("arn:") else n
            for n in names
        ]

    def start_query(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        if req["endTime"] < req["startTime"]:
            raise AwsError("InvalidParameterException", "endTime must not be before startTime.")
        groups = [self.engine.get_group(name) for name in self._query_groups(req)]
        try:
            commands = parse_query(req["queryString"])
        except (QueryError, re.error) as exc:
            raise AwsError("MalformedQueryException", f"Query is malformed: {exc}") from None
        began = time.time()
        local, rest = split_local(commands)
        # Query times are in epoch seconds; the end second is included.
        start, end = req["startTime"] * 1000, req["endTime"] * 1000 + 1000
        records: list[Record] = []
        scanned = scanned_bytes = 0
        for g in groups:
            lo = max(start, self.engine.retention_cutoff(g))
            for event in self.engine.group_events(g.id, start=lo, end=end):
                scanned += 1
                scanned_bytes += len(event.message.encode())
                record = make_record(event, g.name, self.env.account_id)
                if _apply_local(local, record):
                    records.append(record)
                if scanned >= MAX_SCANNED or len(records) >= MAX_KEPT:
                    break
        rows, matched = run_query(rest, records, req.get("limit"))
        query_id = str(uuid.uuid4())
        self._queries[query_id] = {
            "queryId": query_id,
            "queryString": req["queryString"],
            "status": "Complete",
            "createTime": int(began * 1000),
            "logGroupName": groups[0].name,
            "queryDuration": int((time.time() - began) * 1000),
            "bytesScanned": float(scanned_bytes),
            "results": rows,
            "statistics": {
                "recordsMatched": float(matched),
                "recordsScanned": float(scanned),
                "bytesScanned": float(scanned_bytes),
                "logGroupsScanned": float(len(groups)),
            },
        }
        while len(self._queries) > KEPT_QUERIES:
            self._queries.popitem(last=False)
        return {"queryId": query_id}

    def _query(self, query_id: str) -> dict[str, Any]:
        query = self._queries.get(query_id)
        if query is None:
            raise AwsError("ResourceNotFoundException", f"Query {query_id} does not exist.")
        return query

    def get_query_results(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        q = self._query(req["queryId"])
        return {
            "queryLanguage": "CWLI",
            "results": q["results"],
            "statistics": q["statistics"],
            "status": q["status"],
        }

    def stop_query(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        q = self._query(req["queryId"])
        return {"success": q["status"] in ("Scheduled", "Running")}

    def describe_queries(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        keys = (
            "queryId",
            "queryString",
            "status",
            "createTime",
            "logGroupName",
            "queryDuration",
            "bytesScanned",
        )
        found = [
            {"queryLanguage": "CWLI", **{k: q[k] for k in keys}}
            for q in reversed(self._queries.values())
            if (not req.get("logGroupName") or q["logGroupName"] == req["logGroupName"])
            and (not req.get("status") or q["status"] == req["status"])
        ]
        return {"queries": found[: req.get("maxResults", 1000)]}

    def get_log_record(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        pointer = req.get("logRecordPointer") or ""
        found = self.engine.event_by_id(int(pointer)) if pointer.isdigit() else None
        if found is None:
            raise AwsError("InvalidParameterException", "The log record pointer is invalid.")
        group, event = found
        record = make_record(event, group, self.env.account_id)
        record.pop("@ptr")
        return {"logRecord": {k: _format(k, v) for k, v in record.items() if v is not None}}

    def get_log_group_fields(self, req: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        name = req.get("logGroupName") or req.get("logGroupIdentifier") or ""
        group = self.engine.get_group(
            name.partition(":log-group:")[2].removesuffix(":*") if name.startswith("arn:") else name
        )
        before = (req["time"] * 1000 + 1000) if req.get("time") else 2**62
        sample = self.engine.recent_events(group.id, before, FIELD_SAMPLE)
        counts: dict[str, int] = {}
        for event in sample:
            for key in make_record(event, group.name, self.env.account_id):
                if key != "@ptr":
                    counts[key] = counts.get(key, 0) + 1
        return {
            "logGroupFields": [
                {"name": k, "percent": round(100 * c / len(sample))}
                for k, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            ]
        }
