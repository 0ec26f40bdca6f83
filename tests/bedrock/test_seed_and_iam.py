"""Seed 003's Lambda handler, unchanged, deployed as a function; IAM on Bedrock actions."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import (
    HAIKU,
    SONNET,
    allow,
    client_for_user,
    error_code,
    jpeg_b64,
    make_role,
    user_message,
)

SEED_HANDLER = (Path(__file__).parent / "seed003_handler.txt").read_text()
FM = "arn:aws:bedrock:*::foundation-model/"


def _deploy(nimbus: Any, policy: dict[str, Any]) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", SEED_HANDLER)
    name = f"seed003-{uuid.uuid4().hex[:8]}"
    nimbus.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Handler="app.lambda_handler",
        Timeout=30,
        Role=make_role(nimbus.client("iam"), policy),
        Code={"ZipFile": buffer.getvalue()},
    )
    return name


def _invoke(nimbus: Any, name: str, event: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    reply = nimbus.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return reply, json.loads(reply["Payload"].read())


def test_seed_003_handler_runs_unchanged_in_a_function(nimbus: Any) -> None:
    name = _deploy(nimbus, allow(["bedrock:InvokeModel"], [FM + SONNET]))
    reply, result = _invoke(nimbus, name, {"image": jpeg_b64()})
    assert "FunctionError" not in reply, result
    assert result["statusCode"] == 200
    assert "car" in result["body"] and "offline model" in result["body"]


def test_seed_003_handler_denied_without_bedrock_permission(nimbus: Any) -> None:
    name = _deploy(nimbus, allow(["bedrock:InvokeModel"], [FM + HAIKU]))
    reply, result = _invoke(nimbus, name, {"image": jpeg_b64()})
    assert reply.get("FunctionError") == "Unhandled"
    assert "AccessDenied" in json.dumps(result)


def test_invoke_permissions_are_per_action_and_model(nimbus: Any) -> None:
    client = client_for_user(nimbus, allow(["bedrock:InvokeModel"], [FM + HAIKU]))
    assert client.converse(modelId=HAIKU, messages=user_message("hi"))["output"]
    with pytest.raises(ClientError) as info:
        client.converse(modelId=SONNET, messages=user_message("hi"))
    assert error_code(info) == ("AccessDeniedException", 403)
    with pytest.raises(ClientError) as info:
        client.converse_stream(modelId=HAIKU, messages=user_message("hi"))
    assert error_code(info) == ("AccessDeniedException", 403)
    streaming = client_for_user(
        nimbus, allow(["bedrock:InvokeModelWithResponseStream"], [FM + "*"])
    )
    events = list(streaming.converse_stream(modelId=HAIKU, messages=user_message("hi"))["stream"])
    assert "metadata" in events[-1]


def test_inference_profiles_need_the_profile_and_the_model(nimbus: Any) -> None:
    only_model = client_for_user(nimbus, allow(["bedrock:InvokeModel"], [FM + HAIKU]))
    with pytest.raises(ClientError) as info:
        only_model.converse(modelId=f"us.{HAIKU}", messages=user_message("hi"))
    assert error_code(info) == ("AccessDeniedException", 403)
    both = client_for_user(
        nimbus,
        allow(
            ["bedrock:InvokeModel"],
            [FM + HAIKU, f"arn:aws:bedrock:us-east-1:000000000000:inference-profile/us.{HAIKU}"],
        ),
    )
    assert both.converse(modelId=f"us.{HAIKU}", messages=user_message("hi"))["output"]
