"""Key schemas and the order-preserving byte encoding of key values stored in SQLite."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from nimbus.aws.errors import validation
from nimbus.services.dynamodb import numbers
from nimbus.services.dynamodb import values as V


def encode(typ: str, raw: Any) -> bytes:
    """S by UTF-8 bytes, B bytewise, N numerically: SQLite BLOB order is DynamoDB key order."""
    if typ == "S":
        return raw.encode()
    if typ == "B":
        return bytes(raw)
    return numbers.encode_sortable(Decimal(raw))


def bucket(pk: bytes) -> int:
    # A hash of the partition key: scans walk partitions in hash order like DynamoDB, and
    # parallel-scan segments are ranges of this value.
    return zlib.crc32(pk)


@dataclass(slots=True)
class KeySchema:
    hash_name: str
    hash_type: str
    range_name: str | None = None
    range_type: str | None = None
    names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        self.names = (self.hash_name,) + ((self.range_name,) if self.range_name else ())

    def to_wire(self) -> list[dict[str, str]]:
        out = [{"AttributeName": self.hash_name, "KeyType": "HASH"}]
        if self.range_name:
            out.append({"AttributeName": self.range_name, "KeyType": "RANGE"})
        return out

    def extract(self, item: V.Item) -> V.Item:
        return {n: item[n] for n in self.names if n in item}

    def encode_item(self, item: V.Item) -> tuple[bytes, bytes] | None:
        """(pk, sk) of an item for an index; None when the item lacks a key (sparse index)."""
        h = item.get(self.hash_name)
        if h is None or self.hash_type not in h:
            return None
        if self.range_name is None:
            return encode(self.hash_type, h[self.hash_type]), b""
        r = item.get(self.range_name)
        if r is None or self.range_type not in r:
            return None
        return encode(self.hash_type, h[self.hash_type]), encode(
            self.range_type, r[self.range_type]
        )


def _invalid(detail: str) -> Exception:
    return validation(f"One or more parameter values were invalid: {detail}")


def check_key_value(name: str, want: str, av: V.AV | None, *, in_item: bool) -> None:
    if av is None:
        if in_item:
            raise _invalid(f"Missing the key {name} in the item")
        raise validation("The provided key element does not match the schema")
    typ = V.type_of(av)
    if typ != want:
        if in_item:
            raise _invalid(f"Type mismatch for key {name} expected: {want} actual: {typ}")
        raise validation("The provided key element does not match the schema")
    if typ in ("S", "B") and not av[typ]:
        raise validation(
            "One or more parameter values are not valid. The AttributeValue for a key attribute "
            f"cannot contain an empty {'string' if typ == 'S' else 'binary'} value. Key: {name}"
        )


def check_item_key(schema: KeySchema, item: V.Item) -> tuple[bytes, bytes]:
    check_key_value(schema.hash_name, schema.hash_type, item.get(schema.hash_name), in_item=True)
    pk = encode(schema.hash_type, item[schema.hash_name][schema.hash_type])
    if schema.range_name is None:
        return pk, b""
    rt = schema.range_type or "S"
    check_key_value(schema.range_name, rt, item.get(schema.range_name), in_item=True)
    return pk, encode(rt, item[schema.range_name][rt])


def check_key(schema: KeySchema, key: Any) -> tuple[V.Item, bytes, bytes]:
    """A request's Key: exactly the schema's attributes with the right types."""
    if not isinstance(key, dict) or len(key) != len(schema.names):
        raise validation("The provided key element does not match the schema")
    norm, _ = V.check_item(key)
    for name in key:
        if name not in schema.names:
            raise validation("The provided key element does not match the schema")
    check_key_value(schema.hash_name, schema.hash_type, norm.get(schema.hash_name), in_item=False)
    pk = encode(schema.hash_type, norm[schema.hash_name][schema.hash_type])
    if schema.range_name is None:
        return norm, pk, b""
    rt = schema.range_type or "S"
    check_key_value(schema.range_name, rt, norm.get(schema.range_name), in_item=False)
    return norm, pk, encode(rt, norm[schema.range_name][rt])
