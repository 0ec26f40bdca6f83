"""Control plane: create/get/list/update/delete, validation errors, concurrency, policy."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from .conftest import invoke, zip_code

HELLO = "def handler(event, context):\n    return {'hello': event.get('name', 'world')}\n"


def test_create_get_list_update_delete(lam, make_function, role):
    name = make_function(HELLO, Timeout=5, MemorySize=256, Environment={"Variables": {"A": "1"}})
    cfg = lam.get_function_configuration(FunctionName=name)
    assert cfg["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert cfg["State"] == "Active" and cfg["Timeout"] == 5 and cfg["MemorySize"] == 256
    assert cfg["Environment"] == {"Variables": {"A": "1"}}
    assert cfg["CodeSize"] > 0 and cfg["CodeSha256"] and cfg["LastModified"]
    got = lam.get_function(FunctionName=name)
    assert got["Configuration"]["FunctionName"] == name
    assert invoke(lam, name, {"name": "ada"})[1] == {"hello": "ada"}

    new_code = zip_code("def handler(event, context):\n    return 'v2'\n")
    updated = lam.update_function_code(FunctionName=name, ZipFile=new_code)
    assert updated["CodeSha256"] != cfg["CodeSha256"]
    assert invoke(lam, name)[1] == "v2"
    lam.update_function_configuration(FunctionName=name, Timeout=9)
    assert lam.get_function_configuration(FunctionName=name)["Timeout"] == 9

    lam.delete_function(FunctionName=name)
    with pytest.raises(ClientError) as info:
        lam.get_function(FunctionName=name)
    err = info.value.response
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert err["Error"]["Message"] == f"Function not found: {cfg['FunctionArn']}"


def test_list_functions_paginates(lam, make_function):
    names = {make_function(HELLO) for _ in range(3)}
    seen: list[str] = []
    for page in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2}):
        seen += [f["FunctionName"] for f in page["Functions"]]
    assert names <= set(seen)
    assert len(seen) == len(set(seen))


def test_create_errors(lam, make_function, aws):
    name = make_function(HELLO)
    with pytest.raises(ClientError) as info:
        make_function(HELLO, FunctionName=name)
    assert info.value.response["Error"]["Code"] == "ResourceConflictException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(ClientError) as info:
        make_function(HELLO, Role="arn:aws:iam::000000000000:role/nobody")
    assert info.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "cannot be assumed by Lambda" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:
        make_function(HELLO, Environment={"Variables": {"AWS_REGION": "x"}})
    assert info.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_zip_slip_refused(lam, role):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../evil.py", "x = 1")
    with pytest.raises(ClientError) as info:
        lam.create_function(FunctionName="zipslip", Runtime="python3.11", Role=role,
                            Handler="app.handler", Code={"ZipFile": buf.getvalue()})  # fmt: skip
    assert info.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_code_from_s3(lam, aws, role):
    s3 = aws("s3")
    s3.create_bucket(Bucket="lambda-code")
    s3.put_object(Bucket="lambda-code", Key="fn.zip", Body=zip_code(HELLO))
    lam.create_function(FunctionName="from-s3", Runtime="python3.11", Role=role,
                        Handler="app.handler",
                        Code={"S3Bucket": "lambda-code", "S3Key": "fn.zip"})  # fmt: skip
    try:
        assert invoke(lam, "from-s3")[1] == {"hello": "world"}
    finally:
        lam.delete_function(FunctionName="from-s3")


def test_concurrency_policy_and_event_config(lam, make_function):
    name = make_function(HELLO)
    assert (
        lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    )
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=3)
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 3
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 3}
    lam.delete_function_concurrency(FunctionName=name)
    assert (
        lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    )

    lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::b")  # fmt: skip
    with pytest.raises(ClientError) as info:
        lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                           Principal="s3.amazonaws.com")  # fmt: skip
    assert info.value.response["Error"]["Code"] == "ResourceConflictException"
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    statement = policy["Statement"][0]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::b"}}
    lam.remove_permission(FunctionName=name, StatementId="s3")
    with pytest.raises(ClientError) as info:
        lam.get_policy(FunctionName=name)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"

    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert got["MaximumRetryAttempts"] == 1


def test_invoke_types_and_limits(lam, make_function):
    name = make_function(HELLO)
    assert lam.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    big = json.dumps({"x": "a" * (6 * 1024 * 1024)}).encode()
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName=name, Payload=big)
    assert info.value.response["Error"]["Code"] == "RequestTooLargeException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=big[: 300 * 1024])
    assert info.value.response["Error"]["Code"] == "RequestTooLargeException"
    with pytest.raises(ClientError) as info:
        lam.invoke(FunctionName="no-such-fn", Payload=b"{}")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
