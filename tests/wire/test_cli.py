"""The command-line contract: nimbus status, clean SIGTERM, and the AWS CLI against Nimbus."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import AWS_CLI, aws_cli


def nimbus_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nimbus", *args], capture_output=True, text=True, timeout=60
    )


def test_status_shows_what_runs_and_where(fresh_nimbus) -> None:
    done = nimbus_cli("status", "--data-dir", str(fresh_nimbus.data_dir))
    assert done.returncode == 0, done.stderr
    assert fresh_nimbus.endpoint in done.stdout
    assert "dynamodb" in done.stdout and "s3" in done.stdout


def test_status_when_not_running(tmp_path: Path) -> None:
    done = nimbus_cli("status", "--data-dir", str(tmp_path))
    assert done.returncode == 1
    assert "not running" in done.stdout


def test_sigterm_shuts_down_cleanly(fresh_nimbus) -> None:
    fresh_nimbus.stop()
    assert fresh_nimbus.process.returncode == 0
    assert not (fresh_nimbus.data_dir / "server.json").exists()


@pytest.mark.skipif(not AWS_CLI.exists(), reason="the AWS CLI is a dev dependency")
def test_aws_cli_works_against_nimbus(nimbus, tmp_path: Path) -> None:
    endpoint = nimbus.endpoint
    source = tmp_path / "hello.txt"
    source.write_text("hello from the AWS CLI")
    aws_cli(endpoint, "s3", "mb", "s3://cli-bucket")
    aws_cli(endpoint, "s3", "cp", str(source), "s3://cli-bucket/dir/hello.txt")
    listed = aws_cli(endpoint, "s3api", "list-objects-v2", "--bucket", "cli-bucket")
    assert [o["Key"] for o in listed["Contents"]] == ["dir/hello.txt"]
    back = tmp_path / "back.txt"
    aws_cli(endpoint, "s3", "cp", "s3://cli-bucket/dir/hello.txt", str(back))
    assert back.read_text() == "hello from the AWS CLI"

    aws_cli(
        endpoint,
        "dynamodb",
        "create-table",
        "--table-name",
        "cli-table",
        "--attribute-definitions",
        "AttributeName=pk,AttributeType=S",
        "--key-schema",
        "AttributeName=pk,KeyType=HASH",
        "--billing-mode",
        "PAY_PER_REQUEST",
    )
    aws_cli(
        endpoint,
        "dynamodb",
        "put-item",
        "--table-name",
        "cli-table",
        "--item",
        '{"pk": {"S": "a"}, "n": {"N": "7"}}',
    )
    got = aws_cli(
        endpoint, "dynamodb", "get-item", "--table-name", "cli-table", "--key", '{"pk": {"S": "a"}}'
    )
    assert got["Item"]["n"] == {"N": "7"}

    user = aws_cli(endpoint, "iam", "create-user", "--user-name", "cli-user")
    assert user["User"]["Arn"].endswith(":user/cli-user")
    identity = aws_cli(endpoint, "sts", "get-caller-identity")
    assert identity["Account"] == "000000000000"

    aws_cli(endpoint, "logs", "create-log-group", "--log-group-name", "cli-group")
    groups = aws_cli(endpoint, "logs", "describe-log-groups", "--log-group-name-prefix", "cli-")
    assert [g["logGroupName"] for g in groups["logGroups"]] == ["cli-group"]

    aws_cli(
        endpoint,
        "cloudwatch",
        "put-metric-data",
        "--namespace",
        "Cli",
        "--metric-name",
        "Runs",
        "--value",
        "1",
    )
    metrics = aws_cli(endpoint, "cloudwatch", "list-metrics", "--namespace", "Cli")
    assert [m["MetricName"] for m in metrics["Metrics"]] == ["Runs"]
