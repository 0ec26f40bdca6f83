"""AWS::DynamoDB::Table through the DynamoDB provider."""

from __future__ import annotations

from typing import Any

from nimbus.services.cloudformation.resources.base import (
    Applied,
    Deployment,
    Handler,
    Replace,
    changed,
    tags_list,
)

_IN_PLACE = {"BillingMode", "ProvisionedThroughput", "TimeToLiveSpecification", "Tags"}


def _throughput(value: dict[str, Any] | None) -> dict[str, int] | None:
    # Why: values that come from a Ref to a parameter are strings; the API wants integers.
    return {k: int(v) for k, v in value.items()} if value else None


def _indexes(items: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if not items:
        return None
    out = []
    for index in items:
        index = dict(index)
        index.pop("ContributorInsightsSpecification", None)
        if index.get("ProvisionedThroughput"):
            index["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
        out.append(index)
    return out


class Table(Handler):
    type = "AWS::DynamoDB::Table"

    async def create(self, d: Deployment, logical_id: str, props: dict[str, Any]) -> Applied:
        name = props.get("TableName") or d.generated_name(logical_id, 255)
        stream = props.get("StreamSpecification")
        out = await d.call(
            "dynamodb",
            "create_table",
            {
                "TableName": name,
                "AttributeDefinitions": props.get("AttributeDefinitions"),
                "KeySchema": props.get("KeySchema"),
                "BillingMode": props.get("BillingMode"),
                "ProvisionedThroughput": _throughput(props.get("ProvisionedThroughput")),
                "GlobalSecondaryIndexes": _indexes(props.get("GlobalSecondaryIndexes")),
                "LocalSecondaryIndexes": _indexes(props.get("LocalSecondaryIndexes")),
                "StreamSpecification": {"StreamEnabled": True, **stream} if stream else None,
                "SSESpecification": props.get("SSESpecification"),
                "TableClass": props.get("TableClass"),
                "DeletionProtectionEnabled": props.get("DeletionProtectionEnabled"),
                "Tags": tags_list(props) or None,
            },
        )
        await self._ttl(d, name, props, {})
        return Applied(name, self._attributes(out["TableDescription"]))

    def _attributes(self, table: dict[str, Any]) -> dict[str, Any]:
        attrs = {"Arn": table["TableArn"]}
        if table.get("LatestStreamArn"):
            attrs["StreamArn"] = table["LatestStreamArn"]
        return attrs

    async def _ttl(self, d: Deployment, name: str, props: dict, old: dict) -> None:
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl != old.get("TimeToLiveSpecification"):
            await d.call(
                "dynamodb",
                "update_time_to_live",
                {
                    "TableName": name,
                    "TimeToLiveSpecification": {
                        "AttributeName": ttl["AttributeName"],
                        "Enabled": bool(ttl.get("Enabled")),
                    },
                },
            )

    async def update(
        self,
        d: Deployment,
        logical_id: str,
        physical_id: str,
        props: dict[str, Any],
        old: dict[str, Any],
    ) -> Applied:
        if any(props.get(k) != old.get(k) for k in set(props) | set(old) if k not in _IN_PLACE):
            raise Replace()
        if changed(props, old, "BillingMode", "ProvisionedThroughput"):
            await d.call(
                "dynamodb",
                "update_table",
                {
                    "TableName": physical_id,
                    "BillingMode": props.get("BillingMode"),
                    "ProvisionedThroughput": _throughput(props.get("ProvisionedThroughput")),
                },
            )
        await self._ttl(d, physical_id, props, old)
        out = await d.call("dynamodb", "describe_table", {"TableName": physical_id})
        return Applied(physical_id, self._attributes(out["Table"]))

    async def delete(self, d: Deployment, physical_id: str, props: dict[str, Any]) -> None:
        await d.call("dynamodb", "delete_table", {"TableName": physical_id})


HANDLERS: list[Handler] = [Table()]
