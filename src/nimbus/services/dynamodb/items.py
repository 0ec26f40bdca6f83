"""PutItem, GetItem, UpdateItem, DeleteItem."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import validation
from nimbus.services.dynamodb import common as C
from nimbus.services.dynamodb import keys as K
from nimbus.services.dynamodb import legacy
from nimbus.services.dynamodb import values as V
from nimbus.services.dynamodb.expressions import update as U
from nimbus.services.dynamodb.expressions.evaluator import evaluate, project
from nimbus.services.dynamodb.keys import bucket
from nimbus.services.dynamodb.store import PUT, dumps, ttl_of

if TYPE_CHECKING:
    from nimbus.services.dynamodb.store import Store
    from nimbus.services.dynamodb.tables import Table

_PUT_RETURN = ("NONE", "ALL_OLD")
_UPDATE_RETURN = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")


def _check_return_values(req: dict[str, Any], allowed: tuple[str, ...]) -> str:
    rv = req.get("ReturnValues") or "NONE"
    if rv not in allowed:
        raise validation("Return values set to invalid value")
    return rv


class ItemOps:
    store: Store
    table: Any

    def put_item(self, req: dict[str, Any]) -> dict[str, Any]:
        table: Table = self.table(req.get("TableName"))
        item, size = V.check_item(req.get("Item"))
        V.check_item_size(size)
        pk, sk = K.check_item_key(table.schema, item)
        rv = _check_return_values(req, _PUT_RETURN)
        cond_src = req.get("ConditionExpression")
        if cond_src is None and rv == "NONE" and not table.indexes and "Expected" not in req:
            C.bindings(req)  # rejects stray ExpressionAttributeNames/Values
            # Lean path: one autocommitted statement, no read of the old item.
            with self.store.lock:
                self.store.conn.execute(
                    PUT, (table.tid, bucket(pk), pk, sk, dumps(item), size, ttl_of(table, item))
                )
            return C.capacity(req, table, C.write_units(size), {})
        C.check_index_keys(table, item)
        cond = self._condition(req)
        with self.store.transaction():
            old = self.store.get(table.tid, pk, sk)
            if cond is not None and not evaluate(cond, old or {}):
                raise C.conditional_failed(old, req)
            self.store.write(table, pk, sk, old, item, size)
        out: dict[str, Any] = {}
        if rv == "ALL_OLD" and old:
            out["Attributes"] = old
        return C.capacity(req, table, C.write_units(size), out)

    def get_item(self, req: dict[str, Any]) -> dict[str, Any]:
        table: Table = self.table(req.get("TableName"))
        _, pk, sk = K.check_key(table.schema, req.get("Key"))
        proj_src = req.get("ProjectionExpression")
        paths = None
        legacy.check_not_mixed(req)
        if proj_src is not None or "ExpressionAttributeNames" in req:
            b = C.bindings(req, "ProjectionExpression")
            paths = b.parse(proj_src, "projection")
            b.check_unused()
        elif "AttributesToGet" in req:
            paths = C.legacy_projection(req["AttributesToGet"])
        with self.store.lock:
            item = self.store.get(table.tid, pk, sk)
        out: dict[str, Any] = {}
        if item is not None:
            out["Item"] = project(item, paths) if paths else item
        if req.get("ReturnConsumedCapacity") in C.RETURN_CONSUMED:
            size = V.item_size(item) if item else 0
            C.capacity(req, table, C.read_units(size, bool(req.get("ConsistentRead"))), out)
        return out

    def delete_item(self, req: dict[str, Any]) -> dict[str, Any]:
        table: Table = self.table(req.get("TableName"))
        _, pk, sk = K.check_key(table.schema, req.get("Key"))
        rv = _check_return_values(req, _PUT_RETURN)
        cond = self._condition(req)
        with self.store.transaction():
            old = self.store.get(table.tid, pk, sk)
            if cond is not None and not evaluate(cond, old or {}):
                raise C.conditional_failed(old, req)
            if old is not None:
                self.store.write(table, pk, sk, old, None)
        out: dict[str, Any] = {}
        if rv == "ALL_OLD" and old:
            out["Attributes"] = old
        size = V.item_size(old) if old else 0
        return C.capacity(req, table, C.write_units(size), out)

    def update_item(self, req: dict[str, Any]) -> dict[str, Any]:
        table: Table = self.table(req.get("TableName"))
        key, pk, sk = K.check_key(table.schema, req.get("Key"))
        rv = _check_return_values(req, _UPDATE_RETURN)
        legacy.check_not_mixed(req)
        b = C.bindings(req, "ConditionExpression", "UpdateExpression")
        clauses = b.parse(req.get("UpdateExpression"), "update")
        cond = b.parse(req.get("ConditionExpression"), "condition")
        b.check_unused()
        if clauses is None:
            clauses = legacy.attribute_updates(req.get("AttributeUpdates"))
        if cond is None:
            cond = legacy.expected(req.get("Expected"), req.get("ConditionalOperator"))
        with self.store.transaction():
            old = self.store.get(table.tid, pk, sk)
            if cond is not None and not evaluate(cond, old or {}):
                raise C.conditional_failed(old, req)
            new, paths = self.apply_update(table, old, key, clauses)
            new, size = V.check_item(new)
            V.check_item_size(size)
            self.store.write(table, pk, sk, old, new, size)
        out: dict[str, Any] = {}
        attrs: V.Item | None = None
        if rv == "ALL_OLD":
            attrs = old
        elif rv == "ALL_NEW":
            attrs = new
        elif rv == "UPDATED_OLD" and old:
            attrs = project(old, [("path", p) for p in paths])
        elif rv == "UPDATED_NEW":
            attrs = project(new, [("path", p) for p in paths])
        if attrs:
            out["Attributes"] = attrs
        return C.capacity(req, table, C.write_units(size), out)

    def _condition(self, req: dict[str, Any]) -> Any:
        legacy.check_not_mixed(req)
        b = C.bindings(req, "ConditionExpression")
        cond = b.parse(req.get("ConditionExpression"), "condition")
        b.check_unused()
        if cond is None:
            cond = legacy.expected(req.get("Expected"), req.get("ConditionalOperator"))
        return cond

    def apply_update(
        self, table: Table, old: V.Item | None, key: V.Item, clauses: Any
    ) -> tuple[V.Item, list[Any]]:
        base = old if old is not None else dict(key)
        if clauses is None:
            return dict(base), []
        new, paths = U.apply(base, clauses, table.schema.names)
        C.check_index_keys(table, new)
        return new, paths
