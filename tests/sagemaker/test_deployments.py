"""Blue/green updates under load, restarts, IAM on InvokeEndpoint, CloudFormation stacks."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from support import NimbusServer

from .conftest import WAIT, Deployer, error_of, scale_model


def _answer(rt: Any, name: str) -> float:
    reply = rt.invoke_endpoint(EndpointName=name, Body=b"[1, 1, 1]")
    return json.loads(reply["Body"].read())["outputs"]["y"][0][0]


def test_blue_green_update_under_load_fails_no_request(deploy: Deployer, aws: Any) -> None:
    name = deploy.onnx_endpoint(scale=1.0)
    green = deploy.config(("AllTraffic", deploy.model({"model.onnx": scale_model(5.0)}), 1.0))
    answers: list[float] = []
    failures: list[str] = []
    stop = threading.Event()

    def load() -> None:
        rt = aws("sagemaker-runtime")  # one client per thread: boto3 clients are not shared
        while not stop.is_set():
            try:
                answers.append(_answer(rt, name))
            except Exception as exc:
                failures.append(repr(exc))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        deploy.sm.update_endpoint(EndpointName=name, EndpointConfigName=green)
        assert deploy.sm.describe_endpoint(EndpointName=name)["EndpointStatus"] in (
            "Updating",
            "InService",
        )
        deploy.sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=WAIT)
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert set(answers) == {1.0, 5.0}
    assert answers[-1] == 5.0
    assert all(_answer(deploy.runtime, name) == 5.0 for _ in range(10))
    assert deploy.sm.describe_endpoint(EndpointName=name)["EndpointConfigName"] == green


def test_failed_update_rolls_back(deploy: Deployer) -> None:
    name = deploy.onnx_endpoint(scale=2.0)
    broken = deploy.config(("AllTraffic", deploy.model({"readme.txt": "no model"}), 1.0))
    deploy.sm.update_endpoint(EndpointName=name, EndpointConfigName=broken)
    deploy.sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=WAIT)
    endpoint = deploy.sm.describe_endpoint(EndpointName=name)
    assert endpoint["EndpointConfigName"] != broken
    assert "model.onnx" in endpoint["FailureReason"]
    assert _answer(deploy.runtime, name) == 2.0


def test_endpoints_come_back_after_restart(fresh_nimbus: NimbusServer) -> None:
    deploy = Deployer(fresh_nimbus.client)
    name = deploy.onnx_endpoint(scale=4.0)
    fresh_nimbus.restart()
    rt = fresh_nimbus.client("sagemaker-runtime")
    assert _answer(rt, name) == 4.0
    sm = fresh_nimbus.client("sagemaker")
    assert sm.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"


def _role_client(aws: Any, service: str, policy: dict[str, Any]) -> Any:
    iam = aws("iam")
    role = f"sm-caller-{uuid.uuid4().hex[:8]}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
            }
        ],
    }
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=json.dumps(policy))
    creds = aws("sts").assume_role(RoleArn=arn, RoleSessionName="caller")["Credentials"]
    return aws(
        service,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def test_invoke_endpoint_needs_permission(deploy: Deployer, aws: Any) -> None:
    name = deploy.onnx_endpoint(scale=2.0)
    arn = f"arn:aws:sagemaker:us-east-1:000000000000:endpoint/{name.lower()}"
    allowed = _role_client(
        aws,
        "sagemaker-runtime",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sagemaker:InvokeEndpoint", "Resource": arn}
            ],
        },
    )
    assert _answer(allowed, name) == 2.0
    denied = _role_client(
        aws,
        "sagemaker-runtime",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sagemaker:InvokeEndpoint",
                    "Resource": arn + "-other",
                }
            ],
        },
    )
    code, status, _ = error_of(denied.invoke_endpoint, EndpointName=name, Body=b"[1,1,1]")
    assert (code, status) == ("AccessDeniedException", 400)
    sm = _role_client(
        aws,
        "sagemaker",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sagemaker:DescribeEndpoint", "Resource": arn}
            ],
        },
    )
    assert sm.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
    assert error_of(sm.delete_endpoint, EndpointName=name)[0] == "AccessDeniedException"


STACK = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ModelDataUrl: {Type: String}
Resources:
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: arn:aws:iam::000000000000:role/sagemaker-execution
      PrimaryContainer: {Image: local/inference:1, ModelDataUrl: !Ref ModelDataUrl}
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - VariantName: AllTraffic
          ModelName: !GetAtt Model.ModelName
          InitialInstanceCount: 1
          InstanceType: ml.m5.large
          InitialVariantWeight: 1
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointConfigName: !GetAtt Config.EndpointConfigName
Outputs:
  EndpointName: {Value: !GetAtt Endpoint.EndpointName}
  EndpointArn: {Value: !Ref Endpoint}
"""


def test_cloudformation_stack(deploy: Deployer, aws: Any) -> None:
    cfn = aws("cloudformation")
    url = deploy.upload({"model.onnx": scale_model(7.0)})
    stack = f"sm-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(
        StackName=stack,
        TemplateBody=STACK,
        Parameters=[{"ParameterKey": "ModelDataUrl", "ParameterValue": url}],
    )
    cfn.get_waiter("stack_create_complete").wait(
        StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    }
    name = outputs["EndpointName"]
    assert outputs["EndpointArn"].endswith(f":endpoint/{name.lower()}")
    assert deploy.sm.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
    assert _answer(deploy.runtime, name) == 7.0
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(
        StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    assert error_of(deploy.sm.describe_endpoint, EndpointName=name)[0] == "ValidationException"


def test_model_timeout_is_a_model_error(tmp_path: Any) -> None:
    server = NimbusServer(tmp_path / "data", env={"NIMBUS_SAGEMAKER_MODEL_TIMEOUT": "1"})
    server.start()
    try:
        deploy = Deployer(server.client)
        source = (
            "import time\n\ndef model_fn(model_dir):\n    return None\n\n"
            "def transform_fn(model, body, content_type, accept):\n"
            "    time.sleep(float(body))\n    return b'done'\n"
        )
        name = deploy.endpoint(
            deploy.config(("AllTraffic", deploy.model({"code/inference.py": source}), 1.0))
        )
        assert deploy.runtime.invoke_endpoint(EndpointName=name, Body=b"0")["Body"].read() == (
            b"done"
        )
        code, status, response = error_of(
            deploy.runtime.invoke_endpoint, EndpointName=name, Body=b"3"
        )
        assert (code, status) == ("ModelError", 424)
        assert "timed out" in response["Error"]["Message"]
    finally:
        server.stop()
