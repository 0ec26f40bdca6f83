"""BatchGetItem, BatchWriteItem, TransactWriteItems, TransactGetItems."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import AwsError, validation
from nimbus.services.dynamodb import common as C
from nimbus.services.dynamodb import keys as K
from nimbus.services.dynamodb import values as V
from nimbus.services.dynamodb.expressions.evaluator import evaluate, project

if TYPE_CHECKING:
    from nimbus.services.dynamodb.store import Store
    from nimbus.services.dynamodb.tables import Table

MAX_BATCH_GET = 100
MAX_BATCH_WRITE = 25
MAX_TRANSACT = 100
TOKEN_TTL = 600.0
_ACTIONS = ("ConditionCheck", "Put", "Delete", "Update")


class _Write:
    """One validated TransactWriteItems action, ready to check and apply."""

    def __init__(self, ops: Any, kind: str, spec: dict[str, Any]) -> None:
        self.kind = kind
        self.spec = spec
        self.table: Table = ops.table(spec.get("TableName"))
        schema = self.table.schema
        self.item: V.Item | None = None
        self.size = 0
        if kind == "Put":
            self.item, self.size = V.check_item(spec.get("Item"))
            V.check_item_size(self.size)
            self.pk, self.sk = K.check_item_key(schema, self.item)
            C.check_index_keys(self.table, self.item)
            self.key = schema.extract(self.item)
        else:
            self.key, self.pk, self.sk = K.check_key(schema, spec.get("Key"))
        exprs = ["ConditionExpression"] + (["UpdateExpression"] if kind == "Update" else [])
        b = C.bindings(spec, *exprs)
        self.update = b.parse(spec.get("UpdateExpression"), "update") if kind == "Update" else None
        self.cond = b.parse(spec.get("ConditionExpression"), "condition")
        if kind == "ConditionCheck" and self.cond is None:
            raise validation("The ConditionExpression is required for ConditionCheck")
        b.check_unused()

    @property
    def identity(self) -> tuple[str, bytes, bytes]:
        return self.table.name, self.pk, self.sk


class BatchOps:
    store: Store
    table: Any
    apply_update: Any

    def batch_get_item(self, req: dict[str, Any]) -> dict[str, Any]:
        request_items = req.get("RequestItems") or {}
        total = sum(len(spec.get("Keys") or []) for spec in request_items.values())
        if total > MAX_BATCH_GET:
            raise validation("Too many items requested for the BatchGetItem call")
        plans = []
        for name, spec in request_items.items():
            table = self.table(name)
            b = C.bindings(spec, "ProjectionExpression")
            paths = b.parse(spec.get("ProjectionExpression"), "projection")
            b.check_unused()
            if paths is None:
                paths = C.legacy_projection(spec.get("AttributesToGet"))
            encoded = [K.check_key(table.schema, key)[1:] for key in spec.get("Keys") or []]
            if len(set(encoded)) != len(encoded):
                raise validation("Provided list of item keys contains duplicates")
            plans.append((table, paths, encoded))
        responses: dict[str, list[V.Item]] = {}
        consumed = []
        with self.store.lock:
            for table, paths, encoded in plans:
                found = responses.setdefault(table.name, [])
                for pk, sk in encoded:
                    item = self.store.get(table.tid, pk, sk)
                    if item is not None:
                        found.append(project(item, paths) if paths else item)
                consumed.append({"TableName": table.name, "CapacityUnits": 0.5 * len(encoded)})
        out: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": {}}
        if req.get("ReturnConsumedCapacity") in C.RETURN_CONSUMED:
            out["ConsumedCapacity"] = consumed
        return out

    def batch_write_item(self, req: dict[str, Any]) -> dict[str, Any]:
        request_items = req.get("RequestItems") or {}
        total = sum(len(reqs or []) for reqs in request_items.values())
        if total > MAX_BATCH_WRITE or total == 0:
            raise validation(
                "1 validation error detected: Value at 'requestItems' failed to satisfy "
                "constraint: Map value must satisfy constraint: [Member must have length less "
                "than or equal to 25, Member must have length greater than or equal to 1]"
            )
        writes = []
        for name, reqs in request_items.items():
            table = self.table(name)
            seen: set[tuple[bytes, bytes]] = set()
            for entry in reqs:
                if "PutRequest" in entry:
                    item, size = V.check_item(entry["PutRequest"].get("Item"))
                    V.check_item_size(size)
                    pk, sk = K.check_item_key(table.schema, item)
                    C.check_index_keys(table, item)
                    writes.append((table, pk, sk, item, size))
                elif "DeleteRequest" in entry:
                    _, pk, sk = K.check_key(table.schema, entry["DeleteRequest"].get("Key"))
                    writes.append((table, pk, sk, None, 0))
                else:
                    raise validation(
                        "Supplied AttributeValue has more than one datatypes set, must contain "
                        "exactly one of the supported datatypes"
                    )
                if (pk, sk) in seen:
                    raise validation("Provided list of item keys contains duplicates")
                seen.add((pk, sk))
        with self.store.transaction():
            for table, pk, sk, item, size in writes:
                old = self.store.get(table.tid, pk, sk) if table.indexes else None
                self.store.write(table, pk, sk, old, item, size)
        out: dict[str, Any] = {"UnprocessedItems": {}}
        if req.get("ReturnConsumedCapacity") in C.RETURN_CONSUMED:
            per_table: dict[str, float] = {}
            for table, _, _, _, size in writes:
                per_table[table.name] = per_table.get(table.name, 0.0) + C.write_units(size)
            out["ConsumedCapacity"] = [
                {"TableName": n, "CapacityUnits": u} for n, u in per_table.items()
            ]
        return out

    def transact_write_items(self, req: dict[str, Any]) -> dict[str, Any]:
        entries = req.get("TransactItems") or []
        if not 1 <= len(entries) <= MAX_TRANSACT:
            raise validation(
                f"1 validation error detected: Value '{entries}' at 'transactItems' failed to "
                "satisfy constraint: Member must have length less than or equal to 100"
            )
        writes = []
        for entry in entries:
            kinds = [k for k in _ACTIONS if k in entry]
            if len(kinds) != 1:
                raise validation(
                    "TransactItems can only contain one of Check, Put, Update or Delete"
                )
            writes.append(_Write(self, kinds[0], entry[kinds[0]]))
        if len({w.identity for w in writes}) != len(writes):
            raise validation("Transaction request cannot include multiple operations on one item")
        token = req.get("ClientRequestToken")
        with self.store.transaction():
            if token and self._replayed(token, req):
                return {}
            olds = [self.store.get(w.table.tid, w.pk, w.sk) for w in writes]
            reasons: list[dict[str, Any]] = []
            results: list[tuple[V.Item | None, int]] = []
            for w, old in zip(writes, olds, strict=True):
                reason: dict[str, Any] = {"Code": "None"}
                result: tuple[V.Item | None, int] = (old, 0)
                if w.cond is not None and not evaluate(w.cond, old or {}):
                    reason = {
                        "Code": "ConditionalCheckFailed",
                        "Message": "The conditional request failed",
                    }
                    if old and w.spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
                        reason["Item"] = old
                else:
                    try:
                        result = self._transact_result(w, old)
                    except AwsError as exc:
                        reason = {"Code": "ValidationError", "Message": exc.message}
                reasons.append(reason)
                results.append(result)
            if any(r["Code"] != "None" for r in reasons):
                codes = ", ".join(r["Code"] for r in reasons)
                raise AwsError(
                    "TransactionCanceledException",
                    "Transaction cancelled, please refer cancellation reasons for specific "
                    f"reasons [{codes}]",
                    400,
                    extra={"CancellationReasons": reasons},
                )
            for w, old, (new, size) in zip(writes, olds, results, strict=True):
                if w.kind != "ConditionCheck" and (old is not None or new is not None):
                    self.store.write(w.table, w.pk, w.sk, old, new, size)
        return {}

    def _transact_result(self, w: _Write, old: V.Item | None) -> tuple[V.Item | None, int]:
        if w.kind == "Put":
            return w.item, w.size
        if w.kind == "Delete":
            return None, 0
        if w.kind == "ConditionCheck":
            return old, 0
        new, _ = self.apply_update(w.table, old, w.key, w.update)
        new, size = V.check_item(new)
        V.check_item_size(size)
        return new, size

    def _replayed(self, token: str, req: dict[str, Any]) -> bool:
        """ClientRequestToken idempotency: a repeat within 10 minutes is not applied again."""
        digest = hashlib.sha256(repr(req.get("TransactItems")).encode()).hexdigest()
        conn = self.store.conn
        now = time.time()
        conn.execute("DELETE FROM tx_tokens WHERE created < ?", (now - TOKEN_TTL,))
        row = conn.execute("SELECT digest FROM tx_tokens WHERE token=?", (token,)).fetchone()
        if row is None:
            conn.execute("INSERT INTO tx_tokens VALUES (?,?,?)", (token, now, digest))
            return False
        if row[0] != digest:
            raise AwsError(
                "IdempotentParameterMismatchException",
                "Request token has been used with a different set of parameters",
            )
        return True

    def transact_get_items(self, req: dict[str, Any]) -> dict[str, Any]:
        entries = req.get("TransactItems") or []
        if not 1 <= len(entries) <= MAX_TRANSACT:
            raise validation(
                "1 validation error detected: Value at 'transactItems' failed to satisfy "
                "constraint: Member must have length less than or equal to 100"
            )
        plans = []
        for entry in entries:
            spec = entry.get("Get") or {}
            table = self.table(spec.get("TableName"))
            _, pk, sk = K.check_key(table.schema, spec.get("Key"))
            b = C.bindings(spec, "ProjectionExpression")
            paths = b.parse(spec.get("ProjectionExpression"), "projection")
            b.check_unused()
            plans.append((table, pk, sk, paths))
        responses = []
        with self.store.lock:
            for table, pk, sk, paths in plans:
                item = self.store.get(table.tid, pk, sk)
                if item is None:
                    responses.append({})
                else:
                    responses.append({"Item": project(item, paths) if paths else item})
        return {"Responses": responses}
