"""Execution: errors, crashes, timeouts, memory, context/env, logs, IAM, throttling."""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from .conftest import invoke, make_role, wait_for

HELLO = "def handler(event, context):\n    return 'ok'\n"
FAULTS = """
import os, time
def handler(event, context):
    kind = event.get("kind")
    if kind == "raise":
        raise ValueError("bad input " + str(event.get("n")))
    if kind == "exit":
        os._exit(3)
    if kind == "loop":
        while True:
            pass
    if kind == "hog":
        blob = bytearray(1024 * 1024 * 1024)
        return len(blob)
    if kind == "sleep":
        time.sleep(event["seconds"])
    return "fine"
"""


def test_handler_exception_has_aws_shape(lam, make_function):
    name = make_function(FAULTS)
    reply, body = invoke(lam, name, {"kind": "raise", "n": 7})
    assert reply["StatusCode"] == 200
    assert reply["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "bad input 7"
    assert body["requestId"] == reply["ResponseMetadata"]["RequestId"]
    assert any("line 6, in handler" in frame for frame in body["stackTrace"])
    assert all("bootstrap.py" not in frame for frame in body["stackTrace"])
    assert invoke(lam, name, {})[1] == "fine"


@pytest.mark.parametrize(
    ("event", "config", "error_type", "words"),
    [
        ({"kind": "exit"}, {}, "Runtime.ExitError", "Runtime exited with error: exit status 3"),
        ({"kind": "loop"}, {"Timeout": 1}, "Sandbox.Timedout", "Task timed out after 1.00 seconds"),
        ({"kind": "hog"}, {"MemorySize": 128}, "Runtime.OutOfMemory", "Runtime exited with error"),
    ],
)
def test_faults_are_isolated(lam, make_function, nimbus, event, config, error_type, words):
    name = make_function(FAULTS, **config)
    assert invoke(lam, name, {})[1] == "fine"  # a warm environment that the fault then ends
    reply, body = invoke(lam, name, event)
    assert reply["FunctionError"] == "Unhandled"
    assert body["errorType"] == error_type, body
    assert words in body["errorMessage"]
    assert invoke(lam, name, {})[1] == "fine"  # a fresh environment serves the next invoke
    assert nimbus.process is not None and nimbus.process.poll() is None


def test_context_and_environment(lam, make_function):
    source = """
import os
def handler(event, context):
    keys = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION", "_HANDLER",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME", "LAMBDA_TASK_ROOT",
            "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "GREETING"]
    return {
        "env": {k: os.environ.get(k) for k in keys},
        "ctx": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
            "client_context": context.client_context,
        },
    }
"""
    name = make_function(source, MemorySize=256, Timeout=10,
                         Environment={"Variables": {"GREETING": "hi"}})  # fmt: skip
    client_context = base64.b64encode(json.dumps({"custom": {"a": 1}}).encode()).decode()
    reply, body = invoke(lam, name, ClientContext=client_context)
    env, ctx = body["env"], body["ctx"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name and env["GREETING"] == "hi"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["_HANDLER"] == "app.handler" and env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:") and env["AWS_SESSION_TOKEN"]
    assert ctx["function_name"] == name and ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"].endswith(f":function:{name}")
    assert ctx["memory_limit_in_mb"] == "256"
    assert ctx["aws_request_id"] == reply["ResponseMetadata"]["RequestId"]
    assert ctx["log_stream_name"] == env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert 0 < ctx["remaining"] <= 10000
    assert ctx["client_context"] == {"custom": {"a": 1}}
    assert reply["ExecutedVersion"] == "$LATEST"


def test_logs_and_tail(lam, make_function, aws):
    name = make_function("def handler(event, context):\n    print('hello from', event['who'])\n")
    reply = lam.invoke(FunctionName=name, Payload=b'{"who": "ada"}', LogType="Tail")
    tail = base64.b64decode(reply["LogResult"]).decode()
    assert "START RequestId:" in tail and "hello from ada" in tail and "REPORT RequestId:" in tail
    assert "Init Duration:" in tail
    logs = aws("logs")
    group = f"/aws/lambda/{name}"

    def messages() -> list[str]:
        try:
            events = logs.filter_log_events(logGroupName=group)["events"]
        except ClientError:
            return []
        return [e["message"] for e in events]

    found = wait_for(lambda: [m for m in messages() if m.startswith("REPORT")] and messages())
    assert any(m.startswith("START RequestId:") for m in found)
    assert any(m.startswith("END RequestId:") for m in found)
    assert "hello from ada" in found
    report = next(m for m in found if m.startswith("REPORT"))
    for part in ("Duration:", "Billed Duration:", "Memory Size: 128 MB", "Max Memory Used:"):
        assert part in report

    cloudwatch = aws("cloudwatch")

    def invocations() -> float:
        stats = cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda", MetricName="Invocations", Statistics=["Sum"], Period=60,
            Dimensions=[{"Name": "FunctionName", "Value": name}],
            StartTime=time.time() - 600, EndTime=time.time() + 600,
        )  # fmt: skip
        return sum(p["Sum"] for p in stats["Datapoints"])

    assert wait_for(invocations) == 1.0


def test_handler_uses_its_role(lam, make_function, aws):
    ddb = aws("dynamodb")
    ddb.create_table(
        TableName="lambda-role-test",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    role = make_role(aws("iam"), {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"}]})  # fmt: skip
    source = """
import boto3
from botocore.exceptions import ClientError
def handler(event, context):
    table = boto3.client("dynamodb")
    table.put_item(TableName="lambda-role-test", Item={"pk": {"S": "a"}})
    try:
        table.delete_item(TableName="lambda-role-test", Key={"pk": {"S": "a"}})
    except ClientError as err:
        return err.response["Error"]["Code"]
    return "deleted"
"""
    name = make_function(source, Role=role, Timeout=30)
    _reply, body = invoke(lam, name)
    assert body == "AccessDeniedException", body
    assert ddb.get_item(TableName="lambda-role-test", Key={"pk": {"S": "a"}})["Item"]


def test_reserved_concurrency_throttles(lam, make_function):
    name = make_function(FAULTS, Timeout=60)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    assert invoke(lam, name)[1] == "fine"
    first: dict = {}
    slow = threading.Thread(
        target=lambda: first.update(invoke(lam, name, {"kind": "sleep", "seconds": 6})[0])
    )
    slow.start()
    time.sleep(2.0)
    with pytest.raises(ClientError) as info:
        invoke(lam, name)
    slow.join()
    err = info.value.response
    assert err["Error"]["Code"] == "TooManyRequestsException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert err["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert first["StatusCode"] == 200 and "FunctionError" not in first
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError):
        invoke(lam, name)
