"""The AWS WebSocket chat sample deployed from a SAM template through CloudFormation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from .conftest import WAIT_S, open_ws

APP = Path(__file__).with_name("chat_app")
WAIT = {"Delay": 0.2, "MaxAttempts": 600}  # generous for a loaded 2-core machine
CAPS = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]


def test_chat_sample_from_template(aws: Any, nimbus: Any) -> None:
    cfn = aws("cloudformation")
    tags = [{"Key": "nimbus:template-dir", "Value": str(APP)}]
    body = (APP / "template.yaml").read_text()
    cfn.create_stack(StackName="ws-chat", TemplateBody=body, Tags=tags, Capabilities=CAPS)
    cfn.get_waiter("stack_create_complete").wait(StackName="ws-chat", WaiterConfig=WAIT)
    stack = cfn.describe_stacks(StackName="ws-chat")["Stacks"][0]
    out = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    host = nimbus.endpoint.split("://", 1)[1]
    api_id = out["ApiEndpoint"].rsplit("/", 1)[1]
    # wss:// and https:// outputs name where Nimbus serves the API.
    assert out["WebSocketURI"] == f"ws://{host}/_api/{api_id}/Prod"
    assert out["ConnectionsURL"] == f"{nimbus.endpoint}/_api/{api_id}/Prod/@connections"

    url = out["WebSocketURI"] + "?token=letmein"
    with pytest.raises(InvalidStatus) as info:
        open_ws(out["WebSocketURI"] + "?token=wrong")
    assert info.value.response.status_code == 403
    with open_ws(url) as alice, open_ws(url) as bob:
        with open_ws(url) as carol:
            carol.send('{"action": "sendmessage", "data": "hello all"}')
            assert {alice.recv(timeout=WAIT_S), bob.recv(timeout=WAIT_S)} == {"hello all"}
            assert carol.recv(timeout=WAIT_S) == "hello all"
        alice.send('{"action": "sendmessage", "data": "carol left"}')
        assert alice.recv(timeout=WAIT_S) == "carol left"
        assert bob.recv(timeout=WAIT_S) == "carol left"

    cfn.delete_stack(StackName="ws-chat")
    cfn.get_waiter("stack_delete_complete").wait(StackName="ws-chat", WaiterConfig=WAIT)
    assert api_id not in [a["ApiId"] for a in aws("apigatewayv2").get_apis()["Items"]]
