"""Console API for stacks, Lambda functions (invoke, logs, metrics) and log search."""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import AwsError
from nimbus.aws.http import HttpRequest

from .api import Params, bad_request
from .metrics import Window, fetch, query

if TYPE_CHECKING:
    from .api import ConsoleApi

_PAGES = 20  # bound on paginated listings: the console shows at most a few thousand rows
_INVOKE_BODY_LIMIT = 6 * 1024 * 1024  # Lambda's synchronous payload limit


async def list_stacks(api: ConsoleApi, request: HttpRequest, params: Params) -> Any:
    out = await api.call("cloudformation", "ListStacks")
    stacks = [s for s in out.get("StackSummaries", []) if s.get("StackStatus") != "DELETE_COMPLETE"]
    return {"stacks": stacks}


async def stack_detail(api: ConsoleApi, request: HttpRequest, params: Params, name: str) -> Any:
    described = await api.call("cloudformation", "DescribeStacks", StackName=name)
    resources = await api.call("cloudformation", "DescribeStackResources", StackName=name)
    events = await api.call("cloudformation", "DescribeStackEvents", StackName=name)
    return {
        "stack": described["Stacks"][0],
        "resources": resources.get("StackResources", []),
        "events": events.get("StackEvents", [])[:200],
    }


async def list_functions(api: ConsoleApi, request: HttpRequest, params: Params) -> Any:
    functions: list[dict[str, Any]] = []
    marker = None
    for _ in range(_PAGES):
        out = await api.call("lambda", "ListFunctions", MaxItems=50, Marker=marker)
        functions += out.get("Functions", [])
        marker = out.get("NextMarker")
        if not marker:
            break
    return {"functions": functions}


async def function_detail(api: ConsoleApi, request: HttpRequest, params: Params, name: str) -> Any:
    config = await api.call("lambda", "GetFunctionConfiguration", FunctionName=name)
    return {"configuration": config}


async def invoke(api: ConsoleApi, request: HttpRequest, params: Params, name: str) -> Any:
    payload = (await request.read(_INVOKE_BODY_LIMIT)) or b"{}"
    try:
        json.loads(payload)
    except ValueError:
        raise bad_request("The payload must be valid JSON.") from None
    started = time.perf_counter()
    out = await api.call("lambda", "Invoke", FunctionName=name, Payload=payload, LogType="Tail")
    elapsed = (time.perf_counter() - started) * 1000
    body = out.get("Payload") or b""
    if not isinstance(body, bytes | bytearray):
        body = b"".join(body)
    text = bytes(body).decode("utf-8", "replace")
    try:
        parsed: Any = json.loads(text) if text else None
    except ValueError:
        parsed = None
    tail = out.get("LogResult")
    return {
        "statusCode": out.get("StatusCode"),
        "functionError": out.get("FunctionError"),
        "executedVersion": out.get("ExecutedVersion"),
        "payload": parsed,
        "payloadText": text,
        "log": base64.b64decode(tail).decode("utf-8", "replace") if tail else "",
        "elapsedMs": round(elapsed, 2),
    }


async def function_logs(api: ConsoleApi, request: HttpRequest, params: Params, name: str) -> Any:
    """The newest events of the function's newest streams (where recent invocations logged)."""
    group = f"/aws/lambda/{name}"
    limit = params.number("limit", 100, 1, 1000)
    try:
        streams = await api.call(
            "logs", "DescribeLogStreams", logGroupName=group, orderBy="LastEventTime",
            descending=True, limit=5,
        )  # fmt: skip
    except AwsError as err:
        if err.code == "ResourceNotFoundException":
            return {"logGroup": group, "events": []}  # never invoked yet
        raise
    events: list[dict[str, Any]] = []
    for stream in streams.get("logStreams", []):
        stream_name = stream["logStreamName"]
        out = await api.call(
            "logs", "GetLogEvents", logGroupName=group, logStreamName=stream_name, limit=limit
        )
        events += [{**e, "logStreamName": stream_name} for e in out.get("events", [])]
    events.sort(key=lambda e: (e["timestamp"], e.get("ingestionTime", 0)))
    return {"logGroup": group, "events": events[-limit:]}


_METRICS = (("invocations", "Invocations", "Sum"), ("errors", "Errors", "Sum"),
            ("duration", "Duration", "Average"))  # fmt: skip


async def function_metrics(api: ConsoleApi, request: HttpRequest, params: Params, name: str) -> Any:
    window = Window.last(params.number("minutes", 60, 5, 24 * 60),
                         params.number("period", 60, 60, 3600))  # fmt: skip
    dims = {"FunctionName": name}
    queries = [query(key, "AWS/Lambda", metric, dims, window.period, stat)
               for key, metric, stat in _METRICS]  # fmt: skip
    series = await fetch(api, queries, window)
    units = {"invocations": "Count", "errors": "Count", "duration": "Milliseconds"}
    return {**window.as_json(), "series": series, "units": units}


async def log_groups(api: ConsoleApi, request: HttpRequest, params: Params) -> Any:
    groups: list[dict[str, Any]] = []
    token = None
    for _ in range(_PAGES):
        out = await api.call("logs", "DescribeLogGroups", limit=50, nextToken=token)
        groups += out.get("logGroups", [])
        token = out.get("nextToken")
        if not token:
            break
    return {
        "logGroups": [{"name": g["logGroupName"], "bytes": g.get("storedBytes")} for g in groups]
    }


async def search_logs(api: ConsoleApi, request: HttpRequest, params: Params) -> Any:
    group = params.text("group", required=True)
    now_ms = int(time.time() * 1000)
    start = params.number("start", now_ms - 3600_000, 0, 2**53)
    end = params.number("end", now_ms, 0, 2**53)
    if start > end:
        raise bad_request("The start of the time range must not be after its end.")
    out = await api.call(
        "logs", "FilterLogEvents", logGroupName=group, filterPattern=params.text("pattern"),
        startTime=start, endTime=end, limit=params.number("limit", 200, 1, 10_000),
        nextToken=params.text("token"),
    )  # fmt: skip
    return {"events": out.get("events", []), "nextToken": out.get("nextToken")}


def register(api: ConsoleApi) -> None:
    api.add("GET", "stacks", list_stacks)
    api.add("GET", "stacks/{name}", stack_detail)
    api.add("GET", "functions", list_functions)
    api.add("GET", "functions/{name}", function_detail)
    api.add("POST", "functions/{name}/invoke", invoke)
    api.add("GET", "functions/{name}/logs", function_logs)
    api.add("GET", "functions/{name}/metrics", function_metrics)
    api.add("GET", "log-groups", log_groups)
    api.add("GET", "logs/search", search_logs)
