"""EventBridge rules and targets with boto3 against a live server, and a rule firing a function."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from support import NimbusServer

FN = "arn:aws:lambda:us-east-1:000000000000:function:nothing"


def _code(error: Any) -> str:
    return error.value.response["Error"]["Code"]


def test_rule_lifecycle(aws: Any) -> None:
    events = aws("events")
    name = f"r-{uuid.uuid4().hex[:8]}"
    arn = events.put_rule(Name=name, ScheduleExpression="rate(5 minutes)", Description="d")
    assert arn["RuleArn"] == f"arn:aws:events:us-east-1:000000000000:rule/{name}"
    rule = events.describe_rule(Name=name)
    assert rule["ScheduleExpression"] == "rate(5 minutes)" and rule["State"] == "ENABLED"
    assert rule["EventBusName"] == "default" and rule["Description"] == "d"
    events.disable_rule(Name=name)
    assert events.describe_rule(Name=name)["State"] == "DISABLED"
    events.enable_rule(Name=name)
    assert events.describe_rule(Name=name)["State"] == "ENABLED"
    listed = events.list_rules(NamePrefix=name)["Rules"]
    assert [r["Name"] for r in listed] == [name] and listed[0]["Arn"] == arn["RuleArn"]

    out = events.put_targets(Rule=name, Targets=[
        {"Id": "a", "Arn": FN, "Input": '{"x": 1}'},
        {"Id": "q", "Arn": "arn:aws:sqs:us-east-1:000000000000:q"},
    ])  # fmt: skip
    assert out["FailedEntryCount"] == 1 and out["FailedEntries"][0]["TargetId"] == "q"
    targets = events.list_targets_by_rule(Rule=name)["Targets"]
    assert targets == [{"Id": "a", "Arn": FN, "Input": '{"x": 1}'}]

    with pytest.raises(ClientError) as err:
        events.delete_rule(Name=name)  # targets remain, as AWS refuses
    assert _code(err) == "ValidationException"
    assert "has targets" in err.value.response["Error"]["Message"]
    events.remove_targets(Rule=name, Ids=["a"])
    events.delete_rule(Name=name)
    with pytest.raises(ClientError) as err:
        events.describe_rule(Name=name)
    assert _code(err) == "ResourceNotFoundException"


def test_errors(aws: Any) -> None:
    events = aws("events")
    with pytest.raises(ClientError) as err:
        events.put_rule(Name="bad", ScheduleExpression="rate(1 minutes)")
    assert _code(err) == "ValidationException"
    assert err.value.response["Error"]["Message"] == "Parameter ScheduleExpression is not valid."
    with pytest.raises(ClientError) as err:
        events.put_rule(Name="bad", ScheduleExpression="cron(0 10 * * * *)")
    assert _code(err) == "ValidationException"
    with pytest.raises(ClientError) as err:
        events.put_rule(Name="bad")
    assert _code(err) == "ValidationException"
    with pytest.raises(ClientError) as err:
        events.put_rule(Name="bad", EventPattern="{not json")
    assert _code(err) == "InvalidEventPatternException"
    with pytest.raises(ClientError) as err:
        events.put_targets(Rule="missing", Targets=[{"Id": "a", "Arn": FN}])
    assert _code(err) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        events.enable_rule(Name="missing")
    assert _code(err) == "ResourceNotFoundException"
    events.put_rule(Name="good", ScheduleExpression="cron(0 12 ? * MON-FRI *)")
    with pytest.raises(ClientError) as err:
        events.put_targets(Rule="good", Targets=[{"Id": "a", "Arn": FN, "Input": "{oops"}])
    assert _code(err) == "ValidationException"
    events.delete_rule(Name="good")


def test_list_rules_pages(aws: Any) -> None:
    events = aws("events")
    prefix = f"page-{uuid.uuid4().hex[:6]}-"
    for i in range(5):
        events.put_rule(Name=f"{prefix}{i}", ScheduleExpression="rate(1 day)")
    pages = events.get_paginator("list_rules").paginate(
        NamePrefix=prefix, PaginationConfig={"PageSize": 2}
    )
    names = [r["Name"] for page in pages for r in page["Rules"]]
    assert names == [f"{prefix}{i}" for i in range(5)]


# -- a live server whose scheduler runs 60x faster: rate(1 minute) fires every second ---------
@pytest.fixture(scope="module")
def fast_nimbus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NimbusServer]:
    data = tmp_path_factory.mktemp("fast") / "data"
    server = NimbusServer(data, env={"NIMBUS_SCHEDULE_SPEEDUP": "60"})
    server.start()
    yield server
    server.stop()


def _zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", source)
    return buf.getvalue()


def _fired(logs: Any, group: str) -> list[dict[str, Any]]:
    try:
        found = logs.filter_log_events(logGroupName=group, filterPattern="Scheduled")["events"]
    except ClientError:
        return []
    return [json.loads(e["message"]) for e in found]


def test_a_scheduled_rule_invokes_its_function(fast_nimbus: NimbusServer) -> None:
    iam, lam = fast_nimbus.client("iam"), fast_nimbus.client("lambda")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"Service": "lambda.amazonaws.com"}}]}  # fmt: skip
    role = iam.create_role(RoleName="tick", AssumeRolePolicyDocument=json.dumps(trust))
    source = "import json\ndef handler(event, context):\n    print(json.dumps(event))\n"
    fn = lam.create_function(FunctionName="tick", Runtime="python3.12", Role=role["Role"]["Arn"],
                             Handler="app.handler", Code={"ZipFile": _zip(source)})  # fmt: skip
    events, logs = fast_nimbus.client("events"), fast_nimbus.client("logs")
    rule = events.put_rule(Name="tick", ScheduleExpression="rate(1 minute)")["RuleArn"]
    events.put_targets(Rule="tick", Targets=[{"Id": "fn", "Arn": fn["FunctionArn"]}])

    deadline = time.monotonic() + 30
    while len(_fired(logs, "/aws/lambda/tick")) < 2 and time.monotonic() < deadline:
        time.sleep(0.3)
    fired = _fired(logs, "/aws/lambda/tick")
    assert len(fired) >= 2, fast_nimbus.log.read_text()[-2000:]
    assert fired[0]["resources"] == [rule] and fired[0]["detail-type"] == "Scheduled Event"
    assert fired[0]["time"].endswith(":00Z") and fired[0]["time"] != fired[1]["time"]

    # the rule survives a restart and keeps firing; disabled, it stops
    fast_nimbus.restart()
    seen = len(_fired(logs, "/aws/lambda/tick"))
    deadline = time.monotonic() + 30
    while len(_fired(logs, "/aws/lambda/tick")) <= seen and time.monotonic() < deadline:
        time.sleep(0.3)
    assert len(_fired(logs, "/aws/lambda/tick")) > seen


RULE_STACK = """
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: "def handler(event, context):\\n    return event\\n"
  Nightly:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: "%s"
      State: %s
      Targets:
        - Id: %s
          Arn: !GetAtt Fn.Arn
          Input: '{"job": "nightly"}'
Outputs:
  Rule:
    Value: !Ref Nightly
  RuleArn:
    Value: !GetAtt Nightly.Arn
"""


def test_cloudformation_rule_create_update_delete(aws: Any) -> None:
    cfn, events = aws("cloudformation"), aws("events")
    name = f"rules-{uuid.uuid4().hex[:6]}"
    waiter = {"Delay": 0.2, "MaxAttempts": 300}
    cfn.create_stack(
        StackName=name,
        TemplateBody=RULE_STACK % ("cron(0 2 * * ? *)", "ENABLED", "a"),
        Capabilities=["CAPABILITY_IAM"],
    )
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=waiter)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in
               cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]}  # fmt: skip
    rule = events.describe_rule(Name=outputs["Rule"])
    assert rule["Arn"] == outputs["RuleArn"] and rule["ScheduleExpression"] == "cron(0 2 * * ? *)"
    (target,) = events.list_targets_by_rule(Rule=outputs["Rule"])["Targets"]
    assert target["Id"] == "a" and target["Input"] == '{"job": "nightly"}'
    assert ":function:" in target["Arn"]

    cfn.update_stack(
        StackName=name,
        TemplateBody=RULE_STACK % ("rate(1 hour)", "DISABLED", "b"),
        Capabilities=["CAPABILITY_IAM"],
    )
    cfn.get_waiter("stack_update_complete").wait(StackName=name, WaiterConfig=waiter)
    rule = events.describe_rule(Name=outputs["Rule"])
    assert rule["ScheduleExpression"] == "rate(1 hour)" and rule["State"] == "DISABLED"
    targets = events.list_targets_by_rule(Rule=outputs["Rule"])["Targets"]
    assert [t["Id"] for t in targets] == ["b"]

    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig=waiter)
    with pytest.raises(ClientError) as err:
        events.describe_rule(Name=outputs["Rule"])
    assert _code(err) == "ResourceNotFoundException"


def test_cloudformation_rejects_an_invalid_schedule(aws: Any) -> None:
    cfn = aws("cloudformation")
    name = f"bad-rule-{uuid.uuid4().hex[:6]}"
    cfn.create_stack(
        StackName=name,
        TemplateBody=RULE_STACK % ("rate(1 minutes)", "ENABLED", "a"),
        Capabilities=["CAPABILITY_IAM"],
    )
    waiter = {"Delay": 0.2, "MaxAttempts": 300}
    with pytest.raises(Exception):  # noqa: B017 - the waiter fails on a rolled-back stack
        cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig=waiter)
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    reasons = [
        e.get("ResourceStatusReason", "") for e in events if e["LogicalResourceId"] == "Nightly"
    ]
    assert any("Parameter ScheduleExpression is not valid." in r for r in reasons), reasons
