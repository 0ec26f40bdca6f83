"""Lazily built providers, one per service, shared by the wire front and by each other."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from nimbus.services.base import Provider, ServiceEnv

# botocore service name -> "module:Class". Adding a service means adding a line here.
PROVIDERS: dict[str, str] = {
    "s3": "nimbus.services.s3.provider:S3Provider",
    "dynamodb": "nimbus.services.dynamodb.provider:DynamoDBProvider",
    "iam": "nimbus.services.iam.provider:IamProvider",
    "sts": "nimbus.services.iam.sts_provider:StsProvider",
    "logs": "nimbus.services.logs.provider:LogsProvider",
    "cloudwatch": "nimbus.services.cloudwatch.provider:CloudWatchProvider",
    "cloudformation": "nimbus.services.cloudformation.provider:CloudFormationProvider",
    "apigatewayv2": "nimbus.services.apigatewayv2.provider:ApiGatewayV2Provider",
    "apigatewaymanagementapi": (
        "nimbus.services.apigatewaymanagementapi.provider:ApiGatewayManagementApiProvider"
    ),
    "lambda": "nimbus.services.lambda_.provider:LambdaProvider",
    "events": "nimbus.services.events.provider:EventsProvider",
    "sagemaker": "nimbus.services.sagemaker.provider:SageMakerProvider",
    "sagemaker-runtime": "nimbus.services.sagemaker.runtime_provider:SageMakerRuntimeProvider",
    "bedrock": "nimbus.services.bedrock.provider:BedrockProvider",
    "bedrock-runtime": "nimbus.services.bedrock.runtime_provider:BedrockRuntimeProvider",
    "bedrock-agent": "nimbus.services.bedrock_agent.provider:BedrockAgentProvider",
}


class ServiceRegistry:
    def __init__(self, data_dir: Path, region: str, account_id: str, base_url: str) -> None:
        self.data_dir = data_dir
        self.region = region
        self.account_id = account_id
        self.base_url = base_url
        self._providers: dict[str, Provider] = {}

    def __contains__(self, service: str) -> bool:
        return service in PROVIDERS

    def get(self, service: str) -> Any:
        provider = self._providers.get(service)
        if provider is None:
            module_name, _, class_name = PROVIDERS[service].partition(":")
            cls = getattr(importlib.import_module(module_name), class_name)
            env = ServiceEnv(
                data_dir=self.data_dir / service,
                region=self.region,
                account_id=self.account_id,
                base_url=self.base_url,
                registry=self,
            )
            env.data_dir.mkdir(parents=True, exist_ok=True)
            provider = cls(env)
            self._providers[service] = provider
        return provider

    def close(self) -> None:
        for provider in self._providers.values():
            provider.close()
        self._providers.clear()
