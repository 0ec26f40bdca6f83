"""Guardrail operations of the ``bedrock`` provider, and ``evaluate_guardrail`` for the runtime.

A mixin: the provider that inherits it owns ``self.env``; the guardrails (store + compiled
versions) are made on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import validation
from nimbus.services.bedrock.guardrails import Guardrails

if TYPE_CHECKING:
    from nimbus.aws.context import RequestContext
    from nimbus.services.base import ServiceEnv

Req = dict[str, Any]
Out = dict[str, Any]
_SOURCES = ("INPUT", "OUTPUT")
ACCEPTED = 202  # AWS answers guardrail writes with 202 Accepted


class GuardrailOperations:
    env: ServiceEnv
    _guardrails: Guardrails | None = None

    @property
    def guardrails(self) -> Guardrails:
        if self._guardrails is None:
            env = self.env
            self._guardrails = Guardrails(env.data_dir, env.region, env.account_id)
        return self._guardrails

    def close_guardrails(self) -> None:
        if self._guardrails is not None:
            self._guardrails.close()
            self._guardrails = None

    def close(self) -> None:
        self.close_guardrails()
        super_close = getattr(super(), "close", None)
        if super_close is not None:
            super_close()

    def guardrail_iam_resources(self, req: Req) -> list[str] | None:
        """The guardrail's ARN for IAM, when the request names one."""
        identifier = req.get("guardrailIdentifier")
        if not identifier:
            return None
        return [self.guardrails.arn(self.guardrails.guardrail_id(identifier))]

    # -- control plane ------------------------------------------------------------------------
    def create_guardrail(self, req: Req, ctx: RequestContext) -> Out:
        ctx.status = ACCEPTED
        return self.guardrails.create(req)

    def get_guardrail(self, req: Req, ctx: RequestContext) -> Out:
        return self.guardrails.get(req)

    def list_guardrails(self, req: Req, ctx: RequestContext) -> Out:
        return self.guardrails.list(req)

    def update_guardrail(self, req: Req, ctx: RequestContext) -> Out:
        ctx.status = ACCEPTED
        return self.guardrails.update(req)

    def delete_guardrail(self, req: Req, ctx: RequestContext) -> Out:
        ctx.status = ACCEPTED
        return self.guardrails.delete(req)

    def create_guardrail_version(self, req: Req, ctx: RequestContext) -> Out:
        ctx.status = ACCEPTED
        return self.guardrails.create_version(req)

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate_guardrail(
        self,
        identifier: str,
        version: str,
        source: str,
        contents: list[dict],
        output_scope: str = "INTERVENTIONS",
    ) -> Out:
        """ApplyGuardrail's output for ``contents`` (ApplyGuardrail's ``content`` list).

        ``identifier`` is a guardrail ID or ARN, ``version`` "DRAFT" or "1", "2"...; an unknown
        guardrail or version raises ResourceNotFoundException (404).
        """
        if source not in _SOURCES:
            raise validation(f"The guardrail source '{source}' is not INPUT or OUTPUT.")
        if not identifier:
            raise validation("Name the guardrail: guardrailIdentifier is empty.")
        if not version:
            raise validation("Name the guardrail version: DRAFT or a version number.")
        compiled = self.guardrails.compiled(identifier, version)
        return compiled.evaluate(source, contents, output_scope)
