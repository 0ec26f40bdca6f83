"""What a resource handler is, and how it reaches other services' providers."""

from __future__ import annotations

import inspect
import random
import string
from dataclasses import dataclass
from typing import Any, ClassVar

from nimbus.aws.context import Principal, RequestContext
from nimbus.services.base import ServiceEnv


@dataclass
class Applied:
    """What a create/update leaves behind: the Ref value and the Fn::GetAtt attributes."""

    physical_id: str
    attributes: dict[str, Any]


class Replace(Exception):
    """Raised by ``update`` when the change needs a new resource (a new name, a new key)."""


@dataclass
class Deployment:
    """One stack's view of the account while it deploys: calls providers as boto3 would."""

    env: ServiceEnv
    stack_name: str
    stack_id: str

    def context(self, service: str, operation: str) -> RequestContext:
        account = self.env.account_id
        principal = Principal(arn=f"arn:aws:iam::{account}:root", account_id=account)
        return RequestContext(
            service=service,
            operation=operation,
            region=self.env.region,
            account_id=account,
            request_id=f"cfn-{random.getrandbits(48):012x}",
            principal=principal,
            base_url=self.env.base_url,
        )

    def provider(self, service: str) -> Any:
        return self.env.registry.get(service)

    def has(self, service: str) -> bool:
        return service in self.env.registry

    async def call(self, service: str, operation: str, req: dict[str, Any]) -> dict[str, Any]:
        """``operation`` (snake_case) on ``service`` with a request dict shaped like boto3's."""
        method = getattr(self.provider(service), operation)
        result = method(
            {k: v for k, v in req.items() if v is not None}, self.context(service, operation)
        )
        if inspect.isawaitable(result):
            result = await result
        return result or {}

    def generated_name(self, logical_id: str, max_len: int = 64, lower: bool = False) -> str:
        """``{stack}-{logical}-{SUFFIX}`` like CloudFormation's names for unnamed resources."""
        alphabet = string.ascii_uppercase + string.digits
        suffix = "".join(random.choices(alphabet, k=12))
        head = f"{self.stack_name}-{logical_id}"[: max_len - 13]
        name = f"{head}-{suffix}"
        return name.lower() if lower else name

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        where = self.env.region if region else ""
        return f"arn:aws:{service}:{where}:{self.env.account_id}:{resource}"


class Handler:
    """One resource type. ``update`` raises :class:`Replace` when it cannot change in place."""

    type: ClassVar[str]

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        raise NotImplementedError

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        raise Replace()

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        raise NotImplementedError


def tags_list(props: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": t["Key"], "Value": str(t["Value"])} for t in props.get("Tags") or []]


def changed(props: dict[str, Any], old: dict[str, Any], *keys: str) -> bool:
    return any(props.get(k) != old.get(k) for k in keys)
