"""The genai-patterns app on a live Nimbus: a server of its own on a temporary data dir, the stack
deployed with the ``nimbus deploy`` CLI (guardrail and prompt versions included) and the web UI
uploaded (scripts/after_deploy.py). The built-in offline model writes at a visible pace so that
streaming can be watched."""

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

from genai_support import APP, REPO

if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

from support import NimbusServer

STACK = "genai-patterns"
TOKEN_DELAY_MS = "8"  # the built-in model's pace: a few hundred ms per answer


@dataclass
class Deployment:
    server: NimbusServer
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
    server = NimbusServer(tmp / "data", env={"NIMBUS_BEDROCK_TOKEN_DELAY_MS": TOKEN_DELAY_MS})
    server.start()
    try:
        env = hook_env(server.endpoint)
        started = time.monotonic()
        deploy = [sys.executable, "-m", "nimbus", "deploy", str(APP / "template.yaml")]
        deploy += ["--stack-name", STACK, "--endpoint-url", server.endpoint, "--json"]
        outputs = json.loads(run(deploy, env, 600).stdout)
        timings = {"deploy": time.monotonic() - started}
        after = [sys.executable, str(APP / "scripts" / "after_deploy.py"), json.dumps(outputs)]
        run(after, env, 120)
        yield Deployment(server, outputs, timings)
    finally:
        server.stop()
