"""An app's ``scripts/prepare.py`` gives parameter overrides; ``scripts/after_deploy.py`` gets
the stack outputs. ``nimbus up`` runs both around the app's deploy."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from support import NimbusServer

from nimbus.apps import run_after_deploy, run_prepare

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Greeting:
    Type: String
Resources:
  Topic:
    Type: AWS::S3::Bucket
Outputs:
  Said:
    Value: !Ref Greeting
  Bucket:
    Value: !Ref Topic
"""
PREPARE = """\
import os, sys
print("training a model...", file=sys.stderr)
print("just progress on stdout")
print("Greeting=hello " + os.environ["NIMBUS_STACK_NAME"])
print("endpoint " + os.environ["AWS_ENDPOINT_URL"])
"""
AFTER = """\
import json, os, sys, pathlib
outputs = json.loads(sys.argv[1])
assert outputs == json.loads(os.environ["NIMBUS_STACK_OUTPUTS"])
pathlib.Path("after.json").write_text(json.dumps(outputs))
"""


def _app(root: Path, prepare: str = PREPARE, after: str = AFTER) -> Path:
    app = root / "apps" / "greeter"
    (app / "scripts").mkdir(parents=True)
    (app / "template.yaml").write_text(TEMPLATE)
    (app / "scripts" / "prepare.py").write_text(prepare)
    (app / "scripts" / "after_deploy.py").write_text(after)
    return app


def test_prepare_lines_become_overrides(tmp_path: Path, capsys) -> None:
    app = _app(tmp_path)
    overrides = run_prepare(app, "http://127.0.0.1:1", "us-east-1", "greeter")
    assert overrides == ["Greeting=hello greeter"]
    out = capsys.readouterr().out
    assert "just progress on stdout" in out and "endpoint http://127.0.0.1:1" in out
    assert run_prepare(tmp_path, "http://x", "us-east-1", "none") is None  # no hook


def test_a_failing_hook_fails_the_app(tmp_path: Path) -> None:
    app = _app(tmp_path, prepare="raise SystemExit(3)", after="raise SystemExit(4)")
    with pytest.raises(RuntimeError, match="status 3"):
        run_prepare(app, "http://x", "us-east-1", "greeter")
    with pytest.raises(RuntimeError, match="status 4"):
        run_after_deploy(app, "http://x", "us-east-1", "greeter", {"A": "b"})


def test_up_runs_the_hooks_around_the_deploy(tmp_path: Path) -> None:
    app = _app(tmp_path)
    server = NimbusServer(tmp_path / "data", up_args=("--apps-dir", str(app.parent)))
    server.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (app / "after.json").exists():
            time.sleep(0.2)
        log = server.log.read_text()
        assert (app / "after.json").exists(), log[-3000:]
        outputs = json.loads((app / "after.json").read_text())
        assert outputs["Said"] == "hello greeter" and outputs["Bucket"]
        assert re.search(r"Preparing app greeter", log)
    finally:
        server.stop()
