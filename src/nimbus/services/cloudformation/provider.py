"""CloudFormation operations; deployments run as background asyncio tasks."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.cloudformation import capabilities
from nimbus.services.cloudformation.executor import DeployError, Executor, RollbackNeeded
from nimbus.services.cloudformation.graph import check_outputs, creation_order, dependencies
from nimbus.services.cloudformation.plan import Step, is_noop, plan
from nimbus.services.cloudformation.prepare import Prepared, prepare, pseudo_parameters
from nimbus.services.cloudformation.resources import handlers
from nimbus.services.cloudformation.resources.base import Deployment
from nimbus.services.cloudformation.store import Stack, StackStore, now
from nimbus.services.cloudformation.template import parse_template, transforms, validation_error

log = logging.getLogger("nimbus.cloudformation")
TEMPLATE_DIR_TAG = "nimbus:template-dir"  # where relative CodeUri folders resolve from
Req = dict[str, Any]


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


class CloudFormationProvider(Provider):
    service = "cloudformation"
    iam_prefix = "cloudformation"

    def __init__(self, env: ServiceEnv) -> None:
        super().__init__(env)
        self.store = StackStore(env.data_dir)
        self.handlers = handlers()
        self.tasks: set[asyncio.Task[None]] = set()
        for stack in self.store.stacks():  # a deployment the last process did not finish
            if stack.status.endswith("_IN_PROGRESS"):
                stack.status = stack.status.replace("_IN_PROGRESS", "_FAILED")
                stack.reason = "Nimbus stopped while the stack was being deployed."
                self.store.put_stack(stack)

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.store.close()

    # -- helpers --------------------------------------------------------------------------
    def _stack(self, name_or_id: str) -> Stack:
        stack = self.store.find(name_or_id)
        if stack is None:
            raise validation_error(f"Stack with id {name_or_id} does not exist")
        return stack

    def _body(self, req: Req) -> str:
        if req.get("TemplateBody"):
            return req["TemplateBody"]
        if req.get("TemplateURL"):
            raise validation_error("Nimbus takes TemplateBody; TemplateURL is not supported yet.")
        raise validation_error("Either Template URL or Template Body must be specified.")

    def _prepare(self, stack: Stack, body: str, req: Req, previous: dict[str, str]) -> Prepared:
        given, keep = {}, {}
        for p in req.get("Parameters") or []:
            if p.get("UsePreviousValue"):
                keep[p["ParameterKey"]] = previous.get(p["ParameterKey"], "")
            else:
                given[p["ParameterKey"]] = str(p.get("ParameterValue", ""))
        base = Path(stack.doc.get("base_dir") or ".")
        pseudo = pseudo_parameters(self.env.region, self.env.account_id, stack.name, stack.stack_id)
        prepared = prepare(body, given, keep if req.get("_update") else {}, base, pseudo)
        declared = transforms(parse_template(body))
        capabilities.check(
            capabilities.required(declared, prepared.processed["Resources"]),
            req.get("Capabilities"),
        )
        return prepared

    def _launch(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _executor(self, stack: Stack) -> Executor:
        d = Deployment(self.env, stack.name, stack.stack_id)
        return Executor(self.store, self.handlers, d, stack)

    # -- create / update / delete ---------------------------------------------------------
    async def create_stack(self, req: Req, ctx: RequestContext) -> Req:
        name = req["StackName"]
        if self.store.find(name) is not None:
            raise AwsError("AlreadyExistsException", f"Stack [{name}] already exists", 400)
        body = self._body(req)
        tags = {t["Key"]: t["Value"] for t in req.get("Tags") or []}
        stack_id = self.store.new_stack_id(self.env.region, self.env.account_id, name)
        stack = Stack(
            stack_id,
            name,
            "CREATE_IN_PROGRESS",
            now(),
            doc={
                "body": body,
                "tags": tags,
                "base_dir": tags.get(TEMPLATE_DIR_TAG, "."),
                "description": parse_template(body).get("Description", ""),
            },
        )
        prepared = self._prepare(stack, body, req, {})
        stack.doc.update(processed=prepared.processed, parameters=prepared.parameters)
        self.store.put_stack(stack)
        steps = plan({}, prepared.resources, set(), prepared.order, [])
        self._launch(self._deploy(stack, prepared, steps))
        return {"StackId": stack_id}

    async def update_stack(self, req: Req, ctx: RequestContext) -> Req:
        stack = self._stack(req["StackName"])
        if stack.status.endswith("_IN_PROGRESS") or stack.status in (
            "ROLLBACK_COMPLETE",
            "ROLLBACK_FAILED",
        ):
            raise validation_error(
                f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
            )
        body = stack.doc["body"] if req.get("UsePreviousTemplate") else self._body(req)
        prepared = self._prepare(stack, body, {**req, "_update": True}, stack.doc["parameters"])
        old = stack.doc["processed"]
        steps = self._plan(stack, prepared)
        if is_noop(steps) and old.get("Outputs") == prepared.processed.get("Outputs"):
            raise validation_error("No updates are to be performed.")
        previous_doc = dict(stack.doc)
        if req.get("Tags") is not None:
            stack.doc["tags"] = {t["Key"]: t["Value"] for t in req["Tags"]}
        stack.doc.update(body=body, processed=prepared.processed, parameters=prepared.parameters)
        stack.status = "UPDATE_IN_PROGRESS"
        self.store.put_stack(stack)
        self._launch(self._deploy(stack, prepared, steps, previous_doc=previous_doc))
        return {"StackId": stack.stack_id}

    def _plan(self, stack: Stack, prepared: Prepared) -> list[Step]:
        from nimbus.services.cloudformation.graph import creation_order, dependencies

        old_resources = {
            k: v
            for k, v in stack.doc["processed"]["Resources"].items()
            if k in self.store.resources(stack.stack_id)
        }
        old_params = stack.doc.get("parameters") or {}
        changed = {k for k, v in prepared.parameters.items() if old_params.get(k) != v}
        old_order = creation_order(dependencies({"Resources": old_resources}, check=False))
        return plan(old_resources, prepared.resources, changed, prepared.order, old_order)

    async def _deploy(
        self,
        stack: Stack,
        prepared: Prepared,
        steps: list[Step],
        previous_doc: dict[str, Any] | None = None,
    ) -> None:
        """Run a planned create (``previous_doc`` None) or update in the background."""
        ex = self._executor(stack)
        create = previous_doc is None
        kind = "CREATE" if create else "UPDATE"
        ex.stack_event(f"{kind}_IN_PROGRESS", "User Initiated")
        try:
            await ex.apply(steps, prepared.resources, prepared.scope)
            outputs, exports = ex.outputs(prepared.processed.get("Outputs") or {}, prepared.scope)
        except (RollbackNeeded, DeployError) as exc:
            reason = exc.reason if isinstance(exc, RollbackNeeded) else str(exc)
            created = exc.created if isinstance(exc, RollbackNeeded) else []
            previous = exc.previous if isinstance(exc, RollbackNeeded) else {}
            await self._roll_back(ex, stack, create, reason, created, previous, previous_doc)
            return
        except Exception:
            log.exception("stack %s failed", stack.name)
            ex.stack_event(f"{kind}_FAILED", "Internal failure; see the Nimbus log.")
            return
        stack.doc["outputs"] = outputs
        self.store.set_exports(stack.stack_id, exports)
        ex.stack_event(f"{kind}_COMPLETE")

    async def _roll_back(
        self,
        ex: Executor,
        stack: Stack,
        create: bool,
        reason: str,
        created: list[str],
        previous: dict,
        previous_doc: dict[str, Any] | None,
    ) -> None:
        prefix = "ROLLBACK" if create else "UPDATE_ROLLBACK"
        ex.stack_event(f"{prefix}_IN_PROGRESS", reason)
        try:
            await ex.rollback(created, previous)
        except Exception as exc:
            log.exception("stack %s: rollback failed", stack.name)
            ex.stack_event(f"{prefix}_FAILED", f"{reason}; rollback failed: {exc}")
            return
        if previous_doc is not None:
            stack.doc = previous_doc
        ex.stack_event(f"{prefix}_COMPLETE", reason)

    async def delete_stack(self, req: Req, ctx: RequestContext) -> Req:
        stack = self.store.find(req["StackName"])
        if stack is None or stack.status == "DELETE_COMPLETE":
            return {}  # AWS answers success for a stack that is not there
        if stack.status.endswith("_IN_PROGRESS"):
            raise validation_error(f"Stack {stack.name} is being deployed ({stack.status}).")
        stack.status = "DELETE_IN_PROGRESS"
        self.store.put_stack(stack)
        self._launch(self._delete(stack))
        return {}

    async def _delete(self, stack: Stack) -> None:
        from nimbus.services.cloudformation.graph import creation_order, dependencies

        ex = self._executor(stack)
        ex.stack_event("DELETE_IN_PROGRESS", "User Initiated")
        try:
            known = {
                k: v for k, v in stack.doc["processed"]["Resources"].items() if k in ex.resources
            }
            await ex.delete_all(creation_order(dependencies({"Resources": known}, check=False)))
        except Exception as exc:
            ex.stack_event("DELETE_FAILED", str(exc))
            return
        self.store.set_exports(stack.stack_id, {})
        stack.deleted = now()
        ex.stack_event("DELETE_COMPLETE")

    # -- reads ----------------------------------------------------------------------------
    def _describe(self, stack: Stack) -> Req:
        out: Req = {
            "StackId": stack.stack_id,
            "StackName": stack.name,
            "CreationTime": _ts(stack.created),
            "StackStatus": stack.status,
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": v}
                for k, v in (stack.doc.get("parameters") or {}).items()
            ],
            "Outputs": stack.doc.get("outputs") or [],
            "Tags": [{"Key": k, "Value": v} for k, v in (stack.doc.get("tags") or {}).items()],
            "DisableRollback": False,
            "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
        }
        if stack.reason:
            out["StackStatusReason"] = stack.reason
        if stack.doc.get("description"):
            out["Description"] = stack.doc["description"]
        if stack.updated:
            out["LastUpdatedTime"] = _ts(stack.updated)
        if stack.deleted:
            out["DeletionTime"] = _ts(stack.deleted)
        return out

    def describe_stacks(self, req: Req, ctx: RequestContext) -> Req:
        if req.get("StackName"):
            return {"Stacks": [self._describe(self._stack(req["StackName"]))]}
        return {"Stacks": [self._describe(s) for s in self.store.stacks()]}

    def list_stacks(self, req: Req, ctx: RequestContext) -> Req:
        wanted = set(req.get("StackStatusFilter") or [])
        summaries = []
        for s in self.store.stacks(include_deleted=True):
            if wanted and s.status not in wanted:
                continue
            item = {
                "StackId": s.stack_id,
                "StackName": s.name,
                "CreationTime": _ts(s.created),
                "StackStatus": s.status,
            }
            if s.deleted:
                item["DeletionTime"] = _ts(s.deleted)
            if s.updated:
                item["LastUpdatedTime"] = _ts(s.updated)
            summaries.append(item)
        return {"StackSummaries": summaries}

    def describe_stack_events(self, req: Req, ctx: RequestContext) -> Req:
        stack = self._stack(req["StackName"])
        events = self.store.events(stack.stack_id)
        for e in events:
            e["Timestamp"] = _ts(e["Timestamp"])
        return {"StackEvents": events}

    def _resource_rows(self, stack: Stack, logical: str | None = None) -> list[Req]:
        rows = []
        for res in self.store.resources(stack.stack_id).values():
            if logical and res.logical_id != logical:
                continue
            rows.append(
                {
                    "StackName": stack.name,
                    "StackId": stack.stack_id,
                    "LogicalResourceId": res.logical_id,
                    "PhysicalResourceId": res.physical_id,
                    "ResourceType": res.type,
                    "ResourceStatus": res.status,
                    "Timestamp": _ts(res.updated),
                    "LastUpdatedTimestamp": _ts(res.updated),
                }
            )
        return rows

    def describe_stack_resources(self, req: Req, ctx: RequestContext) -> Req:
        if not req.get("StackName"):
            raise validation_error("StackName is required by Nimbus.")
        rows = self._resource_rows(self._stack(req["StackName"]), req.get("LogicalResourceId"))
        for r in rows:
            r.pop("LastUpdatedTimestamp")
        return {"StackResources": rows}

    def describe_stack_resource(self, req: Req, ctx: RequestContext) -> Req:
        stack = self._stack(req["StackName"])
        rows = self._resource_rows(stack, req["LogicalResourceId"])
        if not rows:
            raise validation_error(
                f"Resource {req['LogicalResourceId']} does not exist for stack {stack.name}"
            )
        rows[0].pop("Timestamp")
        rows[0]["Metadata"] = json.dumps(
            stack.doc["processed"]["Resources"].get(req["LogicalResourceId"], {}).get("Metadata")
            or {}
        )
        return {"StackResourceDetail": rows[0]}

    def list_stack_resources(self, req: Req, ctx: RequestContext) -> Req:
        rows = self._resource_rows(self._stack(req["StackName"]))
        for r in rows:
            for key in ("StackName", "StackId", "Timestamp"):
                r.pop(key)
        return {"StackResourceSummaries": rows}

    def list_exports(self, req: Req, ctx: RequestContext) -> Req:
        return {
            "Exports": [
                {"ExportingStackId": sid, "Name": name, "Value": value}
                for name, value, sid in self.store.exports()
            ]
        }

    def get_template(self, req: Req, ctx: RequestContext) -> Req:
        stack = self._stack(req["StackName"])
        if req.get("TemplateStage") == "Processed":
            body = json.dumps(stack.doc["processed"], indent=2)
        else:
            body = stack.doc["body"]
        return {"TemplateBody": body, "StagesAvailable": ["Original", "Processed"]}

    def validate_template(self, req: Req, ctx: RequestContext) -> Req:
        template = parse_template(self._body(req))
        if not transforms(template):  # a transformed template is checked once expanded
            creation_order(dependencies(template))
            check_outputs(template)
        params = []
        for name, spec in (template.get("Parameters") or {}).items():
            spec = spec or {}
            item = {"ParameterKey": name, "NoEcho": bool(spec.get("NoEcho", False))}
            if "Default" in spec:
                item["DefaultValue"] = str(spec["Default"])
            if spec.get("Description"):
                item["Description"] = spec["Description"]
            params.append(item)
        out: Req = {"Parameters": params, "DeclaredTransforms": transforms(template)}
        if template.get("Description"):
            out["Description"] = template["Description"]
        types = {r["Type"] for r in template["Resources"].values()}
        if any(t.startswith("AWS::IAM::") or t == "AWS::Serverless::Function" for t in types):
            out["Capabilities"] = ["CAPABILITY_IAM"]
            out["CapabilitiesReason"] = "The following resource(s) require capabilities: IAM"
        return out
