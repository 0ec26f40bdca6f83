"""Logs Insights queries over stored events."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from support import Call

from nimbus.services.logs.insights_query import QueryError, parse_query
from nimbus.services.registry import ServiceRegistry

NOW_S = int(time.time())
BASE_MS = (NOW_S - 600) * 1000


@pytest.fixture
def loaded(registry: ServiceRegistry) -> Call:
    logs = registry.get("logs")
    events = []
    for i in range(20):
        doc = {
            "level": "ERROR" if i % 4 == 0 else "INFO",
            "latency": i * 10,
            "user": {"id": f"u{i % 3}"},
        }
        events.append((BASE_MS + i * 1000, json.dumps(doc)))
    logs.append("/app", "api", events)
    logs.append(
        "/app",
        "lambda",
        [
            (BASE_MS + 500, "START RequestId: r1 Version: $LATEST"),
            (
                BASE_MS + 600,
                "REPORT RequestId: r1\tDuration: 12.50 ms\tBilled Duration: 13 ms\t"
                "Memory Size: 128 MB\tMax Memory Used: 60 MB\t",
            ),
            (BASE_MS + 700, "GET /predict 200 1234"),
        ],
    )
    return logs


def query(logs: Call, text: str, **kw: Any) -> list[dict[str, str]]:
    provider = logs.provider
    qid = provider.start_query(
        {
            "logGroupName": "/app",
            "startTime": NOW_S - 3600,
            "endTime": NOW_S,
            "queryString": text,
            **kw,
        },
        logs.ctx,
    )["queryId"]
    out = provider.get_query_results({"queryId": qid}, logs.ctx)
    assert out["status"] == "Complete"
    return [{f["field"]: f["value"] for f in row} for row in out["results"]]


def without_ptr(row: dict[str, str]) -> dict[str, str]:
    assert row.pop("@ptr")  # every non-stats row carries the event pointer, as on AWS
    return row


@pytest.fixture
def run(loaded: Any, logs: Call) -> Any:
    return lambda text, **kw: query(logs, text, **kw)


def test_filter_sort_limit_on_json_fields(run: Any) -> None:
    rows = run(
        'fields @timestamp, latency, user.id | filter level = "ERROR" and latency > 0'
        " | sort latency desc | limit 3"
    )
    assert [r["latency"] for r in rows] == ["160", "120", "80"]
    assert rows[0]["user.id"] == "u1" and "@ptr" in rows[0]
    assert rows[0]["@timestamp"].count(":") == 2 and len(rows[0]["@timestamp"]) == 23


def test_default_output_is_newest_first_timestamp_and_message(run: Any) -> None:
    rows = run("filter @message like /START|REPORT/")
    assert [r["@message"].split()[0] for r in rows] == ["REPORT", "START"]
    assert set(rows[0]) == {"@timestamp", "@message", "@ptr"}


def test_stats_by_field_and_bin(run: Any) -> None:
    rows = run(
        "filter ispresent(level) | stats count(*) as n, avg(latency) as avg, max(latency),"
        " pct(latency, 50) by level | sort level"
    )
    assert rows == [
        {"level": "ERROR", "n": "5", "avg": "80", "max(latency)": "160", "pct(latency, 50)": "80"},
        {
            "level": "INFO",
            "n": "15",
            "avg": "100",
            "max(latency)": "190",
            "pct(latency, 50)": "100",
        },
    ]
    binned = run("filter ispresent(latency) | stats count(*) as c by bin(10s)")
    assert sum(int(r["c"]) for r in binned) == 20 and all("bin(10s)" in r for r in binned)


def test_lambda_report_fields_and_parse(run: Any) -> None:
    (report,) = run('filter @type = "REPORT" | fields @requestId, @duration, @maxMemoryUsed')
    assert (report["@requestId"], report["@duration"], report["@maxMemoryUsed"]) == (
        "r1",
        "12.5",
        "60",
    )
    (parsed,) = run(
        'parse @message "* * * *" as method, path, status, bytes'
        " | filter status = 200 | display path, bytes"
    )
    assert without_ptr(parsed) == {"path": "/predict", "bytes": "1234"}
    (rx,) = run(
        r"parse @message /(?<verb>GET|POST) (?<route>\S+)/ | filter ispresent(verb)"
        " | display verb, route"
    )
    assert without_ptr(rx) == {"verb": "GET", "route": "/predict"}


def test_not_like_in_and_arithmetic(run: Any) -> None:
    rows = run(
        'filter level in ["ERROR"] and @message not like "u0" | fields latency / 10 as t'
        " | sort t | display t"
    )
    assert [r["t"] for r in rows] == ["4", "8", "16"]


def test_query_errors_and_unknown_ids(logs: Call, loaded: Any) -> None:
    with pytest.raises(QueryError):
        parse_query("fields @message | explode")
    with pytest.raises(QueryError):
        parse_query("stats median(x)")
    err = logs.error(
        "start_query", logGroupName="/app", startTime=0, endTime=1, queryString="filter ("
    )
    assert err.code == "MalformedQueryException"
    err = logs.error(
        "start_query", logGroupName="/nope", startTime=0, endTime=1, queryString="limit 1"
    )
    assert err.code == "ResourceNotFoundException"
    assert logs.error("get_query_results", queryId="nope").code == "ResourceNotFoundException"
    listed = logs("describe_queries")["queries"]
    assert listed == []


def test_log_record_by_pointer_and_group_fields(run: Any, logs: Call) -> None:
    (row,) = run("filter latency = 50")
    record = logs("get_log_record", logRecordPointer=row["@ptr"])["logRecord"]
    assert record["latency"] == "50" and record["@logStream"] == "api"
    assert record["@log"] == "000000000000:/app"
    assert logs.error("get_log_record", logRecordPointer="zzz").code == (
        "InvalidParameterException"
    )
    fields = {
        f["name"]: f["percent"]
        for f in logs("get_log_group_fields", logGroupName="/app")["logGroupFields"]
    }
    assert fields["@message"] == 100 and fields["latency"] == round(100 * 20 / 23)
