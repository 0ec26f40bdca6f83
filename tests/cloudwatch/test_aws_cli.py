"""The AWS CLI (a second real client) against Nimbus for logs and metrics."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from support import AWS_CLI, aws_cli

pytestmark = pytest.mark.skipif(not AWS_CLI.exists(), reason="the AWS CLI is a dev dependency")


def cli(nimbus: Any, *args: str) -> Any:
    return aws_cli(nimbus.endpoint, *args)


def test_cli_logs_and_metrics(nimbus: Any) -> None:
    group = f"/cli/{uuid.uuid4().hex[:8]}"
    cli(nimbus, "logs", "create-log-group", "--log-group-name", group)
    cli(nimbus, "logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", "s")
    now = int(time.time() * 1000)
    events = json.dumps(
        [
            {"timestamp": now, "message": "ERROR disk full"},
            {"timestamp": now + 1, "message": "INFO fine"},
        ]
    )
    cli(
        nimbus,
        "logs",
        "put-log-events",
        "--log-group-name",
        group,
        "--log-stream-name",
        "s",
        "--log-events",
        events,
    )
    found = cli(
        nimbus, "logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "ERROR"
    )
    assert [e["message"] for e in found["events"]] == ["ERROR disk full"]

    namespace = f"Cli{uuid.uuid4().hex[:8]}"
    for value in ("10", "20", "30"):
        cli(
            nimbus,
            "cloudwatch",
            "put-metric-data",
            "--namespace",
            namespace,
            "--metric-name",
            "Latency",
            "--value",
            value,
            "--unit",
            "Milliseconds",
        )
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600))
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
    stats = cli(
        nimbus,
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        namespace,
        "--metric-name",
        "Latency",
        "--start-time",
        start,
        "--end-time",
        end,
        "--period",
        "3600",
        "--statistics",
        "Sum",
        "SampleCount",
    )
    (point,) = stats["Datapoints"]
    assert (point["Sum"], point["SampleCount"], point["Unit"]) == (60.0, 3.0, "Milliseconds")
