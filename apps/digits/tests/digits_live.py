"""The digits app on a live Nimbus: a server of its own on a temporary data dir, the model
trained by a SageMaker training job through it (scripts/prepare.py), the stack deployed with the
``nimbus deploy`` CLI and the web UI uploaded (scripts/after_deploy.py)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from digits_support import APP, REPO

if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

from support import NimbusServer


@dataclass
class Deployment:
    server: NimbusServer
    model_data_url: str
    outputs: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)

    def client(self, service: str, **kwargs):
        return self.server.client(service, **kwargs)


def hook_env(endpoint: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "PYTHONUNBUFFERED": "1",
    }


def run(cmd: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    done = subprocess.run(
        cmd, cwd=APP, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done


@contextlib.contextmanager
def deploy_on_nimbus(tmp: Path) -> Iterator[Deployment]:
    server = NimbusServer(tmp / "data")
    server.start()
    try:
        env = hook_env(server.endpoint)
        timings: dict[str, float] = {}
        started = time.monotonic()
        prepared = run([sys.executable, str(APP / "scripts" / "prepare.py")], env, 1500)
        timings["prepare"] = time.monotonic() - started
        lines = [line for line in prepared.stdout.splitlines() if "=" in line]
        overrides = dict(line.strip().split("=", 1) for line in lines)
        url = overrides["ModelDataUrl"]
        started = time.monotonic()
        deploy = [sys.executable, "-m", "nimbus", "deploy", str(APP / "template.yaml")]
        deploy += ["--stack-name", "digits", "--endpoint-url", server.endpoint, "--json"]
        deploy += ["--parameter-overrides", f"ModelDataUrl={url}"]
        outputs = json.loads(run(deploy, env, 600).stdout)
        timings["deploy"] = time.monotonic() - started
        after = [sys.executable, str(APP / "scripts" / "after_deploy.py"), json.dumps(outputs)]
        run(after, env, 120)
        yield Deployment(server, url, outputs, timings)
    finally:
        server.stop()
