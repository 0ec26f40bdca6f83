"""AWS::Events::Rule: stored with the stack (schedules are run later by Lambda's scheduler).

Nimbus has no EventBridge provider yet, so the rule's definition lives in this stack's
resource record; ``scheduled_rules`` lists them for whoever runs schedules.
"""

from __future__ import annotations

from typing import Any

from nimbus.services.cloudformation.resources.base import Applied, Deployment, Handler, Replace


class Rule(Handler):
    type = "AWS::Events::Rule"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        name = props.get("Name") or d.generated_name(logical_id)
        return Applied(name, {"Arn": d.arn("events", f"rule/{name}")})

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
        return Applied(physical_id, {"Arn": d.arn("events", f"rule/{physical_id}")})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        return None


HANDLERS: list[Handler] = [Rule()]
