"""SAM AutoPublishAlias, a local-folder layer and requirements.txt through CloudFormation."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

WAIT = {"Delay": 0.2, "MaxAttempts": 600}  # generous for a loaded 2-core machine
CAPS = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
      CompatibleRuntimes: [python3.11]
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.11
      AutoPublishAlias: live
      Layers: [!Ref Shared]
  SharePermission:
    Type: AWS::Lambda::LayerVersionPermission
    Properties:
      Action: lambda:GetLayerVersion
      LayerVersionArn: !Ref Shared
      Principal: "*"
Outputs:
  FunctionName:
    Value: !Ref Fn
  LayerArn:
    Value: !Ref Shared
"""
HANDLER = """
import os, helper, tinypkg
def handler(event, context):
    return {{"tag": "{tag}", "helper": helper.WHO, "dep": tinypkg.VALUE,
            "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"]}}
"""


def _wheel(folder: Path) -> Path:
    dist = "tinypkg-1.0.dist-info"
    files = {
        "tinypkg/__init__.py": "VALUE = 'dep'\n",
        f"{dist}/METADATA": "Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{dist}/RECORD"] = "".join(f"{n},,\n" for n in files) + f"{dist}/RECORD,,\n"
    path = folder / "tinypkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


def _outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"].endswith("_COMPLETE"), stack
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _invoke(lam: Any, name: str, qualifier: str) -> tuple[str, dict[str, Any]]:
    reply = lam.invoke(FunctionName=name, Qualifier=qualifier)
    return reply["ExecutedVersion"], json.loads(reply["Payload"].read())


def test_auto_publish_alias_and_layer(aws: Any, tmp_path: Path) -> None:
    (tmp_path / "layer" / "python").mkdir(parents=True)
    (tmp_path / "layer" / "python" / "helper.py").write_text("WHO = 'layer'\n")
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text(HANDLER.format(tag="one"))
    (src / "requirements.txt").write_text(f"{_wheel(tmp_path)}\n")
    cfn, lam = aws("cloudformation"), aws("lambda")
    tags = [{"Key": "nimbus:template-dir", "Value": str(tmp_path)}]
    cfn.create_stack(StackName="samver", TemplateBody=TEMPLATE, Tags=tags, Capabilities=CAPS)
    cfn.get_waiter("stack_create_complete").wait(StackName="samver", WaiterConfig=WAIT)
    out = _outputs(cfn, "samver")
    name = out["FunctionName"]
    assert out["LayerArn"].endswith(":1")
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    version, body = _invoke(lam, name, "live")
    assert version == "1" and body == {"tag": "one", "helper": "layer", "dep": "dep",
                                       "version": "1"}  # fmt: skip

    # An edited handler: $LATEST runs it at once, the alias still runs version 1 ...
    (src / "app.py").write_text(HANDLER.format(tag="two"))
    assert _invoke(lam, name, "$LATEST")[1]["tag"] == "two"
    assert _invoke(lam, name, "live")[1]["tag"] == "one"
    # ... until a redeploy publishes version 2 and moves the alias.
    cfn.update_stack(StackName="samver", TemplateBody=TEMPLATE, Tags=tags, Capabilities=CAPS)
    cfn.get_waiter("stack_update_complete").wait(StackName="samver", WaiterConfig=WAIT)
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    assert _invoke(lam, name, "live") == ("2", {"tag": "two", "helper": "layer", "dep": "dep",
                                                "version": "2"})  # fmt: skip

    cfn.delete_stack(StackName="samver")
    cfn.get_waiter("stack_delete_complete").wait(StackName="samver", WaiterConfig=WAIT)
    assert name not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    layer_name = out["LayerArn"].split(":")[6]
    # SAM gives layer versions DeletionPolicy Retain (RetentionPolicy's default), as on AWS.
    kept = lam.list_layer_versions(LayerName=layer_name)["LayerVersions"]
    assert [v["Version"] for v in kept] == [1]
