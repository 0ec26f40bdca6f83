"""Table and index metadata: CreateTable validation and the TableDescription shape."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from nimbus.aws.errors import validation
from nimbus.services.dynamodb.keys import KeySchema

_NAME_RE = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
_INDEX_NAME_RE = re.compile(r"[a-zA-Z0-9_.-]{3,255}")


def _invalid(detail: str) -> Exception:
    return validation(f"One or more parameter values were invalid: {detail}")


@dataclass(slots=True)
class Index:
    name: str
    kind: str  # GSI | LSI
    iid: int
    hash_name: str
    hash_type: str
    range_name: str | None
    range_type: str | None
    projection: dict[str, Any]
    throughput: dict[str, int] | None = None
    schema: KeySchema = field(init=False)

    def __post_init__(self) -> None:
        self.schema = KeySchema(self.hash_name, self.hash_type, self.range_name, self.range_type)


@dataclass(slots=True)
class Table:
    tid: int
    name: str
    table_id: str
    arn: str
    hash_name: str
    hash_type: str
    range_name: str | None
    range_type: str | None
    attribute_types: dict[str, str]
    billing_mode: str
    throughput: dict[str, int]
    created: float
    indexes: dict[str, Index] = field(default_factory=dict)
    ttl_attribute: str | None = None
    ttl_enabled: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    deletion_protection: bool = False
    stream: dict[str, Any] | None = None
    schema: KeySchema = field(init=False)

    def __post_init__(self) -> None:
        self.schema = KeySchema(self.hash_name, self.hash_type, self.range_name, self.range_type)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("schema")
        data["indexes"] = {}
        for name, index in self.indexes.items():
            d = asdict(index)
            d.pop("schema")
            data["indexes"][name] = d
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Table:
        data = dict(data)
        indexes = {n: Index(**d) for n, d in data.pop("indexes").items()}
        return cls(**data, indexes=indexes)

    def key_attribute_names(self) -> set[str]:
        names = set(self.schema.names)
        for index in self.indexes.values():
            names.update(index.schema.names)
        return names

    def describe(
        self,
        item_count: int,
        size_bytes: int,
        index_stats: dict[int, tuple[int, int]] | None = None,
    ) -> dict[str, Any]:
        created = datetime.fromtimestamp(self.created, UTC)
        desc: dict[str, Any] = {
            "AttributeDefinitions": [
                {"AttributeName": n, "AttributeType": t} for n, t in self.attribute_types.items()
            ],
            "TableName": self.name,
            "KeySchema": self.schema.to_wire(),
            "TableStatus": "ACTIVE",
            "CreationDateTime": created,
            "ProvisionedThroughput": {"NumberOfDecreasesToday": 0, **self.throughput},
            "TableSizeBytes": size_bytes,
            "ItemCount": item_count,
            "TableArn": self.arn,
            "TableId": self.table_id,
            "DeletionProtectionEnabled": self.deletion_protection,
        }
        if self.billing_mode == "PAY_PER_REQUEST":
            desc["BillingModeSummary"] = {
                "BillingMode": "PAY_PER_REQUEST",
                "LastUpdateToPayPerRequestDateTime": created,
            }
        if self.stream:
            desc["StreamSpecification"] = self.stream
        gsis, lsis = [], []
        for index in self.indexes.values():
            d: dict[str, Any] = {
                "IndexName": index.name,
                "KeySchema": index.schema.to_wire(),
                "Projection": index.projection,
                "IndexSizeBytes": (index_stats or {}).get(index.iid, (0, 0))[1],
                "ItemCount": (index_stats or {}).get(index.iid, (0, 0))[0],
                "IndexArn": f"{self.arn}/index/{index.name}",
            }
            if index.kind == "GSI":
                d["IndexStatus"] = "ACTIVE"
                d["ProvisionedThroughput"] = {
                    "NumberOfDecreasesToday": 0,
                    **(index.throughput or {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}),
                }
                gsis.append(d)
            else:
                lsis.append(d)
        if gsis:
            desc["GlobalSecondaryIndexes"] = gsis
        if lsis:
            desc["LocalSecondaryIndexes"] = lsis
        return desc


def check_table_name(name: Any) -> str:
    if not isinstance(name, str) or not 3 <= len(name) <= 255:
        bound = "greater than or equal to 3" if len(name or "") < 3 else "less than or equal to 255"
        raise validation(
            f"1 validation error detected: Value '{name}' at 'tableName' failed to satisfy "
            f"constraint: Member must have length {bound}"
        )
    if not _NAME_RE.fullmatch(name):
        raise validation(
            f"1 validation error detected: Value '{name}' at 'tableName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    return name


def parse_key_schema(elements: Any, types: dict[str, str], where: str) -> tuple[str, str | None]:
    if not isinstance(elements, list) or not 1 <= len(elements) <= 2:
        raise validation(
            f"1 validation error detected: Value '{elements}' at '{where}' failed to satisfy "
            "constraint: Member must have length less than or equal to 2"
        )
    if elements[0].get("KeyType") != "HASH":
        raise validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    hash_name = elements[0]["AttributeName"]
    range_name = None
    if len(elements) == 2:
        if elements[1].get("KeyType") != "RANGE":
            raise validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"
            )
        range_name = elements[1]["AttributeName"]
        if range_name == hash_name:
            raise _invalid(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name"
            )
    for name in (hash_name, range_name):
        if name is not None and name not in types:
            raise _invalid(
                "Some index key attributes are not defined in AttributeDefinitions. "
                f"Keys: [{', '.join(e['AttributeName'] for e in elements)}], "
                f"AttributeDefinitions: [{', '.join(types)}]"
            )
    return hash_name, range_name


def parse_attribute_definitions(defs: Any) -> dict[str, str]:
    types: dict[str, str] = {}
    for i, d in enumerate(defs or [], start=1):
        typ = d.get("AttributeType")
        if typ not in ("S", "N", "B"):
            raise validation(
                f"1 validation error detected: Value '{typ}' at "
                f"'attributeDefinitions.{i}.member.attributeType' failed to satisfy constraint: "
                "Member must satisfy enum value set: [B, N, S]"
            )
        if d["AttributeName"] in types:
            raise _invalid(f"Duplicate attribute name: {d['AttributeName']}")
        types[d["AttributeName"]] = typ
    return types


def parse_throughput(billing_mode: str, throughput: Any, what: str) -> dict[str, int] | None:
    if billing_mode == "PAY_PER_REQUEST":
        if throughput:
            raise _invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                "BillingMode is PAY_PER_REQUEST"
            )
        return None
    if not throughput:
        if what == "table":
            raise _invalid(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when "
                "BillingMode is PROVISIONED"
            )
        raise _invalid(f"ProvisionedThroughput is not specified for index: {what}")
    rcu, wcu = throughput.get("ReadCapacityUnits"), throughput.get("WriteCapacityUnits")
    for value in (rcu, wcu):
        if not isinstance(value, int) or value < 1:
            raise validation(
                "1 validation error detected: Value '0' at 'provisionedThroughput' failed to "
                "satisfy constraint: Member must have value greater than or equal to 1"
            )
    return {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu}


def parse_projection(projection: Any) -> dict[str, Any]:
    projection = dict(projection or {})
    ptype = projection.get("ProjectionType", "ALL") if projection else None
    if ptype not in ("ALL", "KEYS_ONLY", "INCLUDE"):
        raise _invalid("Unknown ProjectionType: " + str(ptype))
    if ptype == "INCLUDE":
        if not projection.get("NonKeyAttributes"):
            raise _invalid("NonKeyAttributes must be specified when ProjectionType is INCLUDE")
    elif projection.get("NonKeyAttributes"):
        raise _invalid(f"ProjectionType is {ptype}, but NonKeyAttributes is specified")
    out: dict[str, Any] = {"ProjectionType": ptype}
    if ptype == "INCLUDE":
        out["NonKeyAttributes"] = list(projection["NonKeyAttributes"])
    return out


def parse_index(
    spec: dict[str, Any],
    kind: str,
    iid: int,
    types: dict[str, str],
    billing_mode: str,
    table_hash: str,
    table_range: str | None,
) -> Index:
    name = spec.get("IndexName")
    if not isinstance(name, str) or not _INDEX_NAME_RE.fullmatch(name):
        raise validation(
            f"1 validation error detected: Value '{name}' at 'indexName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    hash_name, range_name = parse_key_schema(spec.get("KeySchema"), types, "keySchema")
    if kind == "LSI":
        if table_range is None:
            raise _invalid(
                "Table KeySchema does not have a range key, which is required when specifying "
                "a LocalSecondaryIndex"
            )
        if range_name is None:
            raise _invalid(f"Index KeySchema does not have a range key for index: {name}")
        if hash_name != table_hash:
            raise _invalid(
                "Index KeySchema does not have the same leading hash key as table KeySchema "
                f"for index: {name}. index hash key: {hash_name}, table hash key: {table_hash}"
            )
    throughput = None
    if kind == "GSI":
        throughput = parse_throughput(billing_mode, spec.get("ProvisionedThroughput"), name)
    return Index(
        name=name,
        kind=kind,
        iid=iid,
        hash_name=hash_name,
        hash_type=types[hash_name],
        range_name=range_name,
        range_type=types[range_name] if range_name else None,
        projection=parse_projection(spec.get("Projection")),
        throughput=throughput,
    )


def check_definitions_used(types: dict[str, str], table: Table) -> None:
    if set(types) != table.key_attribute_names():
        raise _invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes "
            "defined in AttributeDefinitions"
        )
