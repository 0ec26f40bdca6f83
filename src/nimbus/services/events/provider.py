"""Amazon EventBridge (botocore model ``events`` 2015-10-07): scheduled rules on the default bus.

Rules with a ``ScheduleExpression`` fire their Lambda targets asynchronously from the
:class:`~nimbus.services.events.scheduler.Scheduler`; rules with only an ``EventPattern`` are
stored and listed (PutEvents is not offered yet).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.aws.errors import AwsError, validation
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.events.schedule import parse
from nimbus.services.events.scheduler import Clock, Scheduler, scaled_clock
from nimbus.services.events.store import RuleRecord, RuleStore

Req = dict[str, Any]
Out = dict[str, Any]
DEFAULT_BUS = "default"
TARGETS_PER_RULE = 5
_RULE_FIELDS = ("Name", "Arn", "EventPattern", "ScheduleExpression", "State", "Description",
                "RoleArn", "ManagedBy", "EventBusName")  # fmt: skip
_STATES = ("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")


def _token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _untoken(token: str | None) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except ValueError:
        raise validation("The NextToken is not valid.") from None


class EventsProvider(Provider):
    service = "events"
    iam_prefix = "events"

    def __init__(self, env: ServiceEnv, clock: Clock | None = None,
                 tick_seconds: float | None = None) -> None:  # fmt: skip
        super().__init__(env)
        self.store = RuleStore(env.data_dir)
        speed = float(os.environ.get("NIMBUS_SCHEDULE_SPEEDUP", "1") or 1)
        self.clock = clock or scaled_clock(speed)
        if tick_seconds is None:
            tick_seconds = max(0.05, 1.0 / speed)
        self.scheduler = Scheduler(
            self.store, self._deliver, self.clock, account=env.account_id,
            region=env.region, tick_seconds=tick_seconds,
        )  # fmt: skip
        self._ensure_started()

    def _ensure_started(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # built outside a server (tests drive ``scheduler.tick`` themselves)
        self.scheduler.start()

    def close(self) -> None:
        self.scheduler.stop()
        self.store.close()

    async def _deliver(self, arn: str, payload: bytes) -> None:
        lam = self.env.registry.get("lambda")
        await lam.invoke_function(arn, payload, invocation_type="Event")

    def iam_resources(self, operation: str, req: Req, ctx: RequestContext) -> list[str]:
        name = req.get("Name") or req.get("Rule")
        return [self._arn(name)] if name else ["*"]

    # -- helpers ----------------------------------------------------------------------------
    def _arn(self, name: str) -> str:
        return f"arn:aws:events:{self.env.region}:{self.env.account_id}:rule/{name}"

    def _bus(self, req: Req) -> str:
        bus = req.get("EventBusName") or DEFAULT_BUS
        name = bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus
        if name != DEFAULT_BUS:
            raise AwsError(
                "ResourceNotFoundException",
                f"Event bus {name} does not exist. Nimbus offers only the default event bus.",
            )
        return name

    def _rule(self, req: Req, key: str = "Name") -> RuleRecord:
        bus = self._bus(req)
        rule = self.store.get(bus, req[key])
        if rule is None:
            raise AwsError(
                "ResourceNotFoundException", f"Rule {req[key]} does not exist on EventBus {bus}."
            )
        return rule

    def _describe(self, rule: RuleRecord) -> Out:
        return {k: rule.doc[k] for k in _RULE_FIELDS if rule.doc.get(k) is not None}

    # -- rules ------------------------------------------------------------------------------
    def put_rule(self, req: Req, ctx: RequestContext) -> Out:
        self._ensure_started()
        bus = self._bus(req)
        name, expression = req["Name"], req.get("ScheduleExpression")
        pattern = req.get("EventPattern")
        if not expression and not pattern:
            raise validation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
        if expression:
            parse(expression)
        if pattern:
            try:
                if not isinstance(json.loads(pattern), dict):
                    raise ValueError("the pattern must be a JSON object")
            except ValueError as exc:
                raise AwsError(
                    "InvalidEventPatternException", f"Event pattern is not valid. Reason: {exc}"
                ) from None
        state = req.get("State") or "ENABLED"
        if state not in _STATES:
            raise validation(f"Parameter State is not valid. Use one of {', '.join(_STATES)}.")
        doc = {"Name": name, "Arn": self._arn(name), "EventBusName": bus, "State": state,
               "ScheduleExpression": expression, "EventPattern": pattern,
               "Description": req.get("Description"), "RoleArn": req.get("RoleArn"),
               "CreatedBy": self.env.account_id}  # fmt: skip
        old = self.store.get(bus, name)
        anchor = self.clock().timestamp()
        unchanged = old is not None and old.doc.get("ScheduleExpression") == expression
        if unchanged and old.enabled and state != "DISABLED":
            anchor = old.anchor  # an unchanged schedule keeps its rhythm
        self.store.put(RuleRecord(bus, name, doc, anchor))
        return {"RuleArn": doc["Arn"]}

    def describe_rule(self, req: Req, ctx: RequestContext) -> Out:
        rule = self._rule(req)
        return {**self._describe(rule), "CreatedBy": rule.doc.get("CreatedBy")}

    def list_rules(self, req: Req, ctx: RequestContext) -> Out:
        bus = self._bus(req)
        limit = req.get("Limit") or 100
        rules = self.store.list(bus, req.get("NamePrefix") or "", _untoken(req.get("NextToken")),
                                limit + 1)  # fmt: skip
        out: Out = {"Rules": [self._describe(r) for r in rules[:limit]]}
        if len(rules) > limit:
            out["NextToken"] = _token(rules[limit - 1].name)
        return out

    def delete_rule(self, req: Req, ctx: RequestContext) -> Out:
        bus = self._bus(req)
        if self.store.get(bus, req["Name"]) is None:
            return {}  # AWS answers success for a rule that does not exist
        if self.store.targets(bus, req["Name"]):
            raise validation("Rule can't be deleted since it has targets.")
        self.store.delete(bus, req["Name"])
        return {}

    def enable_rule(self, req: Req, ctx: RequestContext) -> Out:
        return self._set_state(req, "ENABLED")

    def disable_rule(self, req: Req, ctx: RequestContext) -> Out:
        return self._set_state(req, "DISABLED")

    def _set_state(self, req: Req, state: str) -> Out:
        rule = self._rule(req)
        if rule.doc["State"] != state:
            if state == "ENABLED":
                rule.anchor = self.clock().timestamp()  # a re-enabled schedule starts afresh
            rule.doc["State"] = state
            self.store.put(rule)
        return {}

    # -- targets ----------------------------------------------------------------------------
    def put_targets(self, req: Req, ctx: RequestContext) -> Out:
        rule = self._rule(req, "Rule")
        failed: list[Out] = []
        accepted: list[Out] = []
        for target in req["Targets"]:
            problem = self._target_problem(target)
            if problem:
                failed.append({"TargetId": target["Id"], "ErrorCode": "ValidationException",
                               "ErrorMessage": problem})  # fmt: skip
            else:
                accepted.append(target)
        ids = {t["Id"] for t in self.store.targets(rule.bus, rule.name)}
        if len(ids | {t["Id"] for t in accepted}) > TARGETS_PER_RULE:
            raise AwsError(
                "LimitExceededException",
                f"The requested resource exceeds the maximum number allowed: a rule has at most "
                f"{TARGETS_PER_RULE} targets.",
            )
        self.store.put_targets(rule.bus, rule.name, accepted)
        return {"FailedEntryCount": len(failed), "FailedEntries": failed}

    def _target_problem(self, target: Req) -> str | None:
        given = [k for k in ("Input", "InputPath", "InputTransformer") if target.get(k)]
        if len(given) > 1:
            raise validation("Only one of Input, InputPath, or InputTransformer must be provided.")
        if target.get("Input") is not None:
            try:
                json.loads(target["Input"])
            except ValueError as exc:
                raise validation(f"Parameter Input is not valid. Reason: {exc}") from None
        if target.get("InputPath") and not target["InputPath"].startswith("$"):
            raise validation("Parameter InputPath is not valid. It must be a JSONPath like $.a.")
        if target.get("InputTransformer"):
            return "Nimbus does not support InputTransformer yet; use Input or InputPath."
        if ":lambda:" not in target["Arn"]:
            return "Nimbus delivers scheduled events only to Lambda function targets."
        return None

    def remove_targets(self, req: Req, ctx: RequestContext) -> Out:
        rule = self._rule(req, "Rule")
        self.store.remove_targets(rule.bus, rule.name, req["Ids"])
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def list_targets_by_rule(self, req: Req, ctx: RequestContext) -> Out:
        rule = self._rule(req, "Rule")
        after = _untoken(req.get("NextToken"))
        limit = req.get("Limit") or 100
        targets = [t for t in self.store.targets(rule.bus, rule.name) if t["Id"] > after]
        out: Out = {"Targets": targets[:limit]}
        if len(targets) > limit:
            out["NextToken"] = _token(targets[limit - 1]["Id"])
        return out
