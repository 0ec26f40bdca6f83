"""``nimbus up`` deploys the apps of its apps dir in the background and prints their URLs."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

from support import NimbusServer

HELLO = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
      Events:
        Get:
          Type: HttpApi
          Properties:
            Path: /hello
            Method: get
  Chat:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: chat
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  ChatStage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Chat
      StageName: prod
      AutoDeploy: true
Outputs:
  ApiUrl:
    Value: !Sub "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
  ChatUrl:
    Value: !Sub "wss://${Chat}.execute-api.${AWS::Region}.amazonaws.com/prod"
"""
BROKEN = HELLO.replace("CodeUri: src/", "CodeUri: missing/")
HANDLER = 'def handler(event, context):\n    return {"statusCode": 200, "body": "hi from app"}\n'


def _apps(root: Path) -> Path:
    apps = root / "apps"
    for name, template in (("hello", HELLO), ("broken", BROKEN)):
        (apps / name / "src").mkdir(parents=True)
        (apps / name / "template.yaml").write_text(template)
        (apps / name / "src" / "app.py").write_text(HANDLER)
    (apps / "notes").mkdir()  # a folder without a template is not an app
    return apps


def _wait_for_log(server: NimbusServer, pattern: str, count: int = 1, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = server.log.read_text()
        if len(re.findall(pattern, text)) >= count:
            return text
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} not in the server output:\n{server.log.read_text()[-3000:]}")


def test_up_deploys_the_apps_and_prints_their_urls(tmp_path: Path) -> None:
    apps = _apps(tmp_path)
    server = NimbusServer(tmp_path / "data", up_args=("--apps-dir", str(apps)))
    server.start()  # returns once healthy: the apps deploy in the background
    try:
        text = _wait_for_log(server, r"(?m)^Apps:$")
        assert "Deploying app broken" in text and "Deploying app hello" in text
        assert "Deploying app notes" not in text
        assert "  broken: deploy failed" in text and "does not exist" in text
        url = re.search(r"  hello: ApiUrl = ([^;\s]+)", text).group(1)
        assert url.startswith(server.endpoint)
        chat = re.search(r"; ChatUrl = (\S+)", text).group(1)  # wss:// resolves to ws://
        assert chat.startswith("ws://127.0.0.1:") and chat.endswith("/prod")
        with urllib.request.urlopen(url + "hello", timeout=60) as reply:
            assert reply.read() == b"hi from app"
        stacks = server.client("cloudformation").describe_stacks()["Stacks"]
        assert {s["StackName"]: s["StackStatus"] for s in stacks}["hello"] == "CREATE_COMPLETE"

        server.restart()  # unchanged: a quick no-op, the URL printed again
        text = _wait_for_log(server, r"(?m)^Apps:$", count=2)
        assert "Stack hello is up to date" in text
        assert text.count(f"  hello: ApiUrl = {url};") == 2
        with urllib.request.urlopen(f"{server.endpoint}/_nimbus/health", timeout=5) as reply:
            assert json.load(reply)["status"] == "running"
    finally:
        server.stop()


def test_no_apps_skips_them(tmp_path: Path) -> None:
    apps = _apps(tmp_path)
    server = NimbusServer(tmp_path / "data", up_args=("--apps-dir", str(apps), "--no-apps"))
    server.start()
    try:
        time.sleep(1.5)
        assert "Deploying app" not in server.log.read_text()
        assert server.client("cloudformation").describe_stacks()["Stacks"] == []
    finally:
        server.stop()
