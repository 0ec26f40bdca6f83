"""Amazon SageMaker (botocore model ``sagemaker`` 2017-07-24): training jobs so far.

Hosting (models, endpoint configs, endpoints) lands in this class too; it inherits the
training-job operations from :class:`TrainingOperations`.
"""

from __future__ import annotations

from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.sagemaker.training_ops import TrainingOperations


class SageMakerProvider(Provider, TrainingOperations):
    service = "sagemaker"
    iam_prefix = "sagemaker"

    def __init__(self, env: ServiceEnv) -> None:
        super().__init__(env)
        self.start_training()  # a job the last server left running is marked Failed now

    def close(self) -> None:
        self.close_training()

    def iam_resources(self, operation: str, req: dict[str, Any], ctx: RequestContext) -> list[str]:
        return self.training_iam_resources(operation, req) or ["*"]
