"""Console fixtures: seeded resources on the session server, a JSON API client, a browser."""

from __future__ import annotations

import io
import json
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from support import NimbusServer, raw_request

API = "/_nimbus/console/api/"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

HANDLER = """
import json

def handler(event, context):
    print("console-test event", json.dumps(event))
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"echo": event, "ok": True}
"""

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


@dataclass
class Seeded:
    bucket: str
    table: str
    function: str
    log_group: str


class ConsoleClient:
    """The console's JSON API over plain (unsigned) HTTP, as the browser calls it."""

    def __init__(self, server: NimbusServer) -> None:
        self.server = server

    def request(
        self, method: str, path: str, query: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[int, Any, dict[str, str]]:
        headers = kwargs.pop("headers", {})
        if method != "GET" and kwargs.pop("csrf", True):
            headers["X-Nimbus-Console"] = "1"
        reply = raw_request(
            self.server.endpoint,
            method,
            API + path,
            query=urlencode(query or {}),
            headers=headers,
            **kwargs,
        )
        is_json = reply.headers.get("content-type", "").startswith("application/json")
        return reply.status, json.loads(reply.body) if is_json else reply.body, reply.headers

    def get(self, path: str, **query: Any) -> Any:
        status, body, _ = self.request("GET", path, query)
        assert status == 200, body
        return body


def _zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", source)
    return buf.getvalue()


@pytest.fixture(scope="module")
def seeded(nimbus: NimbusServer) -> Seeded:
    suffix = uuid.uuid4().hex[:8]
    s3 = nimbus.client("s3")
    bucket = f"console-{suffix}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="top.txt", Body=b"top level", ContentType="text/plain")
    s3.put_object(Bucket=bucket, Key="docs/readme.txt", Body=b"hello docs")
    s3.put_object(Bucket=bucket, Key="docs/deep/x.bin", Body=b"\x00\x01")

    ddb = nimbus.client("dynamodb")
    table = f"orders-{suffix}"
    ddb.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "customer", "KeyType": "HASH"},
            {"AttributeName": "seq", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "customer", "AttributeType": "S"},
            {"AttributeName": "seq", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for customer in ("ada", "bob"):
        for seq in range(1, 6):
            item = {
                "customer": {"S": customer},
                "seq": {"N": str(seq)},
                "total": {"N": f"{seq}.5"},
                "tags": {"SS": ["a", "b"]},
                "meta": {"M": {"gift": {"BOOL": seq == 3}}},
            }
            ddb.put_item(TableName=table, Item=item)

    iam = nimbus.client("iam")
    role = iam.create_role(
        RoleName=f"console-role-{suffix}", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]
    lam = nimbus.client("lambda")
    function = f"console-fn-{suffix}"
    lam.create_function(
        FunctionName=function,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip(HANDLER)},
        Timeout=10,
    )

    logs = nimbus.client("logs")
    log_group = f"/console/app-{suffix}"
    logs.create_log_group(logGroupName=log_group)
    logs.create_log_stream(logGroupName=log_group, logStreamName="s1")
    now = int(time.time() * 1000)
    messages = ["INFO started", "ERROR disk full", "INFO done", "ERROR timed out"]
    logs.put_log_events(
        logGroupName=log_group,
        logStreamName="s1",
        logEvents=[{"timestamp": now - 1000 + i, "message": m} for i, m in enumerate(messages)],
    )
    return Seeded(bucket, table, function, log_group)


@pytest.fixture(scope="module")
def console(nimbus: NimbusServer) -> ConsoleClient:
    return ConsoleClient(nimbus)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright (module-scoped: see tests/browser/conftest.py)."""
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run must apt-get install it")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def guardrail(aws: Any) -> Iterator[dict[str, Any]]:
    bedrock = aws("bedrock")
    made = bedrock.create_guardrail(
        name=f"console-pii-{uuid.uuid4().hex[:8]}",
        description="masks e-mail, blocks phone numbers and investment advice",
        blockedInputMessaging="Sorry, I can't take that input.",
        blockedOutputsMessaging="Sorry, I can't answer that.",
        topicPolicyConfig={"topicsConfig": [{"name": "Investments", "type": "DENY",
                           "definition": "Advice on investing money in stocks or funds."}]},
        sensitiveInformationPolicyConfig={"piiEntitiesConfig": [
            {"type": "EMAIL", "action": "ANONYMIZE"}, {"type": "PHONE", "action": "BLOCK"}]},
        wordPolicyConfig={"wordsConfig": [{"text": "frobnicate"}]},
    )  # fmt: skip
    yield made
    bedrock.delete_guardrail(guardrailIdentifier=made["guardrailId"])
