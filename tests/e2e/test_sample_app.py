"""The sample SAM app deployed with ``nimbus deploy`` and exercised with HTTP and boto3.

HTTP API with a path parameter -> a writer whose role has only DynamoDBWritePolicy (its delete is
refused with AccessDeniedException) and a reader; an S3-triggered function recording uploads; a
scheduled function. The server's scheduler runs 60x faster so ``rate(1 minute)`` fires each second.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import NimbusServer

APP = Path(__file__).with_name("sample_app")
TEMPLATE = APP / "template.yaml"
BIN = Path(sys.executable).parent


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def http(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def deploy(endpoint: str, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "nimbus", "deploy", str(TEMPLATE), "--stack-name", "sample"]
    return subprocess.run(
        [*cmd, "--endpoint-url", endpoint, *extra], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NimbusServer]:
    data = tmp_path_factory.mktemp("e2e") / "data"
    live = NimbusServer(data, env={"NIMBUS_SCHEDULE_SPEEDUP": "60"})
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def outputs(server: NimbusServer) -> dict[str, str]:
    done = deploy(server.endpoint, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def test_http_api_reads_and_writes_items(server: NimbusServer, outputs: dict[str, str]) -> None:
    api = outputs["ApiUrl"]
    assert api.startswith(server.endpoint)
    assert http("POST", f"{api}items/apple", {"color": "red", "kg": 2}) == (201, {"id": "apple"})
    status, item = http("GET", f"{api}items/apple")
    assert status == 200 and item == {"id": "apple", "color": "red", "kg": 2}
    assert http("GET", f"{api}items/pear") == (404, {"error": "no item pear"})

    table = server.client("dynamodb")
    stored = table.get_item(TableName=outputs["TableName"], Key={"id": {"S": "apple"}})["Item"]
    assert stored == {"id": {"S": "apple"}, "color": {"S": "red"}, "kg": {"N": "2"}}


def test_the_write_only_policy_refuses_delete(server: NimbusServer, outputs: dict) -> None:
    api = outputs["ApiUrl"]
    assert http("POST", f"{api}items/kept", {"n": 1})[0] == 201
    assert http("DELETE", f"{api}items/kept") == (403, {"error": "AccessDeniedException"})
    table = server.client("dynamodb")
    assert "Item" in table.get_item(TableName=outputs["TableName"], Key={"id": {"S": "kept"}})


def test_an_upload_is_recorded_by_the_s3_triggered_function(
    server: NimbusServer, outputs: dict[str, str]
) -> None:
    key = "photos/cat 1.jpg"
    server.client("s3").put_object(Bucket=outputs["BucketName"], Key=key, Body=b"meow")
    table = server.client("dynamodb")

    def recorded() -> Any:
        got = table.get_item(TableName=outputs["TableName"], Key={"id": {"S": f"upload:{key}"}})
        return got.get("Item")

    item = wait_for(recorded)
    assert item, (server.log.read_text()[-3000:], "upload was not recorded in 30 s")
    assert item["bucket"] == {"S": outputs["BucketName"]} and item["size"] == {"N": "4"}


def test_the_scheduled_function_runs(server: NimbusServer, outputs: dict[str, str]) -> None:
    events = server.client("events")
    (rule,) = events.list_rules()["Rules"]  # the one the SAM Schedule event made
    assert rule["ScheduleExpression"] == "rate(1 minute)" and rule["State"] == "ENABLED"
    (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"].endswith(f":function:{outputs['HeartbeatName']}")
    table = server.client("dynamodb")

    def beats() -> int:
        got = table.get_item(TableName=outputs["TableName"], Key={"id": {"S": "heartbeat"}})
        return int(got.get("Item", {}).get("beats", {}).get("N", 0))

    assert wait_for(lambda: beats() >= 2) is True, server.log.read_text()[-3000:]
    got = table.get_item(TableName=outputs["TableName"], Key={"id": {"S": "heartbeat"}})["Item"]
    assert got["detail_type"] == {"S": "Scheduled Event"}
    assert got["rule_arn"] == {"S": rule["Arn"]}


def test_redeploy_is_a_noop(server: NimbusServer, outputs: dict[str, str]) -> None:
    again = deploy(server.endpoint)
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout and f"ApiUrl = {outputs['ApiUrl']}" in again.stdout


def test_the_template_passes_cfn_lint() -> None:
    done = subprocess.run([str(BIN / "cfn-lint"), str(TEMPLATE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_template_translates_with_aws_sam_translator(monkeypatch: Any) -> None:
    from cfnlint.decode.cfn_yaml import load as load_cfn_yaml
    from samtranslator.translator.transform import transform

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    class Policies:
        def load(self) -> dict[str, str]:
            base = "arn:aws:iam::aws:policy/service-role/"
            return {"AWSLambdaBasicExecutionRole": base + "AWSLambdaBasicExecutionRole"}

    template = json.loads(json.dumps(load_cfn_yaml(str(TEMPLATE))))
    template["Globals"]["Function"]["CodeUri"] = "s3://artifacts/sample.zip"  # as sam package
    out = transform(template, {}, Policies())
    types = sorted({r["Type"] for r in out["Resources"].values()})
    for expected in ("AWS::ApiGatewayV2::Api", "AWS::DynamoDB::Table", "AWS::Events::Rule",
                     "AWS::IAM::Role", "AWS::Lambda::Function", "AWS::Lambda::Permission",
                     "AWS::S3::Bucket"):  # fmt: skip
        assert expected in types
    policies = out["Resources"]["WriteItemRole"]["Properties"]["Policies"]
    actions = {a for p in policies for s in p["PolicyDocument"]["Statement"] for a in s["Action"]}
    assert "dynamodb:PutItem" in actions and "dynamodb:DeleteItem" not in actions
