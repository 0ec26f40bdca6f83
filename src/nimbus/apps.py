"""The bundled apps ``nimbus up`` deploys: every ``<apps dir>/<name>/template.yaml`` as stack
``<name>``, in a background thread once the server answers, through ``nimbus deploy``'s client.

An unchanged app is a quick no-op (CloudFormation answers "No updates are to be performed.");
a failing app prints its error and leaves the server and the other apps running.

Two optional hooks let an app do what CloudFormation cannot (both run with this interpreter, in
the app's folder, with ``AWS_ENDPOINT_URL`` pointing at this server, test credentials and the
region, so a plain boto3 script works unchanged against Nimbus and AWS):

- ``scripts/prepare.py`` runs before each deploy. Every ``KEY=VALUE`` line it prints on stdout
  becomes a parameter override (other stdout lines and all of stderr are shown as progress).
  A non-zero exit fails that app's deploy. It runs on every ``nimbus up``, so it should reuse
  what an earlier run made (e.g. a trained model) and be quick the second time.
- ``scripts/after_deploy.py`` runs after a successful deploy with the stack outputs as a JSON
  object in ``argv[1]`` and in ``NIMBUS_STACK_OUTPUTS`` (e.g. to upload a website's files).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

#: The repository's ``apps/`` folder, next to ``src/``.
DEFAULT_APPS_DIR = Path(__file__).resolve().parents[2] / "apps"


def find_apps(apps_dir: Path) -> list[tuple[str, Path]]:
    """(stack name, template) of each app folder, by name."""
    if not apps_dir.is_dir():
        return []
    found = [(d.name, d / "template.yaml") for d in sorted(apps_dir.iterdir()) if d.is_dir()]
    return [(name, template) for name, template in found if template.is_file()]


def _wait_healthy(endpoint: str, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        url = f"{endpoint}/_nimbus/health"
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as reply:
            if reply.status == 200:
                return True
        time.sleep(0.1)
    return False


PREPARE = "scripts/prepare.py"
AFTER_DEPLOY = "scripts/after_deploy.py"
HOOK_TIMEOUT = 1800.0  # seconds; a prepare step may train a model
_OVERRIDE = re.compile(r"^([A-Za-z][A-Za-z0-9]*)=(.*)$")


def _outputs(endpoint: str, region: str, stack: str) -> dict[str, str]:
    from nimbus.deploy import _client

    described = _client(endpoint, region).describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: str(o.get("OutputValue", "")) for o in described.get("Outputs") or []}


def _urls(endpoint: str, region: str, stack: str) -> list[str]:
    return [
        f"{key} = {value}"
        for key, value in _outputs(endpoint, region, stack).items()
        if value.startswith(("http://", "https://", "ws://", "wss://"))
    ]


def _hook_env(endpoint: str, region: str, stack: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "nimbus",
        "AWS_SECRET_ACCESS_KEY": "nimbus",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "NIMBUS_STACK_NAME": stack,
        "PYTHONUNBUFFERED": "1",
    }


def run_prepare(app_dir: Path, endpoint: str, region: str, stack: str) -> list[str] | None:
    """Run the app's ``scripts/prepare.py``; its ``KEY=VALUE`` stdout lines (None: no hook)."""
    script = app_dir / PREPARE
    if not script.is_file():
        return None
    print(f"Preparing app {stack}: {script}", flush=True)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=app_dir, env=_hook_env(endpoint, region, stack),
        stdout=subprocess.PIPE, text=True, timeout=HOOK_TIMEOUT, check=False,
    )  # fmt: skip
    overrides = []
    for line in done.stdout.splitlines():
        match = _OVERRIDE.match(line.strip())
        if match:
            overrides.append(f"{match.group(1)}={match.group(2)}")
        elif line.strip():
            print(f"  {stack}: {line}", flush=True)
    if done.returncode != 0:
        raise RuntimeError(f"{PREPARE} exited with status {done.returncode}")
    return overrides


def run_after_deploy(app_dir: Path, endpoint: str, region: str, stack: str,
                     outputs: dict[str, str]) -> bool:  # fmt: skip
    """Run the app's ``scripts/after_deploy.py`` with the stack outputs (False: no hook)."""
    script = app_dir / AFTER_DEPLOY
    if not script.is_file():
        return False
    payload = json.dumps(outputs)
    env = {**_hook_env(endpoint, region, stack), "NIMBUS_STACK_OUTPUTS": payload}
    done = subprocess.run(
        [sys.executable, str(script), payload], cwd=app_dir, env=env,
        timeout=HOOK_TIMEOUT, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{AFTER_DEPLOY} exited with status {done.returncode}")
    return True


def deploy_apps(apps_dir: Path, endpoint: str, region: str) -> dict[str, bool]:
    """Deploy each app in turn; print progress, then each app's URLs. Returns name -> success."""
    from nimbus.deploy import deploy

    apps = find_apps(apps_dir)
    if not apps or not _wait_healthy(endpoint):
        return {}
    results: dict[str, bool] = {}
    for name, template in apps:
        try:
            overrides = run_prepare(template.parent, endpoint, region, name) or []
            print(f"Deploying app {name} from {template}", flush=True)
            results[name] = deploy(template, name, endpoint, region, overrides, as_json=False) == 0
            if results[name] and (template.parent / AFTER_DEPLOY).is_file():
                outputs = _outputs(endpoint, region, name)
                run_after_deploy(template.parent, endpoint, region, name, outputs)
        except Exception as exc:  # a broken app must not take the server down
            print(f"App {name} failed to deploy: {exc}", flush=True)
            results[name] = False
    lines = ["Apps:"]
    for name, ok in results.items():
        if not ok:
            lines.append(f"  {name}: deploy failed (see above)")
            continue
        try:
            urls = _urls(endpoint, region, name)
        except Exception as exc:
            urls = [f"(outputs unavailable: {exc})"]
        lines.append(f"  {name}: " + ("; ".join(urls) if urls else "deployed (no URLs)"))
    print("\n".join(lines), flush=True)
    return results


def start_deploying(apps_dir: Path, endpoint: str, region: str) -> threading.Thread | None:
    """Deploy the apps in a daemon thread so the server keeps answering meanwhile."""
    if not find_apps(apps_dir):
        return None
    thread = threading.Thread(
        target=deploy_apps, args=(apps_dir, endpoint, region), name="nimbus-apps", daemon=True
    )
    thread.start()
    return thread
