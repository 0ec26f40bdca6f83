"""Amazon SageMaker's control plane (botocore ``sagemaker``, json protocol): a thin delegate.

Models and endpoint configs live in :mod:`control`, endpoints in :mod:`endpoints`, the running
models in :mod:`hosting`; training jobs come from :class:`TrainingOperations`. This class only
maps operations onto them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.sagemaker.control import Control
from nimbus.services.sagemaker.endpoints import Endpoints
from nimbus.services.sagemaker.hosting import Hosting, InvokeResult
from nimbus.services.sagemaker.store import SageMakerStore
from nimbus.services.sagemaker.training_ops import TrainingOperations

Req = dict[str, Any]
Out = dict[str, Any]
# The resource an operation acts on: (request member, ARN resource type).
_RESOURCES = {
    "Model": ("ModelName", "model"),
    "EndpointConfig": ("EndpointConfigName", "endpoint-config"),
    "Endpoint": ("EndpointName", "endpoint"),
}


class SageMakerProvider(Provider, TrainingOperations):
    service = "sagemaker"
    iam_prefix = "sagemaker"

    def __init__(self, env: ServiceEnv) -> None:
        super().__init__(env)
        self.store = SageMakerStore(env.data_dir)
        self.control = Control(self.store, env.region, env.account_id)
        self.hosting = Hosting(env.registry, env.data_dir, env.region, env.account_id)
        self.endpoints = Endpoints(self.control, self.hosting)
        self._resumed = False
        self.ensure_started()
        self.start_training()  # a job the last server left running is marked Failed now

    def ensure_started(self) -> None:
        """Endpoints come back after a restart once an event loop runs (providers are lazy)."""
        if self._resumed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._resumed = True
        self.endpoints.resume()

    def close(self) -> None:
        self.close_training()
        self.endpoints.close()
        self.hosting.close()
        self.store.close()

    def iam_resources(self, operation: str, req: Req, ctx: RequestContext) -> list[str]:
        training = self.training_iam_resources(operation, req)
        if training:
            return training
        for suffix, (member, kind) in _RESOURCES.items():
            if operation.endswith((suffix, suffix + "s")) and req.get(member):
                return [self.control.arn(kind, req[member])]
        if operation == "UpdateEndpointWeightsAndCapacities" and req.get("EndpointName"):
            return [self.control.arn("endpoint", req["EndpointName"])]
        return ["*"]

    # -- models and endpoint configs ----------------------------------------------------------
    def create_model(self, req: Req, ctx: RequestContext) -> Out:
        return self.control.create_model(req)

    def describe_model(self, req: Req, ctx: RequestContext) -> Out:
        return self.control.describe_model(req)

    def delete_model(self, req: Req, ctx: RequestContext) -> Out:
        return self.control.delete_model(req)

    def list_models(self, req: Req, ctx: RequestContext) -> Out:
        return self.control.list_models(req)

    def create_endpoint_config(self, req: Req, ctx: RequestContext) -> Out:
        return self.control.create_endpoint_config(req)

    def describe_endpoint_config(self, req: Req, ctx: RequestContext) -> Out:
        return self.control.describe_endpoint_config(req)

    def delete_endpoint_config(self, req: Req, ctx: RequestContext) -> Out:
        return self.control.delete_endpoint_config(req)

    def list_endpoint_configs(self, req: Req, ctx: RequestContext) -> Out:
        return self.control.list_endpoint_configs(req)

    # -- endpoints ----------------------------------------------------------------------------
    def create_endpoint(self, req: Req, ctx: RequestContext) -> Out:
        self.ensure_started()
        return self.endpoints.create_endpoint(req)

    def describe_endpoint(self, req: Req, ctx: RequestContext) -> Out:
        self.ensure_started()
        return self.endpoints.describe_endpoint(req)

    def list_endpoints(self, req: Req, ctx: RequestContext) -> Out:
        return self.endpoints.list_endpoints(req)

    def delete_endpoint(self, req: Req, ctx: RequestContext) -> Out:
        self.ensure_started()
        return self.endpoints.delete_endpoint(req)

    def update_endpoint(self, req: Req, ctx: RequestContext) -> Out:
        self.ensure_started()
        return self.endpoints.update_endpoint(req)

    def update_endpoint_weights_and_capacities(self, req: Req, ctx: RequestContext) -> Out:
        return self.endpoints.update_endpoint_weights_and_capacities(req)

    # -- in-process data plane ----------------------------------------------------------------
    async def invoke_endpoint_direct(
        self,
        name: str,
        body: bytes,
        content_type: str = "",
        accept: str = "",
        target_variant: str | None = None,
        custom_attributes: str | None = None,
    ) -> InvokeResult:
        """InvokeEndpoint without HTTP, for other services (raises AwsError like the wire)."""
        self.ensure_started()
        return await self.hosting.invoke(
            name, body, content_type, accept, target_variant, custom_attributes
        )
