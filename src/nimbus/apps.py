"""The bundled apps ``nimbus up`` deploys: every ``<apps dir>/<name>/template.yaml`` as stack
``<name>``, in a background thread once the server answers, through ``nimbus deploy``'s client.

An unchanged app is a quick no-op (CloudFormation answers "No updates are to be performed.");
a failing app prints its error and leaves the server and the other apps running.
"""

from __future__ import annotations

import contextlib
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


def _urls(endpoint: str, region: str, stack: str) -> list[str]:
    from nimbus.deploy import _client

    described = _client(endpoint, region).describe_stacks(StackName=stack)["Stacks"][0]
    return [
        f"{o['OutputKey']} = {o['OutputValue']}"
        for o in described.get("Outputs") or []
        if str(o.get("OutputValue", "")).startswith(("http://", "https://"))
    ]


def deploy_apps(apps_dir: Path, endpoint: str, region: str) -> dict[str, bool]:
    """Deploy each app in turn; print progress, then each app's URLs. Returns name -> success."""
    from nimbus.deploy import deploy

    apps = find_apps(apps_dir)
    if not apps or not _wait_healthy(endpoint):
        return {}
    results: dict[str, bool] = {}
    for name, template in apps:
        print(f"Deploying app {name} from {template}", flush=True)
        try:
            results[name] = deploy(template, name, endpoint, region, [], as_json=False) == 0
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
