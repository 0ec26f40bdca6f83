"""Subscription filters deliver matching events in the Lambda ``awslogs`` event format."""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any

from support import Call

from nimbus.services.registry import ServiceRegistry

FN = "arn:aws:lambda:us-east-1:000000000000:function:alerts"


def decode(event: dict[str, Any]) -> dict[str, Any]:
    return json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))


def test_matching_events_reach_the_sink(registry: ServiceRegistry, logs: Call) -> None:
    provider = registry.get("logs")
    delivered: list[tuple[str, dict[str, Any]]] = []
    provider.subscription_sink = lambda arn, event: delivered.append((arn, event))
    logs("create_log_group", logGroupName="/app")
    logs("create_log_stream", logGroupName="/app", logStreamName="s")
    logs(
        "put_subscription_filter",
        logGroupName="/app",
        filterName="errors",
        filterPattern="ERROR",
        destinationArn=FN,
    )
    now = int(time.time() * 1000)
    logs(
        "put_log_events",
        logGroupName="/app",
        logStreamName="s",
        logEvents=[
            {"timestamp": now, "message": "INFO ok"},
            {"timestamp": now + 1, "message": "ERROR boom"},
        ],
    )
    ((arn, event),) = delivered
    payload = decode(event)
    assert arn == FN
    assert payload["messageType"] == "DATA_MESSAGE" and payload["owner"] == "000000000000"
    assert (payload["logGroup"], payload["logStream"]) == ("/app", "s")
    assert payload["subscriptionFilters"] == ["errors"]
    assert [(e["timestamp"], e["message"]) for e in payload["logEvents"]] == [
        (now + 1, "ERROR boom")
    ]
    # The delivered id is the event's id as FilterLogEvents reports it.
    (found,) = logs("filter_log_events", logGroupName="/app", filterPattern="ERROR")["events"]
    assert payload["logEvents"][0]["id"] == found["eventId"]


def test_subscription_filter_limits_and_lifecycle(logs: Call) -> None:
    logs("create_log_group", logGroupName="/g")
    for name in ("a", "b"):
        logs(
            "put_subscription_filter",
            logGroupName="/g",
            filterName=name,
            filterPattern="",
            destinationArn=FN,
        )
    err = logs.error(
        "put_subscription_filter",
        logGroupName="/g",
        filterName="c",
        filterPattern="",
        destinationArn=FN,
    )
    assert err.code == "LimitExceededException"
    listed = logs("describe_subscription_filters", logGroupName="/g")["subscriptionFilters"]
    assert [f["filterName"] for f in listed] == ["a", "b"]
    assert listed[0]["distribution"] == "ByLogStream"
    logs("delete_subscription_filter", logGroupName="/g", filterName="a")
    err = logs.error("delete_subscription_filter", logGroupName="/g", filterName="a")
    assert err.code == "ResourceNotFoundException"
