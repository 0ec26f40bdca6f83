"""AWS/Bedrock metrics in CloudWatch and model invocation logs in CloudWatch Logs."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import error_code, jpeg, user_message

# Few tests use this model; the checks compare before and after.
METERED = "amazon.titan-text-lite-v1"
LOGGED = "anthropic.claude-3-haiku-20240307-v1:0"


def _wait(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def _sum(cloudwatch: Any, metric: str) -> float:
    now = dt.datetime.now(dt.UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/Bedrock",
        MetricName=metric,
        Dimensions=[{"Name": "ModelId", "Value": METERED}],
        StartTime=now - dt.timedelta(hours=1),
        EndTime=now + dt.timedelta(minutes=5),
        Period=3600,
        Statistics=["Sum", "SampleCount"],
    )["Datapoints"]
    return sum(p["Sum"] for p in points)


def test_invocations_tokens_latency_and_errors_become_metrics(
    aws: Callable[..., Any], brt: Any
) -> None:
    cloudwatch = aws("cloudwatch")
    names = ("Invocations", "InputTokenCount", "OutputTokenCount", "InvocationClientErrors")
    time.sleep(0.3)  # earlier tests' samples are flushed
    before = {name: _sum(cloudwatch, name) for name in names}
    used_in = used_out = 0
    for question in ("What is 1+1?", "Hello", "Summarise the water cycle."):
        usage = brt.converse(modelId=METERED, messages=user_message(question))["usage"]
        used_in, used_out = used_in + usage["inputTokens"], used_out + usage["outputTokens"]
    list(brt.converse_stream(modelId=METERED, messages=user_message("Hello"))["stream"])
    with pytest.raises(ClientError):
        brt.converse(
            modelId=METERED, messages=user_message("x"), inferenceConfig={"maxTokens": 99999}
        )

    def grew(name: str) -> float:
        return _sum(cloudwatch, name) - before[name]

    _wait(lambda: grew("Invocations") >= 4 and grew("InvocationClientErrors") >= 1)
    assert (grew("Invocations"), grew("InvocationClientErrors")) == (4, 1)
    assert grew("InputTokenCount") > used_in and grew("OutputTokenCount") > used_out
    listed = cloudwatch.list_metrics(
        Namespace="AWS/Bedrock", Dimensions=[{"Name": "ModelId", "Value": METERED}]
    )
    names = {m["MetricName"] for m in listed["Metrics"]}
    assert {"Invocations", "InvocationLatency", "InputTokenCount", "OutputTokenCount"} <= names


def _records(logs: Any, group: str) -> list[dict[str, Any]]:
    try:
        events = logs.filter_log_events(
            logGroupName=group, logStreamNames=["aws/bedrock/modelinvocations"]
        )
    except ClientError:
        return []
    return [json.loads(e["message"]) for e in events["events"]]


def test_model_invocation_logging_writes_aws_records(
    aws: Callable[..., Any], brt: Any, bedrock: Any
) -> None:
    logs = aws("logs")
    group = f"/bedrock/invocations-{uuid.uuid4().hex[:6]}"
    with pytest.raises(ClientError) as info:
        bedrock.put_model_invocation_logging_configuration(
            loggingConfig={
                "cloudWatchConfig": {
                    "logGroupName": group,
                    "roleArn": "arn:aws:iam::000000000000:role/r",
                }
            }
        )
    assert error_code(info) == ("ValidationException", 400)
    logs.create_log_group(logGroupName=group)
    config = {
        "cloudWatchConfig": {"logGroupName": group, "roleArn": "arn:aws:iam::000000000000:role/r"},
        "textDataDeliveryEnabled": True,
        "imageDataDeliveryEnabled": False,
        "embeddingDataDeliveryEnabled": True,
    }
    bedrock.put_model_invocation_logging_configuration(loggingConfig=config)
    try:
        assert bedrock.get_model_invocation_logging_configuration()["loggingConfig"] == config
        picture = {"image": {"format": "jpeg", "source": {"bytes": jpeg(200, 200)}}}
        reply = brt.converse(
            modelId=LOGGED, messages=[{"role": "user", "content": [{"text": "see"}, picture]}]
        )
        request_id = reply["ResponseMetadata"]["RequestId"]
        records = _wait(lambda: [r for r in _records(logs, group) if r["requestId"] == request_id])
        record = records[0]
        assert record["schemaType"] == "ModelInvocationLog" and record["operation"] == "Converse"
        assert record["modelId"] == LOGGED and record["accountId"] == "000000000000"
        assert record["input"]["inputTokenCount"] == reply["usage"]["inputTokens"]
        assert record["output"]["outputTokenCount"] == reply["usage"]["outputTokens"]
        logged_text = record["output"]["outputBodyJson"]["output"]["message"]["content"][0]["text"]
        assert logged_text == reply["output"]["message"]["content"][0]["text"]
        image = record["input"]["inputBodyJson"]["messages"][0]["content"][1]["image"]
        assert image["source"]["bytes"] == "<omitted>"
        body = {"inputText": "Hello", "textGenerationConfig": {"maxTokenCount": 20}}
        invoked = brt.invoke_model(modelId="amazon.titan-text-express-v1", body=json.dumps(body))
        invoke_id = invoked["ResponseMetadata"]["RequestId"]
        record = _wait(lambda: [r for r in _records(logs, group) if r["requestId"] == invoke_id])[0]
        assert record["operation"] == "InvokeModel" and record["input"]["inputBodyJson"] == body
        assert "results" in record["output"]["outputBodyJson"]
    finally:
        bedrock.delete_model_invocation_logging_configuration()
    assert "loggingConfig" not in bedrock.get_model_invocation_logging_configuration()
