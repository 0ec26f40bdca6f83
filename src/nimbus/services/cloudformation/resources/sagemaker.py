"""AWS::SageMaker::Model, EndpointConfig and Endpoint through the SageMaker provider.

Ref gives each resource's ARN and GetAtt its name, as CloudFormation documents. An endpoint is
created only when it is InService; a Failed endpoint fails the stack with its FailureReason.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.cloudformation.resources.base import (
    Applied,
    Deployment,
    Handler,
    Replace,
    tags_list,
)

_ENDPOINT_WAIT_S = 900.0


def _name_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]  # the lower-cased name; SageMaker names are case-insensitive


def _variants(props: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for spec in props.get("ProductionVariants") or []:
        spec = dict(spec)
        # Why: values from a Ref to a parameter are strings; the API wants numbers.
        if spec.get("InitialInstanceCount") is not None:
            spec["InitialInstanceCount"] = int(spec["InitialInstanceCount"])
        if spec.get("InitialVariantWeight") is not None:
            spec["InitialVariantWeight"] = float(spec["InitialVariantWeight"])
        if spec.get("ServerlessConfig"):
            spec["ServerlessConfig"] = {k: int(v) for k, v in spec["ServerlessConfig"].items()}
        out.append(spec)
    return out


class Model(Handler):
    type = "AWS::SageMaker::Model"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        name = props.get("ModelName") or d.generated_name(logical_id, 63)
        req = {
            k: props.get(k)
            for k in (
                "PrimaryContainer",
                "Containers",
                "ExecutionRoleArn",
                "EnableNetworkIsolation",
                "VpcConfig",
                "InferenceExecutionConfig",
            )
        }
        out = await d.call(
            "sagemaker",
            "create_model",
            {"ModelName": name, **req, "Tags": tags_list(props) or None},
        )
        return Applied(out["ModelArn"], {"ModelName": name})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call("sagemaker", "delete_model", {"ModelName": _name_of(physical_id)})


class EndpointConfig(Handler):
    type = "AWS::SageMaker::EndpointConfig"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        name = props.get("EndpointConfigName") or d.generated_name(logical_id, 63)
        req = {
            k: props.get(k)
            for k in ("DataCaptureConfig", "KmsKeyId", "AsyncInferenceConfig", "ExecutionRoleArn")
        }
        out = await d.call(
            "sagemaker",
            "create_endpoint_config",
            {
                "EndpointConfigName": name,
                "ProductionVariants": _variants(props),
                **req,
                "Tags": tags_list(props) or None,
            },
        )
        return Applied(out["EndpointConfigArn"], {"EndpointConfigName": name})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call(
            "sagemaker", "delete_endpoint_config", {"EndpointConfigName": _name_of(physical_id)}
        )


class Endpoint(Handler):
    type = "AWS::SageMaker::Endpoint"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        name = props.get("EndpointName") or d.generated_name(logical_id, 63)
        out = await d.call(
            "sagemaker",
            "create_endpoint",
            {
                "EndpointName": name,
                "EndpointConfigName": _name_of(props["EndpointConfigName"]),
                "Tags": tags_list(props) or None,
            },
        )
        await self._settle(d, name)
        return Applied(out["EndpointArn"], {"EndpointName": name})

    async def _settle(self, d: Deployment, name: str) -> None:
        """Wait until InService; a failure (or a rolled-back update) fails the resource."""
        async with asyncio.timeout(_ENDPOINT_WAIT_S):
            while True:
                out = await d.call("sagemaker", "describe_endpoint", {"EndpointName": name})
                status = out["EndpointStatus"]
                if status == "Failed" or (status == "InService" and out.get("FailureReason")):
                    raise AwsError("ValidationException", out.get("FailureReason", status), 400)
                if status == "InService":
                    return
                await asyncio.sleep(0.05)

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        if props.get("EndpointName") != old.get("EndpointName"):
            raise Replace()
        name = props.get("EndpointName") or _name_of(physical_id)
        await d.call(
            "sagemaker",
            "update_endpoint",
            {"EndpointName": name, "EndpointConfigName": _name_of(props["EndpointConfigName"])},
        )
        await self._settle(d, name)
        return Applied(physical_id, {"EndpointName": name})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call("sagemaker", "delete_endpoint", {"EndpointName": _name_of(physical_id)})


HANDLERS: list[Handler] = [Model(), EndpointConfig(), Endpoint()]
