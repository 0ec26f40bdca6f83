"""Helpers the tests share: a live Nimbus server they control, and raw signed HTTP requests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError


def unique(prefix: str) -> str:
    """A name no other test uses: ``prefix-1a2b3c4d``."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def error_of(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    """(error code, HTTP status, message) of a boto3 call that must fail."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NimbusServer:
    """A ``nimbus up`` subprocess that tests may kill -9 and restart on the same data dir."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None,
                 up_args: tuple[str, ...] = ("--no-apps",)) -> None:  # fmt: skip
        self.data_dir = data_dir
        self.env = env or {}  # extra environment for the server process
        self.up_args = up_args  # extra ``nimbus up`` flags
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / f"server-{self.port}.log"

    def start(self) -> None:
        cmd = [sys.executable, "-m", "nimbus", "up", "--port", str(self.port)]
        cmd += ["--data-dir", str(self.data_dir), *self.up_args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nimbus exited: {self.log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
                import urllib.request

                with urllib.request.urlopen(f"{self.endpoint}/_nimbus/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nimbus did not become healthy in 30 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill9(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self, service: str, **kwargs: Any) -> Any:
        kwargs.setdefault("aws_access_key_id", "test")
        kwargs.setdefault("aws_secret_access_key", "test")
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=kwargs.pop("region_name", "us-east-1"),
            config=kwargs.pop("config", Config(retries={"max_attempts": 1})),
            **kwargs,
        )


class RawResponse:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


def raw_request(
    endpoint: str,
    method: str,
    path: str,
    *,
    service: str | None = None,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    query: str = "",
) -> RawResponse:
    """Send exactly these bytes (SigV4-signed for ``service`` when given) and return the reply."""
    import http.client

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"{endpoint}{path}" + (f"?{query}" if query else "")
    all_headers = dict(headers or {})
    if service is not None:
        request = AWSRequest(method=method, url=url, data=body, headers=all_headers)
        SigV4Auth(Credentials("test", "test"), service, "us-east-1").add_auth(request)
        all_headers = dict(request.headers.items())
    host, port = endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        has_host = any(name.lower() == "host" for name in all_headers)
        target = path + (f"?{query}" if query else "")
        conn.putrequest(method, target, skip_host=has_host, skip_accept_encoding=True)
        for name, value in all_headers.items():
            conn.putheader(name, value)
        if body and "Content-Length" not in all_headers:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        reply = conn.getresponse()
        data = reply.read()
        return RawResponse(reply.status, {k.lower(): v for k, v in reply.getheaders()}, data)
    finally:
        conn.close()


class Call:
    """``call("put_log_events", logGroupName=...)`` on one provider, as the wire front calls it."""

    def __init__(self, provider: Any, ctx: RequestContext) -> None:
        self.provider = provider
        self.ctx = ctx

    def __call__(self, operation: str, **req: Any) -> dict[str, Any]:
        return getattr(self.provider, operation)(req, self.ctx)

    def error(self, operation: str, **req: Any) -> AwsError:
        with pytest.raises(AwsError) as info:
            self(operation, **req)
        return info.value


AWS_CLI = Path(sys.executable).parent / "aws"


def aws_cli(endpoint: str, *args: str) -> dict:
    """Run the AWS CLI against ``endpoint``; JSON output parsed (high-level ``s3`` prints text)."""
    import json

    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "cli",
        "AWS_SECRET_ACCESS_KEY": "cli",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    done = subprocess.run(
        [str(AWS_CLI), *args, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    if args[0] == "s3":
        return {"text": done.stdout}
    return json.loads(done.stdout) if done.stdout.strip() else {}
