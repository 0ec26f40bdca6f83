"""The ``nimbus`` command: up, status, deploy, invoke, logs."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nimbus.config import Settings
from nimbus.services.registry import PROVIDERS

STATE_FILE = "server.json"
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="nimbus", description="A local AWS for serverless AI apps."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run Nimbus in the foreground")
    defaults = Settings.from_env()
    up.add_argument("--host", default=defaults.host)
    up.add_argument("--port", type=int, default=defaults.port)
    up.add_argument("--data-dir", type=Path, default=defaults.data_dir)
    up.add_argument("--region", default=defaults.region)
    up.add_argument("--no-apps", action="store_true", help="do not deploy the bundled apps")
    up.add_argument(
        "--apps-dir",
        type=Path,
        default=defaults.apps_dir,
        help="folder of apps to deploy, one per subfolder (default: the repo's apps/)",
    )

    status = commands.add_parser("status", help="show what runs and where")
    status.add_argument("--data-dir", type=Path, default=defaults.data_dir)
    status.add_argument("--endpoint-url", default=None)

    dep = commands.add_parser("deploy", help="deploy a CloudFormation/SAM template as a stack")
    dep.add_argument("template", type=Path)
    dep.add_argument("--stack-name", default=None, help="default: the template folder's name")
    dep.add_argument("--endpoint-url", default=None)
    dep.add_argument("--data-dir", type=Path, default=defaults.data_dir)
    dep.add_argument("--region", default=defaults.region)
    dep.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE")
    dep.add_argument("--json", action="store_true", help="print only the outputs, as JSON")

    inv = commands.add_parser("invoke", help="invoke a function; print its response payload")
    inv.add_argument("function")
    inv.add_argument("--payload", default="{}", help="the event as JSON, or @file.json")
    logs = commands.add_parser("logs", help="print a function's CloudWatch logs")
    logs.add_argument("function")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing until Ctrl-C")
    logs.add_argument("--since", default="10m", help="how far back: 30s, 10m, 2h, 1d (10m)")
    for sub in (inv, logs):
        sub.add_argument("--endpoint-url", default=None)
        sub.add_argument("--data-dir", type=Path, default=defaults.data_dir)
        sub.add_argument("--region", default=defaults.region)

    args = parser.parse_args(argv)
    if args.command == "deploy":
        return run_deploy(args)
    if args.command in ("invoke", "logs"):
        return run_function_command(args)
    if args.command == "up":
        settings = Settings(
            host=args.host, port=args.port, data_dir=args.data_dir, region=args.region,
            apps_dir=args.apps_dir,
        )  # fmt: skip
        return run_up(settings, deploy_apps=not args.no_apps)
    return run_status(args.data_dir, args.endpoint_url)


def run_up(settings: Settings, deploy_apps: bool = True) -> int:
    import uvicorn

    class _Server(uvicorn.Server):
        """Exit 0 after a graceful shutdown on SIGTERM/SIGINT instead of re-raising the signal."""

        async def shutdown(self, sockets: Any = None) -> None:
            await app.drain()  # WebSocket $disconnect functions still reach Nimbus
            await super().shutdown(sockets)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    from nimbus.server import NimbusApp

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    state = settings.data_dir / STATE_FILE

    def ready() -> None:
        state.write_text(
            json.dumps(
                {"pid": os.getpid(), "endpoint": settings.base_url, "region": settings.region}
            )
        )
        print(_banner(settings), flush=True)
        if deploy_apps:
            from nimbus.apps import DEFAULT_APPS_DIR, start_deploying

            apps_dir = settings.apps_dir or DEFAULT_APPS_DIR
            start_deploying(apps_dir, settings.base_url, settings.region)

    app = NimbusApp(settings, on_ready=ready)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http="httptools",
        # WebSocket APIs: uvicorn's websockets protocol with API Gateway's frame/message limits.
        ws="nimbus.services.apigatewayv2.ws_protocol:ExecuteApiWebSocketProtocol",
        ws_per_message_deflate=False,
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
        # Clients connect directly; trusting X-Forwarded-For from loopback would let any
        # caller pick its aws:SourceIp for IAM conditions.
        proxy_headers=False,
    )
    try:
        _Server(config).run()
    finally:
        state.unlink(missing_ok=True)
    return 0


def _banner(settings: Settings) -> str:
    url = settings.base_url
    lines = [
        f"Nimbus is running at {url}  (state in {settings.data_dir.resolve()})",
        f"  Services: {', '.join(sorted(PROVIDERS))}",
        f"  Use it:   export AWS_ENDPOINT_URL={url} AWS_DEFAULT_REGION={settings.region} "
        "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test",
        f"  Console:  {url}/  (open it in a browser)",
        f"  Health:   {url}/_nimbus/health",
        f"  Websites: {url}/_website/<bucket>/",
        "  Stop with Ctrl-C.",
    ]
    return "\n".join(lines)


def _endpoint(data_dir: Path, endpoint: str | None) -> str | None:
    if endpoint is not None:
        return endpoint
    state = data_dir / STATE_FILE
    return json.loads(state.read_text())["endpoint"] if state.exists() else None


def run_deploy(args: argparse.Namespace) -> int:
    from nimbus.deploy import deploy

    endpoint = _endpoint(args.data_dir, args.endpoint_url)
    if endpoint is None:
        print("Nimbus is not running. Start it with: nimbus up  (or pass --endpoint-url)")
        return 1
    name = args.stack_name or args.template.resolve().parent.name
    return deploy(args.template, name, endpoint, args.region, args.parameter_overrides, args.json)


def run_function_command(args: argparse.Namespace) -> int:
    from nimbus import function_cli

    endpoint = _endpoint(args.data_dir, args.endpoint_url)
    if endpoint is None:
        print("Nimbus is not running. Start it with: nimbus up  (or pass --endpoint-url)",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.command == "invoke":
        return function_cli.invoke(args.function, args.payload, endpoint, args.region)
    return function_cli.logs(args.function, args.follow, args.since, endpoint, args.region)


def run_status(data_dir: Path, endpoint: str | None) -> int:
    if endpoint is None:
        state = data_dir / STATE_FILE
        if not state.exists():
            print(f"Nimbus is not running (no {state}). Start it with: make up  (or nimbus up)")
            return 1
        endpoint = json.loads(state.read_text())["endpoint"]
    try:
        with urllib.request.urlopen(f"{endpoint}/_nimbus/health", timeout=3) as response:
            health = json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"Nimbus does not answer at {endpoint}: {exc}")
        return 1
    print(f"Nimbus {health['version']} is running at {health['endpoint']}")
    print(f"  region:   {health['region']}")
    print(f"  data dir: {health['data_dir']}")
    print(f"  uptime:   {health['uptime_seconds']} s")
    print(f"  services: {', '.join(health['services'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
