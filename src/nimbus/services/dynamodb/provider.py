"""DynamoDB operations for the wire front: thin delegation to the engine plus IAM resources."""

from __future__ import annotations

from typing import Any

from nimbus.aws.context import RequestContext
from nimbus.services.base import Provider, ServiceEnv
from nimbus.services.dynamodb.engine import DynamoEngine

Req = dict[str, Any]
Resp = dict[str, Any]


def _snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


class DynamoDBProvider(Provider):
    service = "dynamodb"
    iam_prefix = "dynamodb"
    access_denied_code = "AccessDeniedException"

    def __init__(self, env: ServiceEnv) -> None:
        super().__init__(env)
        self.engine = DynamoEngine(env.data_dir, env.region, env.account_id)

    def close(self) -> None:
        self.engine.close()

    # -- IAM
    def iam_resources(self, operation: str, req: Req, ctx: RequestContext) -> list[str]:
        base = f"arn:aws:dynamodb:{ctx.region}:{ctx.account_id}:table/"
        op = _snake(operation)
        if op in ("batch_get_item", "batch_write_item"):
            return [base + name for name in req.get("RequestItems") or {}] or ["*"]
        if op in ("transact_write_items", "transact_get_items"):
            names: list[str] = []
            for entry in req.get("TransactItems") or []:
                for spec in entry.values():
                    name = spec.get("TableName") if isinstance(spec, dict) else None
                    if name and name not in names:
                        names.append(name)
            return [base + n for n in names] or ["*"]
        if op in ("tag_resource", "untag_resource", "list_tags_of_resource"):
            return [str(req.get("ResourceArn", "*"))]
        name = req.get("TableName")
        if not name:
            return ["*"]
        if req.get("IndexName"):
            return [f"{base}{name}/index/{req['IndexName']}"]
        return [base + name]

    # -- tables
    def create_table(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.create_table(req)

    def describe_table(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.describe_table(req)

    def list_tables(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.list_tables(req)

    def delete_table(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.delete_table(req)

    def update_table(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.update_table(req)

    def update_time_to_live(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.update_time_to_live(req)

    def describe_time_to_live(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.describe_time_to_live(req)

    def tag_resource(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.tag_resource(req)

    def untag_resource(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.untag_resource(req)

    def list_tags_of_resource(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.list_tags_of_resource(req)

    def describe_continuous_backups(self, req: Req, ctx: RequestContext) -> Resp:
        self.engine.described_table(req.get("TableName"))
        return {
            "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
            }
        }

    def update_continuous_backups(self, req: Req, ctx: RequestContext) -> Resp:
        # Point-in-time recovery is accepted and reported; there is nothing to restore from.
        self.engine.described_table(req.get("TableName"))
        enabled = bool(
            (req.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
        )
        status = "ENABLED" if enabled else "DISABLED"
        return {
            "ContinuousBackupsDescription": {
                "ContinuousBackupsStatus": "ENABLED",
                "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": status},
            }
        }

    def describe_endpoints(self, req: Req, ctx: RequestContext) -> Resp:
        host = f"dynamodb.{ctx.region}.amazonaws.com"
        return {"Endpoints": [{"Address": host, "CachePeriodInMinutes": 1440}]}

    def describe_limits(self, req: Req, ctx: RequestContext) -> Resp:
        return {
            "AccountMaxReadCapacityUnits": 80000,
            "AccountMaxWriteCapacityUnits": 80000,
            "TableMaxReadCapacityUnits": 40000,
            "TableMaxWriteCapacityUnits": 40000,
        }

    # -- items
    def put_item(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.put_item(req)

    def get_item(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.get_item(req)

    def update_item(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.update_item(req)

    def delete_item(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.delete_item(req)

    def query(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.query(req)

    def scan(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.scan(req)

    def batch_get_item(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.batch_get_item(req)

    def batch_write_item(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.batch_write_item(req)

    def transact_write_items(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.transact_write_items(req)

    def transact_get_items(self, req: Req, ctx: RequestContext) -> Resp:
        return self.engine.transact_get_items(req)
