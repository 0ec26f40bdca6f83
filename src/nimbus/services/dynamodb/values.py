"""AttributeValue validation, normalisation, sizing and comparison."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nimbus.aws.errors import validation
from nimbus.services.dynamodb import numbers

AV = dict[str, Any]
Item = dict[str, AV]

MAX_ITEM_SIZE = 400 * 1024
TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
_SET_NAMES = {"SS": "An string set ", "NS": "An number set ", "BS": "An binary set "}


def _invalid(detail: str) -> Exception:
    return validation(f"One or more parameter values were invalid: {detail}")


def _render_set(values: list[Any]) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").strip("0")
    return (len(digits) + 1) // 2 + 1 + (1 if text.startswith("-") else 0)


MAX_DEPTH = 32  # DynamoDB's limit on nested lists and maps


def check_value(av: Any, depth: int = 0) -> tuple[AV, int]:
    """A normalised copy of ``av`` and its size in bytes by AWS's rules."""
    if depth > MAX_DEPTH:
        raise validation("Nesting Levels have exceeded supported limits")
    if not isinstance(av, dict) or not av:
        raise validation(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    if len(av) != 1:
        raise validation(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one "
            "of the supported datatypes"
        )
    ((typ, raw),) = av.items()
    if typ == "S":
        if not isinstance(raw, str):
            raise validation("Invalid attribute value type")
        return av, len(raw.encode())
    if typ == "N":
        text = numbers.normalize(raw)
        return ({"N": text} if text != raw else av), _number_size(text)
    if typ == "B":
        if not isinstance(raw, bytes | bytearray):
            raise validation("Invalid attribute value type")
        return av, len(raw)
    if typ == "BOOL":
        return av, 1
    if typ == "NULL":
        if raw is not True:
            raise _invalid("Null attribute value types must have the value of true")
        return av, 1
    if typ in _SET_NAMES:
        if not isinstance(raw, list) or not raw:
            if typ == "BS":
                raise _invalid("Binary sets should not be empty")
            raise _invalid(f"{_SET_NAMES[typ]} may not be empty")
        if typ == "NS":
            vals = [numbers.normalize(x) for x in raw]
            keys: list[Any] = [Decimal(x) for x in vals]
            size = sum(_number_size(x) for x in vals)
        else:
            want = str if typ == "SS" else (bytes, bytearray)
            if not all(isinstance(x, want) for x in raw):
                raise validation("Invalid attribute value type")
            vals = list(raw)
            keys = vals
            size = sum(len(x.encode()) if typ == "SS" else len(x) for x in vals)
        if len(set(keys)) != len(keys):
            raise _invalid(f"Input collection {_render_set(list(raw))} contains duplicates.")
        return {typ: vals}, size
    if typ == "L":
        if not isinstance(raw, list):
            raise validation("Invalid attribute value type")
        out_l = []
        size = 3
        for el in raw:
            v, s = check_value(el, depth + 1)
            out_l.append(v)
            size += s + 1
        return {"L": out_l}, size
    if typ == "M":
        if not isinstance(raw, dict):
            raise validation("Invalid attribute value type")
        out_m = {}
        size = 3
        for name, el in raw.items():
            v, s = check_value(el, depth + 1)
            out_m[name] = v
            size += len(name.encode()) + s + 1
        return {"M": out_m}, size
    raise validation(f"Unknown attribute value type: {typ}")


def check_item(item: Any) -> tuple[Item, int]:
    if not isinstance(item, dict):
        raise validation("Item must be a map of attribute values")
    out: Item = {}
    size = 0
    for name, av in item.items():
        if not name:
            raise _invalid("An AttributeName cannot be empty")
        v, s = check_value(av)
        out[name] = v
        size += len(name.encode()) + s
    return out, size


def check_item_size(size: int) -> None:
    if size > MAX_ITEM_SIZE:
        raise validation("Item size has exceeded the maximum allowed size")


def item_size(item: Item) -> int:
    return check_item(item)[1]


def type_of(av: AV) -> str:
    return next(iter(av))


def equal(a: AV | None, b: AV | None) -> bool:
    if a is None or b is None:
        return False
    ((ta, va),) = a.items()
    ((tb, vb),) = b.items()
    if ta != tb:
        return False
    if ta == "N":
        return Decimal(va) == Decimal(vb)
    if ta == "NS":
        return {Decimal(x) for x in va} == {Decimal(x) for x in vb}
    if ta in ("SS", "BS"):
        return set(va) == set(vb)
    if ta == "L":
        return len(va) == len(vb) and all(equal(x, y) for x, y in zip(va, vb, strict=True))
    if ta == "M":
        return va.keys() == vb.keys() and all(equal(va[k], vb[k]) for k in va)
    return bool(va == vb)


def sort_key(av: AV) -> Any:
    """A Python value ordering like DynamoDB for the scalar types N, S and B."""
    ((typ, raw),) = av.items()
    if typ == "N":
        return Decimal(raw)
    if typ == "S":
        return raw  # code-point order == UTF-8 byte order
    return bytes(raw)
