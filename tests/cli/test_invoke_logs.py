"""``nimbus invoke`` and ``nimbus logs`` as subprocesses against the live server."""

from __future__ import annotations

import contextlib
import io
import json
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from support import NimbusServer

SOURCE = """
import json
def handler(event, context):
    print("hello from handler", json.dumps(event))
    if event.get("fail"):
        raise ValueError("boom")
    return {"echo": event}
"""


def nimbus_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nimbus", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def function(nimbus: NimbusServer) -> str:
    iam, lam = nimbus.client("iam"), nimbus.client("lambda")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "lambda.amazonaws.com"}}]}  # fmt: skip
    name = f"cli-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", SOURCE)
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role["Role"]["Arn"],
                        Handler="app.handler", Code={"ZipFile": buf.getvalue()})  # fmt: skip
    return name


def test_invoke_prints_the_payload_and_the_log_tail(nimbus: Any, function: str) -> None:
    done = nimbus_cli(
        "invoke", function, "--payload", '{"n": 1}', "--endpoint-url", nimbus.endpoint
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"echo": {"n": 1}}
    assert 'hello from handler {"n": 1}' in done.stderr and "END RequestId" in done.stderr


def test_invoke_payload_from_a_file_and_endpoint_from_the_state_file(
    nimbus: Any, function: str, tmp_path: Path
) -> None:
    (tmp_path / "server.json").write_text(json.dumps({"endpoint": nimbus.endpoint}))
    event = tmp_path / "event.json"
    event.write_text('{"from": "file"}')
    done = nimbus_cli("invoke", function, "--payload", f"@{event}", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"echo": {"from": "file"}}


def test_invoke_exit_statuses(nimbus: Any, function: str, tmp_path: Path) -> None:
    failed = nimbus_cli("invoke", function, "--payload", '{"fail": true}',
                        "--endpoint-url", nimbus.endpoint)  # fmt: skip
    assert failed.returncode == 1
    error = json.loads(failed.stdout)
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "boom"

    missing = nimbus_cli("invoke", "no-such-fn", "--endpoint-url", nimbus.endpoint)
    assert missing.returncode == 2 and missing.stdout == ""
    assert "ResourceNotFoundException" in missing.stderr and "no-such-fn" in missing.stderr

    bad = nimbus_cli("invoke", function, "--payload", "{oops", "--endpoint-url", nimbus.endpoint)
    assert bad.returncode == 2 and "InvalidRequestContentException" in bad.stderr

    down = nimbus_cli("invoke", function, "--data-dir", str(tmp_path))  # no server.json
    assert down.returncode == 2 and "not running" in down.stderr


def test_logs_prints_the_functions_events(nimbus: Any, function: str) -> None:
    marker = uuid.uuid4().hex
    assert nimbus_cli("invoke", function, "--payload", json.dumps({"m": marker}),
                      "--endpoint-url", nimbus.endpoint).returncode == 0  # fmt: skip
    done = nimbus_cli("logs", function, "--since", "5m", "--endpoint-url", nimbus.endpoint)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if marker in x)
    assert line.endswith(f'hello from handler {{"m": "{marker}"}}') and line[:4].isdigit()

    missing = nimbus_cli("logs", "never-invoked", "--endpoint-url", nimbus.endpoint)
    assert missing.returncode == 2 and "No logs for never-invoked" in missing.stderr
    bad = nimbus_cli("logs", function, "--since", "yesterday", "--endpoint-url", nimbus.endpoint)
    assert bad.returncode != 0 and "--since" in bad.stderr


def test_logs_follow_tails_until_ctrl_c(nimbus: Any, function: str) -> None:
    cmd = [sys.executable, "-m", "nimbus", "logs", function, "--follow", "--since", "1s",
           "--endpoint-url", nimbus.endpoint]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    try:
        time.sleep(1.5)  # started and polling
        marker = uuid.uuid4().hex
        assert nimbus_cli("invoke", function, "--payload", json.dumps({"m": marker}),
                          "--endpoint-url", nimbus.endpoint).returncode == 0  # fmt: skip
        deadline = time.monotonic() + 30
        seen = ""
        while marker not in seen and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                seen = lines.get(timeout=0.5)
        assert marker in seen
        assert proc.poll() is None  # still following
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
