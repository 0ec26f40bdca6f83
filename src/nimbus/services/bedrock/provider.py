"""Amazon Bedrock control plane (botocore ``bedrock``, rest-json): the foundation-model
catalog and model invocation logging; guardrails come from the GuardrailOperations mixin.
"""

from __future__ import annotations

import json
from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.bedrock import catalog
from nimbus.services.bedrock.guardrail_ops import GuardrailOperations
from nimbus.storage import atomic_write

Req = dict[str, Any]
Out = dict[str, Any]

_LOGGING_FILE = "invocation-logging.json"


class BedrockProvider(GuardrailOperations, Provider):
    service = "bedrock"
    iam_prefix = "bedrock"
    access_denied_status = 403

    def __init__(self, env: ServiceEnv) -> None:
        super().__init__(env)
        self._logging_path = env.data_dir / _LOGGING_FILE
        #: the model invocation logging configuration (read by bedrock-runtime per invocation)
        self.logging_config: dict[str, Any] | None = None
        if self._logging_path.is_file():
            self.logging_config = json.loads(self._logging_path.read_text())

    def iam_resources(self, operation: str, req: Req, ctx: RequestContext) -> list[str]:
        return self.guardrail_iam_resources(req) or ["*"]

    # -- the catalog ------------------------------------------------------------------------------
    def list_foundation_models(self, req: Req, ctx: RequestContext) -> Out:
        provider = (req.get("byProvider") or "").lower()
        modality = req.get("byOutputModality")
        inference = req.get("byInferenceType")
        customization = req.get("byCustomizationType")
        found = [
            catalog.summary(m, ctx.region)
            for m in catalog.MODELS
            if (not provider or m.provider.lower() == provider)
            and (not modality or modality in m.output_modalities)
            and (not inference or inference in m.inference_types)
            and (not customization or customization in m.customizations)
        ]
        return {"modelSummaries": found}

    def get_foundation_model(self, req: Req, ctx: RequestContext) -> Out:
        identifier = req["modelIdentifier"]
        model = catalog.BY_ID.get(catalog.base_model_id(identifier))
        if model is None:
            raise AwsError(
                "ResourceNotFoundException",
                f"Could not resolve the foundation model from the provided model identifier "
                f"{identifier}. ListFoundationModels lists the models Nimbus serves.",
                404,
            )
        return {"modelDetails": catalog.summary(model, ctx.region)}

    # -- model invocation logging -----------------------------------------------------------------
    def put_model_invocation_logging_configuration(self, req: Req, ctx: RequestContext) -> Out:
        config = req["loggingConfig"]
        if not config.get("cloudWatchConfig") and not config.get("s3Config"):
            raise AwsError(
                "ValidationException",
                "loggingConfig needs a cloudWatchConfig or an s3Config destination.",
                400,
            )
        group = (config.get("cloudWatchConfig") or {}).get("logGroupName")
        if group:
            try:
                self.env.registry.get("logs").engine.get_group(group)
            except AwsError:
                raise AwsError(
                    "ValidationException",
                    f"Failed to validate permissions for log "
                    f"group: {group}: the log group does not exist. Create it first.",
                    400,
                ) from None
        atomic_write(self._logging_path, [json.dumps(config).encode()])
        self.logging_config = config
        return {}

    def get_model_invocation_logging_configuration(self, req: Req, ctx: RequestContext) -> Out:
        return {"loggingConfig": self.logging_config} if self.logging_config else {}

    def delete_model_invocation_logging_configuration(self, req: Req, ctx: RequestContext) -> Out:
        self._logging_path.unlink(missing_ok=True)
        self.logging_config = None
        return {}
