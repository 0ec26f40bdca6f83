"""Turning a bound KeyConditionExpression into a partition key and a sort-key byte range."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nimbus.aws.errors import AwsError, validation
from nimbus.services.dynamodb import keys as K
from nimbus.services.dynamodb import values as V
from nimbus.services.dynamodb.keys import KeySchema

_SQL_OPS = {"=": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass(slots=True)
class KeyRange:
    pk: bytes
    sk_clauses: list[tuple[str, bytes]] = field(default_factory=list)


def _unsupported(op: str) -> AwsError:
    return validation(f"Invalid operator used in KeyConditionExpression: {op}")


def _conjuncts(node: Any) -> list[Any]:
    if node[0] == "and":
        return _conjuncts(node[1]) + _conjuncts(node[2])
    if node[0] in ("or", "not"):
        raise _unsupported(node[0].upper())
    if node[0] == "in":
        raise _unsupported("IN")
    return [node]


def _successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with ``prefix``."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])


def _split(node: Any) -> tuple[str, str, list[V.AV]]:
    """(attribute name, operator, [values]) of one key condition."""
    tag = node[0]
    if tag == "cmp":
        op, left, right = node[1], node[2], node[3]
        if op == "<>":
            raise _unsupported("<>")
        if left[0] == "value" and right[0] == "path":
            flip = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
            op, left, right = flip.get(op, op), right, left
        if left[0] != "path" or right[0] != "value":
            raise validation("Invalid KeyConditionExpression: Query key condition not supported")
        operands = [right[1]]
        target = left
    elif tag == "between":
        if node[1][0] != "path" or node[2][0] != "value" or node[3][0] != "value":
            raise validation("Invalid KeyConditionExpression: Query key condition not supported")
        op, target, operands = "BETWEEN", node[1], [node[2][1], node[3][1]]
    elif tag == "func" and node[1] == "begins_with":
        path, value = node[2]
        if path[0] != "path" or value[0] != "value":
            raise validation("Invalid KeyConditionExpression: Query key condition not supported")
        op, target, operands = "begins_with", path, [value[1]]
    elif tag == "func":
        raise _unsupported(node[1])
    else:
        raise validation("Invalid KeyConditionExpression: Query key condition not supported")
    if len(target[1]) != 1 or not isinstance(target[1][0], str):
        raise validation("Invalid KeyConditionExpression: Query key condition not supported")
    return target[1][0], op, operands


def analyze(ast: Any, schema: KeySchema) -> KeyRange:
    conditions: dict[str, tuple[str, list[V.AV]]] = {}
    for node in _conjuncts(ast):
        name, op, operands = _split(node)
        if name in conditions:
            raise validation("KeyConditionExpressions must only contain one condition per key")
        conditions[name] = (op, operands)
    if schema.hash_name not in conditions:
        raise validation(f"Query condition missed key schema element: {schema.hash_name}")
    if any(name not in schema.names for name in conditions):
        missing = schema.range_name or schema.hash_name
        raise validation(f"Query condition missed key schema element: {missing}")
    op, operands = conditions[schema.hash_name]
    if op != "=":
        raise validation("Query key condition not supported")
    if V.type_of(operands[0]) != schema.hash_type:
        raise _type_mismatch()
    key = operands[0][schema.hash_type]
    rng = KeyRange(K.encode(schema.hash_type, key))
    if schema.range_name is None or schema.range_name not in conditions:
        return rng
    op, operands = conditions[schema.range_name]
    rtype = schema.range_type or "S"
    for av in operands:
        if V.type_of(av) != rtype:
            if op == "begins_with":
                raise validation(
                    "Invalid KeyConditionExpression: Incorrect operand type for operator or "
                    f"function; operator or function: begins_with, operand type: {V.type_of(av)}"
                )
            raise _type_mismatch()
    encoded = [K.encode(rtype, av[rtype]) for av in operands]
    if op == "BETWEEN":
        rng.sk_clauses += [(">=", encoded[0]), ("<=", encoded[1])]
    elif op == "begins_with":
        if rtype == "N":
            raise validation(
                "Invalid KeyConditionExpression: Incorrect operand type for operator or "
                "function; operator or function: begins_with, operand type: N"
            )
        rng.sk_clauses.append((">=", encoded[0]))
        upper = _successor(encoded[0])
        if upper is not None:
            rng.sk_clauses.append(("<", upper))
    else:
        rng.sk_clauses.append((_SQL_OPS[op], encoded[0]))
    return rng


def _type_mismatch() -> AwsError:
    return validation(
        "One or more parameter values were invalid: Condition parameter type does not match "
        "schema type"
    )
