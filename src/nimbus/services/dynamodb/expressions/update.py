"""Applying a bound UpdateExpression (SET / REMOVE / ADD / DELETE) to an item."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nimbus.aws.errors import AwsError, validation
from nimbus.services.dynamodb import numbers
from nimbus.services.dynamodb import values as V
from nimbus.services.dynamodb.expressions.evaluator import check_overlap, resolve

Path = tuple[Any, ...]
_TYPE_WORDS = {"S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOLEAN", "NULL": "NULL"}
_TYPE_WORDS |= {"M": "MAP", "L": "LIST", "SS": "SET", "NS": "SET", "BS": "SET"}


def _bad_operand() -> AwsError:
    return validation("An operand in the update expression has an incorrect data type")


def _invalid_path() -> AwsError:
    return validation("The document path provided in the update expression is invalid for update")


def _value(node: Any, item: V.Item) -> V.AV:
    tag = node[0]
    if tag == "value":
        return node[1]
    if tag == "path":
        av = resolve(item, node[1])
        if av is None:
            raise validation(
                "The provided expression refers to an attribute that does not exist in the item"
            )
        return av
    if tag == "if_not_exists":
        av = resolve(item, node[1][1])
        return av if av is not None else _value(node[2], item)
    if tag == "list_append":
        a, b = _value(node[1], item), _value(node[2], item)
        if "L" not in a or "L" not in b:
            raise _bad_operand()
        return {"L": a["L"] + b["L"]}
    a, b = _value(node[1], item), _value(node[2], item)
    if "N" not in a or "N" not in b:
        raise _bad_operand()
    result = numbers.arithmetic(Decimal(a["N"]), Decimal(b["N"]), subtract=tag == "-")
    return {"N": numbers.render(result)}


def _copy_container(av: V.AV) -> V.AV:
    if "M" in av:
        return {"M": dict(av["M"])}
    return {"L": list(av["L"])}


def _parent(item: V.Item, path: Path) -> Any:
    """The (copied-on-write) container holding the last element of ``path``, or None."""
    if len(path) == 1:
        return item
    cur = item.get(path[0])
    if cur is None or ("M" not in cur and "L" not in cur):
        return None
    cur = _copy_container(cur)
    item[path[0]] = cur
    for elem in path[1:-1]:
        if isinstance(elem, int):
            lst = cur.get("L")
            if lst is None or elem >= len(lst):
                return None
            child = lst[elem]
        else:
            m = cur.get("M")
            if m is None or elem not in m:
                return None
            child = m[elem]
        if "M" not in child and "L" not in child:
            return None
        child = _copy_container(child)
        if isinstance(elem, int):
            cur["L"][elem] = child
        else:
            cur["M"][elem] = child
        cur = child
    return cur


def _set(item: V.Item, path: Path, value: V.AV) -> None:
    parent = _parent(item, path)
    last = path[-1]
    if parent is None:
        raise _invalid_path()
    if parent is item:
        item[last] = value
    elif isinstance(last, int):
        if "L" not in parent:
            raise _invalid_path()
        lst = parent["L"]
        if last < len(lst):
            lst[last] = value
        else:
            lst.append(value)
    else:
        if "M" not in parent:
            raise _invalid_path()
        parent["M"][last] = value


def _remove(item: V.Item, path: Path) -> None:
    if len(path) == 1:
        item.pop(path[0], None)
        return
    if resolve(item, path) is None:
        return
    parent = _parent(item, path)
    last = path[-1]
    if isinstance(last, int):
        del parent["L"][last]
    else:
        del parent["M"][last]


def _merge_sets(typ: str, old: list[Any], new: list[Any], add: bool) -> list[Any]:
    conv = Decimal if typ == "NS" else (lambda x: x)
    if add:
        seen = {conv(x) for x in old}
        return old + [x for x in new if conv(x) not in seen]
    drop = {conv(x) for x in new}
    return [x for x in old if conv(x) not in drop]


def _add_or_delete(item: V.Item, path: Path, value: V.AV, clause: str) -> None:
    typ = V.type_of(value)
    allowed = ("N", "SS", "NS", "BS") if clause == "ADD" else ("SS", "NS", "BS")
    if typ not in allowed:
        raise validation(
            "Invalid UpdateExpression: Incorrect operand type for operator or function; "
            f"operator: {clause}, operand type: {_TYPE_WORDS[typ]}, "
            f"typeSet: ALLOWED_FOR_{clause}_OPERAND"
        )
    current = resolve(item, path)
    if current is None:
        if clause == "ADD":
            _set(item, path, value)
        return
    if V.type_of(current) != typ:
        raise _bad_operand()
    if typ == "N":
        total = numbers.arithmetic(Decimal(current["N"]), Decimal(value["N"]), subtract=False)
        _set(item, path, {"N": numbers.render(total)})
        return
    merged = _merge_sets(typ, current[typ], value[typ], clause == "ADD")
    if merged:
        _set(item, path, {typ: merged})
    else:
        _remove(item, path)


def _remove_order(path: Path) -> tuple[Any, ...]:
    return tuple((1, e) if isinstance(e, int) else (0, e) for e in path)


def apply(
    old: V.Item, clauses: dict[str, list[Any]], key_names: tuple[str, ...]
) -> tuple[V.Item, list[Path]]:
    """The new item and the paths the update touched (for UPDATED_OLD / UPDATED_NEW)."""
    paths: list[Path] = [action[0][1] for actions in clauses.values() for action in actions]
    for path in paths:
        if path[0] in key_names:
            raise validation(
                f"One or more parameter values were invalid: Cannot update attribute {path[0]}. "
                "This attribute is part of the key"
            )
    check_overlap(paths, "UpdateExpression")
    new = dict(old)
    # All SET right-hand sides see the item as it was before the update.
    assignments = [(a[0][1], _value(a[1], old)) for a in clauses.get("SET", ())]
    for path, value in assignments:
        _set(new, path, value)
    removals = sorted((a[0][1] for a in clauses.get("REMOVE", ())), key=_remove_order)
    for path in reversed(removals):
        _remove(new, path)
    for clause in ("ADD", "DELETE"):
        for target, value in clauses.get(clause, ()):
            _add_or_delete(new, target[1], value[1], clause)
    return new, paths
