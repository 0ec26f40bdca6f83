"""Agents for Amazon Bedrock (botocore ``bedrock-agent``, rest-json): prompt management.

``render_prompt`` is what bedrock-runtime's Converse calls when its modelId is a prompt ARN.
"""

from __future__ import annotations

from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.bedrock_agent.prompts import Prompts

Req = dict[str, Any]
Out = dict[str, Any]


class BedrockAgentProvider(Provider):
    service = "bedrock-agent"
    iam_prefix = "bedrock"  # botocore signs bedrock-agent calls with the signing name "bedrock"

    def __init__(self, env: ServiceEnv) -> None:
        super().__init__(env)
        self.prompts = Prompts(env.data_dir, env.region, env.account_id)

    def close(self) -> None:
        self.prompts.close()

    def iam_resources(self, operation: str, req: Req, ctx: RequestContext) -> list[str]:
        identifier = req.get("promptIdentifier")
        if not identifier:
            return ["*"]
        pid, version = self.prompts.parse(identifier)
        return [self.prompts.arn(pid, version or "DRAFT")]

    def create_prompt(self, req: Req, ctx: RequestContext) -> Out:
        ctx.status = 201
        return self.prompts.create(req)

    def get_prompt(self, req: Req, ctx: RequestContext) -> Out:
        return self.prompts.get(req)

    def list_prompts(self, req: Req, ctx: RequestContext) -> Out:
        return self.prompts.list(req)

    def update_prompt(self, req: Req, ctx: RequestContext) -> Out:
        return self.prompts.update(req)

    def delete_prompt(self, req: Req, ctx: RequestContext) -> Out:
        return self.prompts.delete(req)

    def create_prompt_version(self, req: Req, ctx: RequestContext) -> Out:
        ctx.status = 201
        return self.prompts.create_version(req)

    def render_prompt(self, prompt_arn: str, variables: dict[str, Any] | None) -> dict:
        """Converse members for a prompt ARN (``...:prompt/ID`` is the draft, ``...:ID:3`` a
        version) filled with ``promptVariables``; see :mod:`prompt_render`."""
        return self.prompts.render(prompt_arn, variables)
