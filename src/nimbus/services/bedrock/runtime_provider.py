"""Amazon Bedrock Runtime (botocore ``bedrock-runtime``, rest-json).

Minimal on the guardrails branch: ApplyGuardrail only, delegating to the ``bedrock`` provider's
``evaluate_guardrail``. The bedrock-rt branch's runtime provider replaces this file on merge.
"""

from __future__ import annotations

from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.services.base import Provider

Req = dict[str, Any]


class BedrockRuntimeProvider(Provider):
    service = "bedrock-runtime"
    iam_prefix = "bedrock"  # botocore signs runtime calls with the signing name "bedrock"

    def iam_resources(self, operation: str, req: Req, ctx: RequestContext) -> list[str]:
        return self.env.registry.get("bedrock").guardrail_iam_resources(req) or ["*"]

    def apply_guardrail(self, req: Req, ctx: RequestContext) -> dict[str, Any]:
        return self.env.registry.get("bedrock").evaluate_guardrail(
            req["guardrailIdentifier"],
            req["guardrailVersion"],
            req["source"],
            req["content"],
            req.get("outputScope") or "INTERVENTIONS",
        )
