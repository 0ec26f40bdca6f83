"""Apply a plan to the account in dependency order; roll back what a failure leaves behind."""

from __future__ import annotations

import logging
import re
from typing import Any

from nimbus.aws.errors import AwsError
from nimbus.services.cloudformation.intrinsics import Scope, resolve
from nimbus.services.cloudformation.plan import Step
from nimbus.services.cloudformation.resources.base import Deployment, Handler, Replace
from nimbus.services.cloudformation.store import Resource, Stack, StackStore, now
from nimbus.services.cloudformation.template import validation_error

log = logging.getLogger("nimbus.cloudformation")
_API_URL = re.compile(r"https://([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com/?")
_WS_API_URL = re.compile(r"wss://([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com/?")
_WEBSITE_URL = re.compile(r"https?://([a-z0-9.-]+)\.s3-website[.-][a-z0-9-]+\.amazonaws\.com/?")


class DeployError(Exception):
    """A resource failed; the message names it, its type and the reason."""


class Executor:
    def __init__(
        self, store: StackStore, handlers: dict[str, Handler], d: Deployment, stack: Stack
    ) -> None:
        self.store = store
        self.handlers = handlers
        self.d = d
        self.stack = stack
        self.resources = store.resources(stack.stack_id)

    # -- scope ----------------------------------------------------------------------------
    def bind(self, scope: Scope) -> Scope:
        """Let Ref/GetAtt/ImportValue in ``scope`` see this stack's resources and exports."""

        def ref(name: str) -> Any:
            res = self.resources.get(name)
            if res is None or not res.physical_id:
                raise validation_error(f"Template error: {name} is referenced before it exists")
            return res.physical_id

        def get_att(name: str, attr: str) -> Any:
            res = self.resources.get(name)
            if res is None:
                raise validation_error(
                    f"Template error: instance of Fn::GetAtt references undefined resource {name}"
                )
            if attr not in res.attributes:
                raise validation_error(
                    f"Template error: resource {name} does not support "
                    f"attribute type {attr} in Fn::GetAtt"
                )
            return res.attributes[attr]

        scope.ref, scope.get_att, scope.import_value = ref, get_att, self.store.export
        return scope

    def localize(self, value: Any) -> Any:
        """AWS URLs of Nimbus resources -> where Nimbus serves them."""
        if not isinstance(value, str):
            return value
        if self.d.has("apigatewayv2"):
            api = self.d.provider("apigatewayv2")
            value = _API_URL.sub(lambda m: api.endpoint(m.group(1)) + "/", value)
            value = _WS_API_URL.sub(lambda m: api.ws_endpoint(m.group(1)) + "/", value)
        return _WEBSITE_URL.sub(lambda m: f"{self.d.env.base_url}/_website/{m.group(1)}/", value)

    # -- events ---------------------------------------------------------------------------
    def event(
        self, logical_id: str, physical_id: str, rtype: str, status: str, reason: str = ""
    ) -> None:
        self.store.add_event(self.stack, logical_id, physical_id, rtype, status, reason)

    def stack_event(self, status: str, reason: str = "") -> None:
        self.stack.status, self.stack.reason = status, reason
        if status.startswith("UPDATE") or status.startswith("ROLLBACK"):
            self.stack.updated = now()
        self.store.put_stack(self.stack)
        self.event(
            self.stack.name, self.stack.stack_id, "AWS::CloudFormation::Stack", status, reason
        )

    def handler(self, logical_id: str, rtype: str) -> Handler:
        handler = self.handlers.get(rtype)
        if handler is None:
            raise DeployError(f"{logical_id}: resource type {rtype} is not supported by Nimbus.")
        return handler

    # -- one resource ---------------------------------------------------------------------
    async def create(self, logical_id: str, rtype: str, props: dict[str, Any]) -> Resource:
        handler = self.handler(logical_id, rtype)
        self.event(logical_id, "", rtype, "CREATE_IN_PROGRESS")
        applied = await handler.create(self.d, logical_id, props)
        res = Resource(
            logical_id,
            rtype,
            applied.physical_id,
            "CREATE_COMPLETE",
            "",
            props,
            applied.attributes,
            now(),
        )
        self.resources[logical_id] = res
        self.store.put_resource(self.stack.stack_id, res)
        self.event(logical_id, applied.physical_id, rtype, "CREATE_COMPLETE")
        return res

    async def update(self, logical_id: str, props: dict[str, Any]) -> Resource | None:
        """Update in place; returns the old resource when it had to be replaced."""
        res = self.resources[logical_id]
        if props == res.properties:
            return None  # nothing this resource sees has changed
        handler = self.handler(logical_id, res.type)
        self.event(logical_id, res.physical_id, res.type, "UPDATE_IN_PROGRESS")
        try:
            applied = await handler.update(
                self.d, logical_id, res.physical_id, props, res.properties
            )
        except Replace:
            old = Resource(**res.to_doc())
            await self.create(logical_id, res.type, props)
            return old
        updated = Resource(
            logical_id,
            res.type,
            applied.physical_id,
            "UPDATE_COMPLETE",
            "",
            props,
            applied.attributes,
            now(),
        )
        self.resources[logical_id] = updated
        self.store.put_resource(self.stack.stack_id, updated)
        self.event(logical_id, applied.physical_id, res.type, "UPDATE_COMPLETE")
        return None

    async def delete(
        self, res: Resource, forget: bool = True, *, replaced: bool = False, rollback: bool = False
    ) -> None:
        policy = res.policies.get("UpdateReplacePolicy" if replaced else "DeletionPolicy", "")
        if policy == "Retain" or (policy == "RetainExceptOnCreate" and not rollback):
            # The resource outlives the stack (or its replacement), as the template asked.
            if forget and self.resources.get(res.logical_id) is res:
                del self.resources[res.logical_id]
                self.store.drop_resource(self.stack.stack_id, res.logical_id)
            self.event(res.logical_id, res.physical_id, res.type, "DELETE_SKIPPED")
            return
        self.event(res.logical_id, res.physical_id, res.type, "DELETE_IN_PROGRESS")
        handler = self.handlers.get(res.type)
        if handler is not None and res.physical_id:
            try:
                await handler.delete(self.d, res.physical_id, res.properties)
            except AwsError as err:
                if "NotFound" not in err.code and "NoSuch" not in err.code:
                    self.event(
                        res.logical_id, res.physical_id, res.type, "DELETE_FAILED", err.message
                    )
                    raise DeployError(f"{res.logical_id}: {err.message}") from None
        if forget and self.resources.get(res.logical_id) is res:
            del self.resources[res.logical_id]
            self.store.drop_resource(self.stack.stack_id, res.logical_id)
        self.event(res.logical_id, res.physical_id, res.type, "DELETE_COMPLETE")

    # -- whole plans ----------------------------------------------------------------------
    async def apply(self, steps: list[Step], resources: dict[str, Any], scope: Scope) -> None:
        """Run ``steps``; on failure undo them (``RollbackNeeded`` carries the reason)."""
        self.bind(scope)
        created: list[str] = []
        replaced: list[Resource] = []
        previous = {k: Resource(**v.to_doc()) for k, v in self.resources.items()}
        try:
            for step in steps:
                if step.action == "delete":
                    continue
                props = self._properties(step.logical_id, resources[step.logical_id], scope)
                if step.action == "create":
                    created.append(step.logical_id)
                    await self.create(step.logical_id, step.type, props)
                elif step.action == "replace":
                    replaced.append(self.resources[step.logical_id])
                    await self.create(step.logical_id, step.type, props)
                elif step.action == "update":
                    old = await self.update(step.logical_id, props)
                    if old is not None:
                        replaced.append(old)
                self._keep_policies(step.logical_id, resources[step.logical_id])
        except Exception as exc:
            reason = self._reason(exc)
            failed = next((s for s in steps if s.logical_id in (created[-1:] or [""])), None)
            if failed is not None and failed.logical_id not in self.resources:
                self.event(failed.logical_id, "", failed.type, "CREATE_FAILED", reason)
            raise RollbackNeeded(reason, created, previous) from exc
        # Clean-up phase, as AWS does: old copies of replaced resources and removed resources.
        for old in replaced:
            await self.delete(old, forget=False, replaced=True)
        for step in steps:
            if step.action == "delete":
                await self.delete(self.resources[step.logical_id])

    def _keep_policies(self, logical_id: str, resource: dict[str, Any]) -> None:
        res = self.resources.get(logical_id)
        policies = {
            k: str(resource[k]) for k in ("DeletionPolicy", "UpdateReplacePolicy") if k in resource
        }
        if res is not None and res.policies != policies:
            res.policies = policies
            self.store.put_resource(self.stack.stack_id, res)

    def _properties(self, logical_id: str, resource: dict[str, Any], scope: Scope) -> dict:
        try:
            props = resolve(resource.get("Properties") or {}, scope)
        except AwsError as err:
            raise DeployError(f"{logical_id}: {err.message}") from None
        return props if isinstance(props, dict) else {}

    def _reason(self, exc: Exception) -> str:
        if isinstance(exc, AwsError):
            return exc.message
        if isinstance(exc, DeployError):
            return str(exc)
        log.exception("stack %s: unexpected failure", self.stack.name)
        return f"Internal failure: {type(exc).__name__}: {exc}"

    async def rollback(self, created: list[str], previous: dict[str, Resource]) -> None:
        """Delete what this run created; put updated resources back as they were."""
        for logical_id in reversed(created):
            res = self.resources.get(logical_id)
            if res is not None:
                await self.delete(res, rollback=True)
        for logical_id, res in list(self.resources.items()):
            before = previous.get(logical_id)
            if before is None:
                await self.delete(res)
            elif before.physical_id != res.physical_id:
                await self.delete(res)
                self.resources[logical_id] = before
                self.store.put_resource(self.stack.stack_id, before)
            elif before.properties != res.properties:
                handler = self.handler(logical_id, res.type)
                await handler.update(
                    self.d, logical_id, res.physical_id, before.properties, res.properties
                )
                self.resources[logical_id] = before
                self.store.put_resource(self.stack.stack_id, before)

    async def delete_all(self, order: list[str]) -> None:
        for logical_id in reversed(order):
            res = self.resources.get(logical_id)
            if res is not None:
                await self.delete(res)
        for res in list(self.resources.values()):  # anything the order did not know
            await self.delete(res)

    def outputs(self, outputs: dict[str, Any], scope: Scope) -> tuple[list, dict[str, Any]]:
        """(Outputs for DescribeStacks, exports by name)."""
        out, exports = [], {}
        for key, spec in outputs.items():
            if spec.get("Condition") and not scope.condition(spec["Condition"]):
                continue
            value = self.localize(resolve(spec.get("Value"), scope))
            if isinstance(value, list):
                value = ",".join(map(str, value))
            entry = {"OutputKey": key, "OutputValue": str(value)}
            if spec.get("Description"):
                entry["Description"] = spec["Description"]
            if spec.get("Export"):
                name = str(resolve(spec["Export"]["Name"], scope))
                owner = self.store.export_owner(name)
                if owner not in (None, self.stack.stack_id):
                    raise DeployError(
                        f"Export with name {name} is already exported by stack "
                        f"{owner.split('/')[1]}"
                    )
                entry["ExportName"] = name
                exports[name] = str(value)
            out.append(entry)
        return out, exports


class RollbackNeeded(Exception):
    def __init__(self, reason: str, created: list[str], previous: dict[str, Resource]) -> None:
        super().__init__(reason)
        self.reason, self.created, self.previous = reason, created, previous
