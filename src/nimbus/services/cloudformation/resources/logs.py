"""AWS::Logs::LogGroup through the CloudWatch Logs provider."""

from __future__ import annotations

from typing import Any

from nimbus.services.cloudformation.resources.base import (
    Applied,
    Deployment,
    Handler,
    Replace,
    changed,
)


class LogGroup(Handler):
    type = "AWS::Logs::LogGroup"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        name = props.get("LogGroupName") or d.generated_name(logical_id, 512)
        tags = {t["Key"]: str(t["Value"]) for t in props.get("Tags") or []}
        await d.call("logs", "create_log_group", {"logGroupName": name, "tags": tags or None})
        await self._retention(d, name, props, {})
        return Applied(name, {"Arn": d.arn("logs", f"log-group:{name}:*")})

    async def _retention(self, d: Deployment, name: str, props: dict, old: dict) -> None:
        if not changed(props, old, "RetentionInDays"):
            return
        if props.get("RetentionInDays"):
            await d.call(
                "logs",
                "put_retention_policy",
                {"logGroupName": name, "retentionInDays": int(props["RetentionInDays"])},
            )
        else:
            await d.call("logs", "delete_retention_policy", {"logGroupName": name})

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        if changed(props, old, "LogGroupName"):
            raise Replace()
        await self._retention(d, physical_id, props, old)
        return Applied(physical_id, {"Arn": d.arn("logs", f"log-group:{physical_id}:*")})

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call("logs", "delete_log_group", {"logGroupName": physical_id})


HANDLERS: list[Handler] = [LogGroup()]
