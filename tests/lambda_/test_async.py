"""Asynchronous invocation: retries and OnFailure destinations, kill -9, S3 notifications."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from .conftest import make_role, wait_for, zip_code

RECORDER = "import json\ndef handler(event, context):\n    print('EVENT ' + json.dumps(event))\n"
FAILING = "def handler(event, context):\n    raise RuntimeError('always ' + event['tag'])\n"


def _events(logs, name: str) -> list:
    try:
        found = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except ClientError:
        return []
    return [json.loads(e["message"][6:]) for e in found if e["message"].startswith("EVENT ")]


def _starts(logs, name: str) -> int:
    try:
        found = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    except ClientError:
        return 0
    return sum(e["message"].startswith("START ") for e in found)


def test_retries_then_on_failure_destination(lam, make_function, aws):
    target = make_function(RECORDER)
    failing = make_function(FAILING)
    target_arn = lam.get_function_configuration(FunctionName=target)["FunctionArn"]
    lam.put_function_event_invoke_config(
        FunctionName=failing,
        DestinationConfig={"OnFailure": {"Destination": target_arn}},
    )
    reply = lam.invoke(FunctionName=failing, InvocationType="Event", Payload=b'{"tag": "x1"}')
    assert reply["StatusCode"] == 202
    logs = aws("logs")
    records = wait_for(lambda: _events(logs, target), timeout=90)
    record = records[0]
    assert record["version"] == "1.0"
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"].endswith(f":function:{failing}:$LATEST")
    assert record["requestPayload"] == {"tag": "x1"}
    assert record["responseContext"] == {
        "statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}  # fmt: skip
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "always x1"
    assert wait_for(lambda: _starts(logs, failing) >= 3) and _starts(logs, failing) == 3


def test_async_invoke_survives_kill9(fresh_nimbus):
    lam, iam = fresh_nimbus.client("lambda"), fresh_nimbus.client("iam")
    role = make_role(iam)
    lam.create_function(FunctionName="durable", Runtime="python3.11", Role=role,
                        Handler="app.handler", Code={"ZipFile": zip_code(RECORDER)})  # fmt: skip
    # Reserved concurrency 0 holds the event in the queue (throttled, retried) until restart.
    lam.put_function_concurrency(FunctionName="durable", ReservedConcurrentExecutions=0)
    reply = lam.invoke(FunctionName="durable", InvocationType="Event", Payload=b'{"n": 42}')
    assert reply["StatusCode"] == 202
    fresh_nimbus.kill9()
    fresh_nimbus.start()
    lam, logs = fresh_nimbus.client("lambda"), fresh_nimbus.client("logs")
    lam.delete_function_concurrency(FunctionName="durable")
    assert wait_for(lambda: _events(logs, "durable"), timeout=90) == [{"n": 42}]


def test_s3_notification_invokes_function(lam, make_function, aws):
    name = make_function(RECORDER)
    arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
    s3 = aws("s3")
    s3.create_bucket(Bucket="lambda-trigger")
    s3.put_bucket_notification_configuration(
        Bucket="lambda-trigger",
        NotificationConfiguration={"LambdaFunctionConfigurations": [
            {"Id": "on-upload", "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )  # fmt: skip
    s3.put_object(Bucket="lambda-trigger", Key="docs/a b.txt", Body=b"hello")
    events = wait_for(lambda: _events(aws("logs"), name), timeout=60)
    record = events[0]["Records"][0]
    assert record["eventSource"] == "aws:s3" and record["eventVersion"] == "2.1"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == "lambda-trigger"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::lambda-trigger"
    assert record["s3"]["object"]["key"] == "docs/a+b.txt"
    assert record["s3"]["object"]["size"] == 5
    assert record["s3"]["configurationId"] == "on-upload"
    # The whole record has the documented example's shape: same keys, same value types.
    assert _shape(events[0]) == _shape(DOCUMENTED_S3_EVENT)
    assert record["awsRegion"] == "us-east-1"
    assert record["eventTime"].endswith("Z") and record["eventTime"][10] == "T"


# The example event in AWS's "Using AWS Lambda with Amazon S3" documentation.
DOCUMENTED_S3_EVENT = {
    "Records": [
        {
            "eventVersion": "2.0",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "1970-01-01T00:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "EXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {
                "x-amz-request-id": "EXAMPLE123456789",
                "x-amz-id-2": "EXAMPLE123/5678abcdefghijklambdaisawesome/mnopqrstuvwxyzABCDEFGH",
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "testConfigRule",
                "bucket": {
                    "name": "example-bucket",
                    "ownerIdentity": {"principalId": "EXAMPLE"},
                    "arn": "arn:aws:s3:::example-bucket",
                },
                "object": {
                    "key": "test%2Fkey",
                    "size": 1024,
                    "eTag": "0123456789abcdef0123456789abcdef",
                    "sequencer": "0A1B2C3D4E5F678901",
                },
            },
        }
    ]
}


def _shape(value: object) -> object:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__
