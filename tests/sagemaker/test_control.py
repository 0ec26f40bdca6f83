"""boto3 against a live Nimbus: SageMaker models, endpoint configs and endpoints."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from botocore.exceptions import WaiterError

from .conftest import ROLE, WAIT, Deployer, error_of, scale_model


def test_lifecycle_with_waiters(deploy: Deployer) -> None:
    sm = deploy.sm
    model = deploy.model({"model.onnx": scale_model(2.0)})
    described = sm.describe_model(ModelName=model)
    assert described["ModelArn"].endswith(f":model/{model}")
    assert described["PrimaryContainer"]["Image"] == "local/inference:1"
    config = deploy.config(("AllTraffic", model, 1.0))
    assert (
        sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0]["ModelName"]
        == model
    )
    name = deploy.endpoint(config, wait=False)
    assert sm.describe_endpoint(EndpointName=name)["EndpointStatus"] in ("Creating", "InService")
    sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=WAIT)
    endpoint = sm.describe_endpoint(EndpointName=name)
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] == config
    variant = endpoint["ProductionVariants"][0]
    assert variant["VariantName"] == "AllTraffic"
    assert variant["CurrentWeight"] == 1.0 and variant["CurrentInstanceCount"] == 1
    assert variant["DeployedImages"][0]["SpecifiedImage"] == "local/inference:1"
    listed = sm.list_endpoints(NameContains=name)["Endpoints"]
    assert [e["EndpointName"] for e in listed] == [name]
    assert model in [m["ModelName"] for m in sm.list_models(MaxResults=100)["Models"]]
    assert config in [
        c["EndpointConfigName"]
        for c in sm.list_endpoint_configs(NameContains=config)["EndpointConfigs"]
    ]
    sm.delete_endpoint(EndpointName=name)
    sm.get_waiter("endpoint_deleted").wait(EndpointName=name, WaiterConfig=WAIT)
    sm.delete_endpoint_config(EndpointConfigName=config)
    sm.delete_model(ModelName=model)
    code, status, response = error_of(sm.describe_model, ModelName=model)
    assert (code, status) == ("ValidationException", 400)
    assert "Could not find model" in response["Error"]["Message"]


def test_errors_are_validation_exceptions(deploy: Deployer) -> None:
    sm = deploy.sm
    model = deploy.model({"model.onnx": scale_model(1.0)})
    code, _, response = error_of(
        sm.create_model, ModelName=model, PrimaryContainer={"Image": "x"}, ExecutionRoleArn=ROLE
    )
    assert code == "ValidationException" and "already existing" in response["Error"]["Message"]
    code, _, response = error_of(
        sm.create_endpoint_config,
        EndpointConfigName="cfg-missing-model",
        ProductionVariants=[
            {
                "VariantName": "a",
                "ModelName": "no-such-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    assert code == "ValidationException"
    assert 'Could not find model "arn:aws:sagemaker:' in response["Error"]["Message"]
    code, _, response = error_of(
        sm.create_endpoint, EndpointName="e-x", EndpointConfigName="no-such-config"
    )
    assert (
        code == "ValidationException" and "endpoint configuration" in response["Error"]["Message"]
    )
    code, _, response = error_of(sm.describe_endpoint, EndpointName="no-such-endpoint")
    assert (code, response["Error"]["Message"]) == (
        "ValidationException",
        'Could not find endpoint "no-such-endpoint".',
    )
    assert error_of(sm.delete_endpoint, EndpointName="no-such-endpoint")[0] == (
        "ValidationException"
    )


@pytest.mark.parametrize("case", ["missing-archive", "load-error"])
def test_failed_endpoint_has_a_reason(deploy: Deployer, case: str) -> None:
    if case == "missing-archive":
        model = deploy.model(url="s3://sm-test-models/nothing/here/model.tar.gz")
    else:
        model = deploy.model(
            {"code/inference.py": "def model_fn(d):\n    raise ValueError('weights are corrupt')\n"}
        )
    name = deploy.endpoint(deploy.config(("AllTraffic", model, 1.0)), wait=False)
    with pytest.raises(WaiterError):
        deploy.sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=WAIT)
    endpoint = deploy.sm.describe_endpoint(EndpointName=name)
    assert endpoint["EndpointStatus"] == "Failed"
    expected = "nothing/here/model.tar.gz" if case == "missing-archive" else "weights are corrupt"
    assert expected in endpoint["FailureReason"]
    code, _, _ = error_of(deploy.runtime.invoke_endpoint, EndpointName=name, Body=b"[1,2,3]")
    assert code == "ValidationError"


def test_delete_while_creating_leaves_no_model_server(deploy: Deployer) -> None:
    slow = "import time\n\ndef model_fn(model_dir):\n    time.sleep(3)\n    return None\n"
    marker = f"MARKER={uuid.uuid4().hex}"
    model = deploy.model({"code/inference.py": slow}, env={"MARKER": marker[7:]})
    name = deploy.endpoint(deploy.config(("AllTraffic", model, 1.0)), wait=False)

    def model_servers() -> list[str]:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    env = f.read()
            except OSError:
                continue
            if marker.encode() in env.split(b"\0"):
                found.append(pid)
        return found

    deadline = time.monotonic() + 2.5
    while not model_servers() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert model_servers(), "the model server should be loading"
    deploy.sm.delete_endpoint(EndpointName=name)
    deploy.sm.get_waiter("endpoint_deleted").wait(EndpointName=name, WaiterConfig=WAIT)
    time.sleep(3.0)

    assert model_servers() == []
