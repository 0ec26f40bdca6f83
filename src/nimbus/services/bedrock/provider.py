"""Amazon Bedrock's control plane (botocore ``bedrock``, rest-json).

Minimal on the guardrails branch: only the guardrail operations. The bedrock-rt branch's
provider (foundation models, invocation logging) replaces this file when both are merged.
"""

from __future__ import annotations

from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.services.base import Provider
from nimbus.services.bedrock.guardrail_ops import GuardrailOperations


class BedrockProvider(GuardrailOperations, Provider):
    service = "bedrock"
    iam_prefix = "bedrock"

    def iam_resources(self, operation: str, req: dict[str, Any], ctx: RequestContext) -> list[str]:
        return self.guardrail_iam_resources(req) or ["*"]
