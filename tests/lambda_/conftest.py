"""Lambda test helpers: a role Lambda may assume, zipped handler code, function factories."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# Conftests are imported before the session server starts: short async retry delays for it.
os.environ.setdefault("NIMBUS_LAMBDA_RETRY_BASE_SECONDS", "0.3")

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def zip_code(source: str, name: str = "app.py") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, source)
    return buf.getvalue()


def make_role(iam: Any, policy: dict[str, Any] | None = None) -> str:
    name = f"fn-role-{uuid.uuid4().hex[:8]}"
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


@pytest.fixture
def role(aws: Callable[..., Any]) -> str:
    return make_role(aws("iam"), {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]})  # fmt: skip


@pytest.fixture
def lam(aws: Callable[..., Any]) -> Any:
    return aws("lambda")


@pytest.fixture
def make_function(lam: Any, role: str) -> Iterator[Callable[..., str]]:
    """``make_function(source, **config)`` -> the name of a new function running ``app.handler``."""
    made: list[str] = []

    def create(source: str, **config: Any) -> str:
        name = config.pop("FunctionName", f"fn-{uuid.uuid4().hex[:10]}")
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=config.pop("Role", role),
            Handler=config.pop("Handler", "app.handler"),
            Code={"ZipFile": zip_code(source)},
            **config,
        )
        made.append(name)
        return name

    yield create
    for name in made:
        with contextlib.suppress(Exception):
            lam.delete_function(FunctionName=name)


def invoke(lam: Any, name: str, event: Any = None, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    reply = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kwargs)
    body = reply["Payload"].read()
    return reply, json.loads(body) if body else None


def wait_for(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.2) -> Any:
    """Poll until ``check()`` is truthy (generous: tests run on loaded 2-core machines)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
