"""AWS::Events::Rule through the EventBridge provider: the rule, then its targets.

SAM's ``Schedule`` event source expands to this resource with a Lambda
target, so a scheduled function deployed from a template fires on the Nimbus scheduler.
"""

from __future__ import annotations

import json
from typing import Any

from nimbus.aws.errors import AwsError, validation
from nimbus.services.cloudformation.resources.base import Applied, Deployment, Handler, Replace

_TARGET_KEYS = ("Id", "Arn", "RoleArn", "Input", "InputPath", "InputTransformer")


def _rule_request(name: str, props: dict[str, Any]) -> dict[str, Any]:
    pattern = props.get("EventPattern")
    if isinstance(pattern, dict):
        pattern = json.dumps(pattern)
    return {
        "Name": name,
        "ScheduleExpression": props.get("ScheduleExpression"),
        "EventPattern": pattern,
        "State": props.get("State") or "ENABLED",
        "Description": props.get("Description"),
        "RoleArn": props.get("RoleArn"),
    }


def _targets(props: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: t[k] for k in _TARGET_KEYS if t.get(k) is not None} for t in props.get("Targets") or []
    ]


class Rule(Handler):
    type = "AWS::Events::Rule"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        name = props.get("Name") or d.generated_name(logical_id)
        await d.call("events", "put_rule", _rule_request(name, props))
        try:
            await self._sync_targets(d, name, _targets(props), [])
        except Exception:
            await self.delete(d, name, props)  # no rule left without its targets
            raise
        return Applied(name, {"Arn": d.arn("events", f"rule/{name}")})

    async def _sync_targets(self, d: Deployment, name: str, new: list, old: list) -> None:
        gone = {t["Id"] for t in old} - {t["Id"] for t in new}
        if gone:
            await d.call("events", "remove_targets", {"Rule": name, "Ids": sorted(gone)})
        if new:
            out = await d.call("events", "put_targets", {"Rule": name, "Targets": new})
            if out.get("FailedEntryCount"):
                entry = out["FailedEntries"][0]
                raise validation(f"Target {entry['TargetId']}: {entry['ErrorMessage']}")

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        if props.get("Name") != old.get("Name"):
            raise Replace()
        await d.call("events", "put_rule", _rule_request(physical_id, props))
        await self._sync_targets(d, physical_id, _targets(props), _targets(old))
        return Applied(physical_id, {"Arn": d.arn("events", f"rule/{physical_id}")})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        try:
            listed = await d.call("events", "list_targets_by_rule", {"Rule": physical_id})
        except AwsError as err:
            if err.code == "ResourceNotFoundException":
                return  # already gone
            raise
        ids = [t["Id"] for t in listed.get("Targets") or []]
        if ids:
            await d.call("events", "remove_targets", {"Rule": physical_id, "Ids": ids})
        await d.call("events", "delete_rule", {"Name": physical_id})


HANDLERS: list[Handler] = [Rule()]
