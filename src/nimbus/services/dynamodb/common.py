"""Helpers shared by item, query and batch operations."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import AwsError, validation
from nimbus.services.dynamodb import values as V
from nimbus.services.dynamodb.expressions.evaluator import Bindings
from nimbus.services.dynamodb.tables import Table

if TYPE_CHECKING:
    from nimbus.services.dynamodb.store import Store

RETURN_CONSUMED = ("TOTAL", "INDEXES")


def bindings(req: dict[str, Any], *expression_keys: str) -> Bindings:
    """Bindings for a request, rejecting names/values that come without any expression."""
    names = req.get("ExpressionAttributeNames")
    values = req.get("ExpressionAttributeValues")
    if not any(req.get(k) is not None for k in expression_keys):
        if names is not None:
            raise validation(
                "ExpressionAttributeNames can only be specified when using expressions"
            )
        if values is not None:
            raise validation(
                "ExpressionAttributeValues can only be specified when using expressions"
            )
    return Bindings(names, values)


def legacy_projection(attributes: list[str] | None) -> list[Any] | None:
    if attributes is None:
        return None
    return [("path", (name,)) for name in attributes]


def check_index_keys(table: Table, item: V.Item) -> None:
    """Attributes that are index keys must have the index's key type."""
    for index in table.indexes.values():
        for name, want in (
            (index.hash_name, index.hash_type),
            (index.range_name, index.range_type),
        ):
            if name is None or name not in item:
                continue
            typ = V.type_of(item[name])
            if typ != want:
                raise validation(
                    "One or more parameter values were invalid: Type mismatch for Index Key "
                    f"{name} Expected: {want} Actual: {typ} IndexName: {index.name}"
                )
            if typ in ("S", "B") and not item[name][typ]:
                raise validation(
                    "One or more parameter values are not valid. A value specified for a "
                    "secondary index key is not supported. The AttributeValue for a key "
                    f"attribute cannot contain an empty {'string' if typ == 'S' else 'binary'}"
                    f" value. IndexName: {index.name}, IndexKey: {name}"
                )


def conditional_failed(old: V.Item | None, req: dict[str, Any]) -> AwsError:
    extra = {}
    if old and req.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
        extra["Item"] = old
    return AwsError(
        "ConditionalCheckFailedException", "The conditional request failed", 400, extra=extra
    )


def capacity(
    req: dict[str, Any], table: Table, units: float, out: dict[str, Any]
) -> dict[str, Any]:
    mode = req.get("ReturnConsumedCapacity")
    if mode in RETURN_CONSUMED:
        cc: dict[str, Any] = {"TableName": table.name, "CapacityUnits": units}
        if mode == "INDEXES":
            cc["Table"] = {"CapacityUnits": units}
        out["ConsumedCapacity"] = cc
    return out


def write_units(size: int) -> float:
    return float(max(1, math.ceil(size / 1024)))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units if consistent else units / 2)


def stored_size(store: Store, item: V.Item | None) -> int:
    return V.item_size(item) if item else 0
