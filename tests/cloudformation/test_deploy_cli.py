"""``nimbus deploy`` on a small SAM template, run as a subprocess against a live server."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

APP = Path(__file__).with_name("sam_app") / "template.yaml"


def _deploy(endpoint: str, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "nimbus", "deploy", str(APP), "--stack-name", "samapp"]
    return subprocess.run(
        [*cmd, "--endpoint-url", endpoint, *extra], capture_output=True, text=True, timeout=300
    )


def test_deploy_prints_outputs_then_is_a_noop(nimbus: Any, aws: Any) -> None:
    first = _deploy(nimbus.endpoint)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "CREATE_COMPLETE" in first.stdout and "AWS::Lambda::Function" in first.stdout
    assert f"ApiUrl = {nimbus.endpoint}/" in first.stdout

    second = _deploy(nimbus.endpoint, "--json")
    assert second.returncode == 0, second.stderr
    outputs = json.loads(second.stdout)  # --json prints only the outputs
    assert outputs["ApiUrl"].startswith(nimbus.endpoint)
    table = aws("dynamodb").describe_table(TableName=outputs["TableName"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]

    with urllib.request.urlopen(outputs["ApiUrl"] + "hello", timeout=60) as reply:
        assert json.loads(reply.read()) == {"table": outputs["TableName"]}
