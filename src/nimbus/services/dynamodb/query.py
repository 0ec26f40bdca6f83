"""Query and Scan: key ranges become SQL ranges over the order-preserving key bytes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from nimbus.aws.errors import validation
from nimbus.services.dynamodb import common as C
from nimbus.services.dynamodb import keys as K
from nimbus.services.dynamodb import legacy
from nimbus.services.dynamodb import values as V
from nimbus.services.dynamodb.expressions.evaluator import evaluate, project, top_level_names
from nimbus.services.dynamodb.keycondition import KeyRange, analyze
from nimbus.services.dynamodb.store import loads

if TYPE_CHECKING:
    from nimbus.services.dynamodb.store import Store
    from nimbus.services.dynamodb.tables import Index, Table

PAGE_BYTES = 1024 * 1024
_SELECTS = ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT")


class _Plan:
    """What both Query and Scan share: index, projection, filter, limit, select."""

    def __init__(self, table: Table, req: dict[str, Any], key_expr: bool) -> None:
        self.table = table
        self.index: Index | None = None
        name = req.get("IndexName")
        if name is not None:
            self.index = table.indexes.get(name)
            if self.index is None:
                raise validation(f"The table does not have the specified index: {name}")
            if self.index.kind == "GSI" and req.get("ConsistentRead"):
                raise validation("Consistent reads are not supported on global secondary indexes")
        self.schema = self.index.schema if self.index else table.schema
        legacy.check_not_mixed(req)
        keys = ("KeyConditionExpression",) if key_expr else ()
        b = C.bindings(req, *keys, "FilterExpression", "ProjectionExpression")
        self.key_ast = b.parse(req.get("KeyConditionExpression"), "key") if key_expr else None
        if key_expr and self.key_ast is None:
            self.key_ast = legacy.conditions(req.get("KeyConditions"), None)
        self.filter = b.parse(req.get("FilterExpression"), "filter")
        if self.filter is None:
            old_filter = req.get("QueryFilter" if key_expr else "ScanFilter")
            self.filter = legacy.conditions(old_filter, req.get("ConditionalOperator"))
        self.paths = b.parse(req.get("ProjectionExpression"), "projection")
        b.check_unused()
        if self.paths is None and req.get("AttributesToGet") is not None:
            self.paths = C.legacy_projection(req["AttributesToGet"])
        self.select = self._select(req)
        self.limit = req.get("Limit")
        if self.limit is not None and self.limit < 1:
            raise validation(
                f"1 validation error detected: Value '{self.limit}' at 'limit' failed to "
                "satisfy constraint: Member must have value greater than or equal to 1"
            )

    def _select(self, req: dict[str, Any]) -> str:
        select = req.get("Select")
        if select is not None and select not in _SELECTS:
            raise validation(f"Invalid Select value: {select}")
        if self.paths is not None:
            if select not in (None, "SPECIFIC_ATTRIBUTES"):
                raise validation(
                    "Cannot specify the ProjectionExpression when choosing to get " + select
                )
            return "SPECIFIC_ATTRIBUTES"
        if select == "SPECIFIC_ATTRIBUTES":
            raise validation(
                "Select type SPECIFIC_ATTRIBUTES requires a ProjectionExpression or AttributesToGet"
            )
        index = self.index
        if select is None:
            select = "ALL_PROJECTED_ATTRIBUTES" if index else "ALL_ATTRIBUTES"
        if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
            raise validation(
                "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
            )
        if (
            select == "ALL_ATTRIBUTES"
            and index is not None
            and index.kind == "GSI"
            and index.projection["ProjectionType"] != "ALL"
        ):
            raise validation(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
                f"supported for global secondary index {index.name} because its projection "
                "type is not ALL"
            )
        return select

    def shape(self, item: V.Item) -> V.Item:
        """The item as this index exposes it (its projection), before ProjectionExpression."""
        index = self.index
        if index is None or index.projection["ProjectionType"] == "ALL":
            return item
        if self.select == "ALL_ATTRIBUTES":  # LSIs fetch the rest from the table
            return item
        keep = set(self.table.schema.names) | set(index.schema.names)
        keep.update(index.projection.get("NonKeyAttributes", ()))
        return {k: v for k, v in item.items() if k in keep}

    def start_key(self, esk: Any) -> tuple[bytes, bytes, bytes, bytes] | None:
        """(index pk, index sk, table pk, table sk) of ExclusiveStartKey."""
        if esk is None:
            return None
        norm, _ = V.check_item(esk)
        names = set(self.table.schema.names) | set(self.schema.names)
        if set(norm) != names:
            raise validation(
                "The provided starting key is invalid: The provided key element "
                "does not match the schema"
            )
        try:
            tpk, tsk = K.check_item_key(self.table.schema, norm)
            ipk, isk = K.check_item_key(self.schema, norm)
        except Exception:
            raise validation(
                "The provided starting key is invalid: The provided key element does not match "
                "the schema"
            ) from None
        return ipk, isk, tpk, tsk

    def last_key(self, item: V.Item) -> V.Item:
        names = self.table.schema.names + (self.index.schema.names if self.index else ())
        return {n: item[n] for n in names}

    def run(self, rows: Iterator[tuple[bytes, int]]) -> dict[str, Any]:
        """Consume (item blob, size) rows until Limit or 1 MB; filter; shape the answer."""
        items: list[V.Item] = []
        scanned = 0
        total = 0
        last: V.Item | None = None
        for blob, size in rows:
            if (self.limit is not None and scanned >= self.limit) or total >= PAGE_BYTES:
                break
            item = loads(blob)
            scanned += 1
            total += size
            last = item
            if self.filter is not None and not evaluate(self.filter, item):
                continue
            items.append(item)
        else:
            last = None
        out: dict[str, Any] = {"Count": len(items), "ScannedCount": scanned}
        if self.select != "COUNT":
            shaped = [self.shape(i) for i in items]
            out["Items"] = [project(i, self.paths) for i in shaped] if self.paths else shaped
        if last is not None:
            out["LastEvaluatedKey"] = self.last_key(last)
        return out


_IDX_SELECT = (
    "SELECT t.item, t.size FROM idx i JOIN items t ON t.tid=i.tid AND t.h=i.th AND t.pk=i.tpk "
    "AND t.sk=i.tsk WHERE i.tid=? AND i.iid=?"
)


class QueryOps:
    store: Store
    table: Any

    def query(self, req: dict[str, Any]) -> dict[str, Any]:
        table: Table = self.table(req.get("TableName"))
        if req.get("KeyConditionExpression") is None and not req.get("KeyConditions"):
            raise validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified "
                "in the request."
            )
        plan = _Plan(table, req, key_expr=True)
        if plan.filter is not None:
            for name in plan.schema.names:
                if name in top_level_names(plan.filter):
                    raise validation(
                        "Filter Expression can only contain non-primary key attributes: "
                        f"Primary key attribute: {name}"
                    )
        rng: KeyRange = analyze(plan.key_ast, plan.schema)
        start = plan.start_key(req.get("ExclusiveStartKey"))
        forward = req.get("ScanIndexForward", True) is not False
        op = ">" if forward else "<"
        order = "ASC" if forward else "DESC"
        if plan.index is None:
            sql = "SELECT item, size FROM items WHERE tid=? AND h=? AND pk=?"
            params: list[Any] = [table.tid, K.bucket(rng.pk), rng.pk]
            col = "sk"
            if start:
                sql += f" AND sk {op} ?"
                params.append(start[3])
            tail = f" ORDER BY sk {order}"
        else:
            sql = _IDX_SELECT + " AND i.h=? AND i.pk=?"
            params = [table.tid, plan.index.iid, K.bucket(rng.pk), rng.pk]
            col = "i.sk"
            if start:
                sql += f" AND (i.sk, i.tpk, i.tsk) {op} (?, ?, ?)"
                params += [start[1], start[2], start[3]]
            tail = f" ORDER BY i.sk {order}, i.tpk {order}, i.tsk {order}"
        for clause, value in rng.sk_clauses:
            sql += f" AND {col} {clause} ?"
            params.append(value)
        with self.store.lock:
            cursor = self.store.conn.execute(sql + tail, params)
            out = plan.run(iter(cursor))
        return C.capacity(req, table, 0.5 if not req.get("ConsistentRead") else 1.0, out)

    def scan(self, req: dict[str, Any]) -> dict[str, Any]:
        table: Table = self.table(req.get("TableName"))
        plan = _Plan(table, req, key_expr=False)
        segment, total = req.get("Segment"), req.get("TotalSegments")
        if segment is not None and total is None:
            raise validation(
                "The TotalSegments parameter is required but was not present in the request "
                "when Segment parameter is present"
            )
        if total is not None and segment is None:
            raise validation(
                "The Segment parameter is required but was not present in the request when "
                "parameter TotalSegments is present"
            )
        start = plan.start_key(req.get("ExclusiveStartKey"))
        if plan.index is None:
            sql = "SELECT item, size FROM items WHERE tid=?"
            params: list[Any] = [table.tid]
            prefix = ""
        else:
            sql = _IDX_SELECT
            params = [table.tid, plan.index.iid]
            prefix = "i."
        if total is not None:
            if not 1 <= total <= 1000000 or not 0 <= segment < total:
                raise validation(
                    "The Segment parameter is zero-based and must be less than parameter "
                    f"TotalSegments: Segment: {segment} is not less than TotalSegments: {total}"
                )
            sql += f" AND {prefix}h < ?"
            params.append((segment + 1) * 2**32 // total)
            if not start:  # with a start key the row-value bound below is the (indexed) start
                sql += f" AND {prefix}h >= ?"
                params.append(segment * 2**32 // total)
        if start:
            ipk, isk, tpk, tsk = start
            if plan.index is None:
                sql += " AND (h, pk, sk) > (?, ?, ?)"
                params += [K.bucket(tpk), tpk, tsk]
            else:
                sql += " AND (i.h, i.pk, i.sk, i.tpk, i.tsk) > (?, ?, ?, ?, ?)"
                params += [K.bucket(ipk), ipk, isk, tpk, tsk]
        if plan.index is None:
            sql += " ORDER BY h, pk, sk"
        else:
            sql += " ORDER BY i.h, i.pk, i.sk, i.tpk, i.tsk"
        with self.store.lock:
            cursor = self.store.conn.execute(sql, params)
            out = plan.run(iter(cursor))
        return C.capacity(req, table, 0.5, out)
