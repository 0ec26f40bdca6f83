"""SageMaker test helpers: tiny ONNX models, model.tar.gz archives, endpoint factories."""

from __future__ import annotations

import contextlib
import io
import tarfile
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from onnx import TensorProto, helper

WAIT = {"Delay": 1, "MaxAttempts": 120}
ROLE = "arn:aws:iam::000000000000:role/sagemaker-execution"
BUCKET = "sm-test-models"


def scale_model(scale: float) -> bytes:
    """An ONNX model y = x * scale over float vectors of length 3."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])
    w = helper.make_tensor("w", TensorProto.FLOAT, [1], [scale])
    graph = helper.make_graph([helper.make_node("Mul", ["x", "w"], ["y"])], "scale", [x], [y], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def tar_gz(files: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        for name, data in files.items():
            raw = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return buf.getvalue()


class Deployer:
    """Uploads archives and creates models, configs and endpoints; deletes them afterwards."""

    def __init__(self, aws: Callable[..., Any]) -> None:
        self.s3 = aws("s3")
        self.sm = aws("sagemaker")
        self.runtime = aws("sagemaker-runtime")
        with contextlib.suppress(Exception):
            self.s3.create_bucket(Bucket=BUCKET)
        self.endpoints: list[str] = []
        self.configs: list[str] = []
        self.models: list[str] = []

    def upload(self, files: dict[str, bytes | str]) -> str:
        key = f"{uuid.uuid4().hex}/model.tar.gz"
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=tar_gz(files))
        return f"s3://{BUCKET}/{key}"

    def model(
        self,
        files: dict[str, bytes | str] | None = None,
        url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> str:
        name = f"model-{uuid.uuid4().hex[:10]}"
        container: dict[str, Any] = {
            "Image": "local/inference:1",
            "ModelDataUrl": url or self.upload(files or {}),
        }
        if env:
            container["Environment"] = env
        self.sm.create_model(ModelName=name, PrimaryContainer=container, ExecutionRoleArn=ROLE)
        self.models.append(name)
        return name

    def config(self, *variants: tuple[str, str, float]) -> str:
        name = f"config-{uuid.uuid4().hex[:10]}"
        self.sm.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": v,
                    "ModelName": m,
                    "InitialVariantWeight": w,
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
                for v, m, w in variants
            ],
        )
        self.configs.append(name)
        return name

    def endpoint(self, config: str, wait: bool = True) -> str:
        name = f"endpoint-{uuid.uuid4().hex[:10]}"
        self.sm.create_endpoint(EndpointName=name, EndpointConfigName=config)
        self.endpoints.append(name)
        if wait:
            self.sm.get_waiter("endpoint_in_service").wait(EndpointName=name, WaiterConfig=WAIT)
        return name

    def onnx_endpoint(self, scale: float = 2.0) -> str:
        model = self.model({"model.onnx": scale_model(scale)})
        return self.endpoint(self.config(("AllTraffic", model, 1.0)))

    def cleanup(self) -> None:
        for name in self.endpoints:
            with contextlib.suppress(Exception):
                self.sm.delete_endpoint(EndpointName=name)
        for name in self.configs:
            with contextlib.suppress(Exception):
                self.sm.delete_endpoint_config(EndpointConfigName=name)
        for name in self.models:
            with contextlib.suppress(Exception):
                self.sm.delete_model(ModelName=name)


@pytest.fixture
def deploy(aws: Callable[..., Any]) -> Iterator[Deployer]:
    deployer = Deployer(aws)
    yield deployer
    deployer.cleanup()


def error_of(call: Callable[..., Any], **kwargs: Any) -> tuple[str, int, dict[str, Any]]:
    """(code, HTTP status, the parsed error response) of a call that must fail."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response
