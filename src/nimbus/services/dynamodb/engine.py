"""The DynamoDB engine: tables, TTL and tags here; item, query and batch operations in mixins."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from nimbus.aws.errors import AwsError, validation
from nimbus.services.dynamodb import tables as T
from nimbus.services.dynamodb.batch import BatchOps
from nimbus.services.dynamodb.items import ItemOps
from nimbus.services.dynamodb.query import QueryOps
from nimbus.services.dynamodb.store import Store
from nimbus.services.dynamodb.ttl import TtlSweeper

MAX_LSI = 5
MAX_GSI = 20


def not_found(message: str = "Requested resource not found") -> AwsError:
    return AwsError("ResourceNotFoundException", message, 400)


class DynamoEngine(ItemOps, QueryOps, BatchOps):
    def __init__(self, data_dir: Path, region: str, account_id: str) -> None:
        self.region = region
        self.account_id = account_id
        self.db_path = data_dir / "dynamodb.sqlite3"
        self.store = Store(self.db_path)
        # Table metadata lives in memory; SQLite is only written when it changes.
        self.tables: dict[str, T.Table] = self.store.load_tables()
        interval = float(os.environ.get("NIMBUS_DYNAMODB_TTL_SWEEP_SECONDS", "5"))
        self.sweeper = TtlSweeper(self.db_path, self.tables, interval)
        self.sweeper.start()

    def close(self) -> None:
        self.sweeper.stop()
        self.store.conn.close()

    # -- lookups
    def table(self, name: Any) -> T.Table:
        table = self.tables.get(name)
        if table is None:
            raise not_found()
        return table

    def described_table(self, name: Any) -> T.Table:
        table = self.tables.get(name)
        if table is None:
            raise not_found(f"Requested resource not found: Table: {name} not found")
        return table

    def describe(self, table: T.Table) -> dict[str, Any]:
        count, size = self.store.stats(table.tid)
        return table.describe(count, size, self.store.index_stats(table.tid))

    def table_by_arn(self, arn: Any) -> T.Table:
        name = str(arn).rpartition(":table/")[2]
        table = self.tables.get(name)
        if table is None or table.arn != arn:
            raise not_found(f"Requested resource not found: ResourcArn: {arn} not found")
        return table

    # -- tables
    def create_table(self, req: dict[str, Any]) -> dict[str, Any]:
        name = T.check_table_name(req.get("TableName"))
        types = T.parse_attribute_definitions(req.get("AttributeDefinitions"))
        hash_name, range_name = T.parse_key_schema(req.get("KeySchema"), types, "keySchema")
        billing = req.get("BillingMode") or "PROVISIONED"
        throughput = T.parse_throughput(billing, req.get("ProvisionedThroughput"), "table")
        with self.store.lock:
            if name in self.tables:
                raise AwsError("ResourceInUseException", f"Table already exists: {name}")
            tid = self.store.next_tid()
            arn = f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{name}"
            table = T.Table(
                tid=tid,
                name=name,
                table_id=str(uuid.uuid4()),
                arn=arn,
                hash_name=hash_name,
                hash_type=types[hash_name],
                range_name=range_name,
                range_type=types[range_name] if range_name else None,
                attribute_types=types,
                billing_mode=billing,
                throughput=throughput or {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
                created=time.time(),
                tags={t["Key"]: t["Value"] for t in req.get("Tags") or []},
                deletion_protection=bool(req.get("DeletionProtectionEnabled")),
                stream=req.get("StreamSpecification"),
            )
            specs = [("LSI", s) for s in req.get("LocalSecondaryIndexes") or []]
            specs += [("GSI", s) for s in req.get("GlobalSecondaryIndexes") or []]
            if len(req.get("LocalSecondaryIndexes") or []) > MAX_LSI:
                raise validation("One or more parameter values were invalid: Too many LSIs")
            for iid, (kind, spec) in enumerate(specs, start=1):
                index = T.parse_index(spec, kind, iid, types, billing, hash_name, range_name)
                if index.name in table.indexes:
                    raise validation(
                        "One or more parameter values were invalid: Duplicate index name: "
                        f"{index.name}"
                    )
                table.indexes[index.name] = index
            T.check_definitions_used(types, table)
            self.store.save_table(table)
            self.tables[name] = table
        return {"TableDescription": table.describe(0, 0)}

    def describe_table(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"Table": self.describe(self.described_table(req.get("TableName")))}

    def list_tables(self, req: dict[str, Any]) -> dict[str, Any]:
        limit = req.get("Limit", 100)
        if not 1 <= limit <= 100:
            raise validation(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                "constraint: Member must have value less than or equal to 100"
            )
        names = sorted(self.tables)
        start = req.get("ExclusiveStartTableName")
        if start:
            names = [n for n in names if n > start]
        out: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            out["LastEvaluatedTableName"] = names[limit - 1]
        return out

    def delete_table(self, req: dict[str, Any]) -> dict[str, Any]:
        with self.store.lock:
            table = self.described_table(req.get("TableName"))
            if table.deletion_protection:
                raise validation(
                    "Resource cannot be deleted as it is currently protected against deletion. "
                    "Disable deletion protection first."
                )
            desc = self.describe(table)
            self.store.drop_table(table)
            del self.tables[table.name]
        desc["TableStatus"] = "DELETING"
        return {"TableDescription": desc}

    def update_table(self, req: dict[str, Any]) -> dict[str, Any]:
        with self.store.lock:
            table = self.described_table(req.get("TableName"))
            updates = req.get("GlobalSecondaryIndexUpdates") or []
            keys = ("ProvisionedThroughput", "BillingMode", "StreamSpecification")
            keys += ("DeletionProtectionEnabled", "SSESpecification", "TableClass")
            if not updates and not any(k in req for k in keys):
                raise validation(
                    "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                    "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
                )
            new = T.Table.from_json(table.to_json())  # edit a copy; commit only if valid
            billing = req.get("BillingMode") or new.billing_mode
            if "BillingMode" in req or "ProvisionedThroughput" in req:
                tp = T.parse_throughput(billing, req.get("ProvisionedThroughput"), "table")
                if billing == "PROVISIONED" and tp is None:
                    tp = new.throughput
                new.billing_mode = billing
                new.throughput = tp or {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
            if "DeletionProtectionEnabled" in req:
                new.deletion_protection = bool(req["DeletionProtectionEnabled"])
            if "StreamSpecification" in req:
                new.stream = req["StreamSpecification"]
            types = dict(new.attribute_types)
            types.update(T.parse_attribute_definitions(req.get("AttributeDefinitions")))
            created: list[int] = []
            dropped: list[int] = []
            for update in updates:
                self._apply_index_update(new, update, types, billing, created, dropped)
            new.attribute_types = {n: t for n, t in types.items() if n in new.key_attribute_names()}
            with self.store.transaction():
                for iid in dropped:
                    self.store.drop_index(table, iid)
                self.store.save_table(new)
                for iid in created:
                    self.store.backfill_index(new, iid)
            self.tables[new.name] = new
        return {"TableDescription": self.describe(new)}

    def _apply_index_update(
        self,
        table: T.Table,
        update: dict[str, Any],
        types: dict[str, str],
        billing: str,
        created: list[int],
        dropped: list[int],
    ) -> None:
        if "Create" in update:
            spec = update["Create"]
            if spec.get("IndexName") in table.indexes:
                raise validation("Attempting to create an index which already exists")
            if sum(1 for i in table.indexes.values() if i.kind == "GSI") >= MAX_GSI:
                raise AwsError("LimitExceededException", "Too many global secondary indexes")
            iid = max((i.iid for i in table.indexes.values()), default=0) + 1
            index = T.parse_index(
                spec, "GSI", iid, types, billing, table.hash_name, table.range_name
            )
            table.indexes[index.name] = index
            created.append(iid)
        elif "Delete" in update:
            name = update["Delete"].get("IndexName")
            index = table.indexes.get(name)
            if index is None or index.kind != "GSI":
                raise not_found(f"Requested resource not found: Index: {name} not found")
            del table.indexes[name]
            dropped.append(index.iid)
        elif "Update" in update:
            name = update["Update"].get("IndexName")
            index = table.indexes.get(name)
            if index is None or index.kind != "GSI":
                raise not_found(f"Requested resource not found: Index: {name} not found")
            index.throughput = T.parse_throughput(
                billing, update["Update"].get("ProvisionedThroughput"), name
            )

    # -- TTL
    def update_time_to_live(self, req: dict[str, Any]) -> dict[str, Any]:
        spec = req.get("TimeToLiveSpecification") or {}
        enabled = bool(spec.get("Enabled"))
        attribute = spec.get("AttributeName")
        if not attribute:
            raise validation("TimeToLiveSpecification.AttributeName must be specified")
        with self.store.lock:
            table = self.table(req.get("TableName"))
            if enabled and table.ttl_enabled:
                raise validation("TimeToLive is already enabled")
            if not enabled and not table.ttl_enabled:
                raise validation("TimeToLive is already disabled")
            if not enabled and attribute != table.ttl_attribute:
                raise validation("TimeToLive is active on a different AttributeName")
            new = T.Table.from_json(table.to_json())
            new.ttl_enabled = enabled
            new.ttl_attribute = attribute
            with self.store.transaction():
                self.store.save_table(new)
                self.store.refresh_ttl(new)
            self.tables[new.name] = new
        return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}

    def describe_time_to_live(self, req: dict[str, Any]) -> dict[str, Any]:
        table = self.table(req.get("TableName"))
        if not table.ttl_attribute:
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        status = "ENABLED" if table.ttl_enabled else "DISABLED"
        return {
            "TimeToLiveDescription": {
                "TimeToLiveStatus": status,
                "AttributeName": table.ttl_attribute,
            }
        }

    # -- tags
    def tag_resource(self, req: dict[str, Any]) -> dict[str, Any]:
        with self.store.lock:
            table = self.table_by_arn(req.get("ResourceArn"))
            for tag in req.get("Tags") or []:
                table.tags[tag["Key"]] = tag["Value"]
            self.store.save_table(table)
        return {}

    def untag_resource(self, req: dict[str, Any]) -> dict[str, Any]:
        with self.store.lock:
            table = self.table_by_arn(req.get("ResourceArn"))
            for key in req.get("TagKeys") or []:
                table.tags.pop(key, None)
            self.store.save_table(table)
        return {}

    def list_tags_of_resource(self, req: dict[str, Any]) -> dict[str, Any]:
        table = self.table_by_arn(req.get("ResourceArn"))
        return {"Tags": [{"Key": k, "Value": v} for k, v in table.tags.items()]}
