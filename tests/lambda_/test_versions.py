"""boto3 against a live Nimbus: PublishVersion, qualified invokes, aliases and weighted routing."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import TRUST, invoke, zip_code

SOURCE = """
import os
def handler(event, context):
    return {{"tag": "{tag}", "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
            "arn": context.invoked_function_arn}}
"""


def code(tag: str) -> bytes:
    return zip_code(SOURCE.format(tag=tag))


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def test_publish_snapshots_code_and_configuration(lam: Any, make_function: Any) -> None:
    name = make_function(SOURCE.format(tag="one"), Description="first")
    v1 = lam.publish_version(FunctionName=name)
    assert v1["Version"] == "1" and v1["FunctionArn"].endswith(f":function:{name}:1")
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert lam.publish_version(FunctionName=name)["Version"] == "1"  # nothing changed

    lam.update_function_code(FunctionName=name, ZipFile=code("two"))
    lam.update_function_configuration(FunctionName=name, Timeout=7)
    v2 = lam.publish_version(FunctionName=name, Description="second")
    assert (v2["Version"], v2["Description"], v2["Timeout"]) == ("2", "second", 7)
    assert v2["CodeSha256"] != v1["CodeSha256"]

    reply, body = invoke(lam, name, Qualifier="1")
    assert body["tag"] == "one" and body["version"] == "1" and reply["ExecutedVersion"] == "1"
    assert body["arn"].endswith(f":{name}:1")
    _, body = invoke(lam, f"{name}:2")
    assert (body["tag"], body["version"]) == ("two", "2")
    reply, body = invoke(lam, name)
    assert body["version"] == "$LATEST" and reply["ExecutedVersion"] == "$LATEST"

    got = lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]
    assert (got["Version"], got["Timeout"], got["CodeSha256"]) == ("1", 3, v1["CodeSha256"])
    arn = lam.get_function_configuration(FunctionName=name)["FunctionArn"]
    assert lam.get_function_configuration(FunctionName=f"{arn}:2")["Timeout"] == 7

    listed = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in listed] == ["$LATEST", "1", "2"]
    page = lam.list_versions_by_function(FunctionName=name, MaxItems=2)
    rest = lam.list_versions_by_function(FunctionName=name, Marker=page["NextMarker"])
    assert [v["Version"] for v in page["Versions"] + rest["Versions"]] == ["$LATEST", "1", "2"]
    assert "NextMarker" not in rest
    every = [
        f["Version"]
        for page in lam.get_paginator("list_functions").paginate(FunctionVersion="ALL")
        for f in page["Functions"]
        if f["FunctionName"] == name
    ]
    assert every == ["$LATEST", "1", "2"]
    with pytest.raises(ClientError) as exc:
        lam.invoke(FunctionName=f"{name}:1", Qualifier="2")
    assert error_code(exc) == "InvalidParameterValueException"


def test_publish_checks_and_version_errors(lam: Any, make_function: Any) -> None:
    name = make_function(SOURCE.format(tag="one"))
    latest = lam.get_function_configuration(FunctionName=name)
    with pytest.raises(ClientError) as exc:
        lam.publish_version(FunctionName=name, CodeSha256="bm90IHRoZSBoYXNo")
    assert error_code(exc) == "InvalidParameterValueException"
    with pytest.raises(ClientError) as exc:
        lam.publish_version(FunctionName=name, RevisionId="not-the-revision")
    assert error_code(exc) == "PreconditionFailedException"
    ok = lam.publish_version(FunctionName=name, CodeSha256=latest["CodeSha256"])
    assert ok["Version"] == "1"

    for qualifier in ("9", "nosuchalias"):
        with pytest.raises(ClientError) as exc:
            lam.invoke(FunctionName=name, Qualifier=qualifier)
        assert error_code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        lam.get_function(FunctionName=name, Qualifier="9")
    assert error_code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        lam.delete_function(FunctionName=name, Qualifier="$LATEST")
    assert error_code(exc) == "InvalidParameterValueException"

    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    with pytest.raises(ClientError) as exc:
        lam.delete_function(FunctionName=name, Qualifier="1")
    assert error_code(exc) == "ResourceConflictException"
    lam.delete_alias(FunctionName=name, Name="live")
    lam.delete_function(FunctionName=name, Qualifier="1")
    with pytest.raises(ClientError) as exc:
        lam.get_function(FunctionName=name, Qualifier="1")
    assert error_code(exc) == "ResourceNotFoundException"
    lam.update_function_code(FunctionName=name, ZipFile=code("two"))
    assert lam.publish_version(FunctionName=name)["Version"] == "2"  # numbers are not reused


def test_aliases_and_weighted_routing(lam: Any, make_function: Any) -> None:
    name = make_function(SOURCE.format(tag="one"))
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=code("two"))
    lam.publish_version(FunctionName=name)

    created = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert created["AliasArn"].endswith(f":function:{name}:live")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    with pytest.raises(ClientError) as exc:
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert error_code(exc) == "ResourceConflictException"
    with pytest.raises(ClientError) as exc:
        lam.create_alias(FunctionName=name, Name="other", FunctionVersion="42")
    assert error_code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        lam.get_alias(FunctionName=name, Name="missing")
    assert error_code(exc) == "ResourceNotFoundException"

    reply, body = invoke(lam, name, Qualifier="live")
    assert body["tag"] == "one" and reply["ExecutedVersion"] == "1"
    assert body["arn"].endswith(f":{name}:live")
    assert lam.get_function(FunctionName=f"{name}:live")["Configuration"]["Version"] == "1"

    with pytest.raises(ClientError) as exc:
        lam.update_alias(FunctionName=name, Name="live", RevisionId="stale")
    assert error_code(exc) == "PreconditionFailedException"
    updated = lam.update_alias(
        FunctionName=name,
        Name="live",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    assert updated["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    assert lam.get_alias(FunctionName=name, Name="live")["RevisionId"] == updated["RevisionId"]
    seen = {"1": 0, "2": 0}
    for _ in range(200):
        reply, body = invoke(lam, name, Qualifier="live")
        seen[reply["ExecutedVersion"]] += 1
        assert body["version"] == reply["ExecutedVersion"]
    assert seen["1"] > 40 and seen["2"] > 40, seen

    with pytest.raises(ClientError) as exc:
        lam.update_alias(
            FunctionName=name, Name="live", RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}}
        )
    assert error_code(exc) == "InvalidParameterValueException"
    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2", RoutingConfig={})
    assert invoke(lam, name, Qualifier="live")[0]["ExecutedVersion"] == "2"
    lam.create_alias(FunctionName=name, Name="dev", FunctionVersion="$LATEST")
    aliases = lam.list_aliases(FunctionName=name)["Aliases"]
    assert [(a["Name"], a["FunctionVersion"]) for a in aliases] == [
        ("dev", "$LATEST"),
        ("live", "2"),
    ]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name, FunctionVersion="2")[
        "Aliases"]] == ["live"]  # fmt: skip

    lam.delete_function(FunctionName=name)  # takes its versions and aliases along
    with pytest.raises(ClientError) as exc:
        lam.get_alias(FunctionName=name, Name="live")
    assert error_code(exc) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        lam.list_versions_by_function(FunctionName=name)
    assert error_code(exc) == "ResourceNotFoundException"


def test_local_folder_version_is_frozen(registry: Any, ctx: Any, tmp_path: Path) -> None:
    """A version of a function running a local folder keeps the code it was published with."""
    iam = registry.get("iam")
    role = iam.create_role(
        {"RoleName": "frozen-fn", "AssumeRolePolicyDocument": json.dumps(TRUST)}, ctx
    )["Role"]["Arn"]
    folder = tmp_path / "src"
    folder.mkdir()
    handler = folder / "app.py"
    handler.write_text("def handler(event, context):\n    return 'one'\n")
    lam = registry.get("lambda")

    async def scenario() -> list[bytes]:
        await lam.create_function_from_folder("frozen-fn", folder, handler="app.handler", role=role)
        published = lam.publish_version({"FunctionName": "frozen-fn"}, ctx)
        handler.write_text("def handler(event, context):\n    return 'two'\n")
        later = time.time() + 5
        os.utime(handler, (later, later))
        out = []
        for qualifier in ("1", None):
            result = await lam.invoke_function("frozen-fn", b"{}", qualifier=qualifier)
            out.append(result.payload)
        second = lam.publish_version({"FunctionName": "frozen-fn"}, ctx)
        out.append(f"{published['Version']},{second['Version']}".encode())
        out.append((await lam.invoke_function("frozen-fn:2", b"{}")).payload)
        lam.invoker.stop()
        await lam.engine.runtime.aclose()
        return out

    assert asyncio.run(scenario()) == [b'"one"', b'"two"', b"1,2", b'"two"']


def test_iam_on_qualified_invokes_uses_the_qualified_arn(
    lam: Any, make_function: Any, aws: Any
) -> None:
    from .conftest import make_role

    target = make_function("def handler(event, context):\n    return 'hi'\n")
    lam.publish_version(FunctionName=target)
    lam.create_alias(FunctionName=target, Name="live", FunctionVersion="1")
    arn = lam.get_function_configuration(FunctionName=target)["FunctionArn"]
    role = make_role(aws("iam"), {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": arn}]})  # fmt: skip
    caller = make_function(
        "import boto3\nfrom botocore.exceptions import ClientError\n"
        "def handler(event, context):\n"
        "    out = {}\n"
        "    for q in (None, 'live'):\n"
        "        args = {'FunctionName': event['target']}\n"
        "        if q:\n"
        "            args['Qualifier'] = q\n"
        "        try:\n"
        "            boto3.client('lambda').invoke(**args)\n"
        "            out[q or 'unqualified'] = 'ok'\n"
        "        except ClientError as err:\n"
        "            out[q or 'unqualified'] = err.response['Error']['Code']\n"
        "    return out\n",
        Role=role,
        Timeout=30,
    )
    _reply, body = invoke(lam, caller, {"target": target})
    assert body == {"unqualified": "ok", "live": "AccessDeniedException"}
