"""The pre-expression parameters (Expected, KeyConditions, Query/ScanFilter, AttributeUpdates),
translated into the same bound trees the expression parser produces."""

from __future__ import annotations

from typing import Any

from nimbus.aws.errors import validation
from nimbus.services.dynamodb import values as V

_PAIRS = {
    "ProjectionExpression": "AttributesToGet",
    "ConditionExpression": "Expected",
    "UpdateExpression": "AttributeUpdates",
    "KeyConditionExpression": "KeyConditions",
    "FilterExpression": "QueryFilter",
}
_CMP = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}
_ARITY = {"NOT_NULL": 0, "NULL": 0, "IN": None, "BETWEEN": 2}


def check_not_mixed(req: dict[str, Any]) -> None:
    expression = sorted(k for k in _PAIRS if req.get(k) is not None)
    legacy = sorted(v for v in {*_PAIRS.values(), "ScanFilter"} if req.get(v) is not None)
    if expression and legacy:
        raise validation(
            "Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {{{', '.join(legacy)}}} "
            f"Expression parameters: {{{', '.join(expression)}}}"
        )


def _condition(name: str, spec: dict[str, Any]) -> tuple[Any, ...]:
    path = ("path", (name,))
    op = spec.get("ComparisonOperator")
    args = [V.check_value(av)[0] for av in spec.get("AttributeValueList") or []]
    want = _ARITY.get(op, 1)
    if (
        op not in _CMP
        and op not in _ARITY
        and op
        not in (
            "CONTAINS",
            "NOT_CONTAINS",
            "BEGINS_WITH",
        )
    ):
        raise validation(f"Unsupported ComparisonOperator: {op}")
    if (want is not None and len(args) != want) or (want is None and not args):
        raise validation(
            "One or more parameter values were invalid: Invalid number of argument(s) for the "
            f"{op} ComparisonOperator"
        )
    values = [("value", a) for a in args]
    if op in _CMP:
        return ("cmp", _CMP[op], path, values[0])
    if op == "NOT_NULL":
        return ("func", "attribute_exists", [path])
    if op == "NULL":
        return ("func", "attribute_not_exists", [path])
    if op == "IN":
        return ("in", path, values)
    if op == "BETWEEN":
        return ("between", path, values[0], values[1])
    if op == "BEGINS_WITH":
        return ("func", "begins_with", [path, values[0]])
    node = ("func", "contains", [path, values[0]])
    return ("not", node) if op == "NOT_CONTAINS" else node


def _expected(name: str, spec: dict[str, Any]) -> tuple[Any, ...]:
    if "ComparisonOperator" in spec:
        return _condition(name, spec)
    path = ("path", (name,))
    if spec.get("Exists") is False:
        if "Value" in spec:
            raise validation(
                "One or more parameter values were invalid: Value cannot be used when Exists "
                "is false"
            )
        return ("func", "attribute_not_exists", [path])
    if "Value" not in spec:
        raise validation(
            "One or more parameter values were invalid: Value must be provided when Exists is true"
        )
    return ("cmp", "=", path, ("value", V.check_value(spec["Value"])[0]))


def _combine(nodes: list[tuple[Any, ...]], operator: str | None) -> tuple[Any, ...] | None:
    if not nodes:
        return None
    tag = "or" if operator == "OR" else "and"
    tree = nodes[0]
    for node in nodes[1:]:
        tree = (tag, tree, node)
    return tree


def conditions(spec: dict[str, Any] | None, operator: str | None) -> tuple[Any, ...] | None:
    """QueryFilter / ScanFilter / KeyConditions."""
    return _combine([_condition(n, s) for n, s in (spec or {}).items()], operator)


def expected(spec: dict[str, Any] | None, operator: str | None) -> tuple[Any, ...] | None:
    return _combine([_expected(n, s) for n, s in (spec or {}).items()], operator)


def attribute_updates(spec: dict[str, Any] | None) -> dict[str, list[Any]] | None:
    if not spec:
        return None
    clauses: dict[str, list[Any]] = {}
    for name, update in spec.items():
        action = update.get("Action", "PUT")
        path = ("path", (name,))
        value = ("value", V.check_value(update["Value"])[0]) if "Value" in update else None
        if action == "PUT":
            if value is None:
                raise validation(
                    "One or more parameter values were invalid: Only DELETE action is allowed "
                    "when no attribute value is specified"
                )
            clauses.setdefault("SET", []).append((path, value))
        elif action == "DELETE" and value is None:
            clauses.setdefault("REMOVE", []).append((path,))
        elif action in ("ADD", "DELETE"):
            clauses.setdefault(action, []).append((path, value))
        else:
            raise validation(f"Unsupported AttributeAction: {action}")
    return clauses
