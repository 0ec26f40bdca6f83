"""Typing of document-shaped request bodies (JSON and CBOR) against a botocore shape.

Each shape gets a decoder function built once and cached: walking botocore's shape objects per
request was a measurable share of a warm DynamoDB call. Paths for error messages are only put
together when a value is wrong.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from botocore.model import Shape

from nimbus.aws.errors import AwsError
from nimbus.aws.protocol.timestamps import to_datetime

Decoder = Callable[[Any], Any]

_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
}
_CACHE: dict[tuple[int, str, str, bool], Decoder] = {}


class _Wrong(Exception):
    """A value of the wrong type; the path is filled in while the stack unwinds."""

    def __init__(self, expected: str, value: Any, *, phrase: bool = False) -> None:
        super().__init__(expected)
        self.expected = expected
        self.found = type(value).__name__
        self.phrase = phrase  # "is out of range" rather than "must be <expected>"
        self.path: list[str] = []


def decode(shape: Shape, value: Any, path: str = "", *, blobs_base64: bool = True) -> Any:
    """Check ``value``'s types against ``shape``, decoding blobs and timestamps."""
    if value is None:
        return None
    try:
        return _decoder(shape, blobs_base64)(value)
    except _Wrong as wrong:
        where = ".".join(([path] if path else []) + wrong.path[::-1]) or "$"
        if wrong.phrase:
            message = f"Value at '{where}' {wrong.expected}."
        else:
            message = f"Value at '{where}' must be {wrong.expected}, not {wrong.found}."
        raise AwsError("SerializationException", message, 400) from None


def _decoder(shape: Shape, b64: bool) -> Decoder:
    key = (id(shape._shape_resolver), shape.name, shape.type_name, b64)
    found = _CACHE.get(key)
    if found is None:
        found = _CACHE[key] = _build(shape, b64)
    return found


def _build(shape: Shape, b64: bool) -> Decoder:
    kind = shape.type_name
    if kind == "structure" and getattr(shape, "is_document_type", False):
        return _document  # free-form JSON (Converse's additionalModelRequestFields, tool schemas)
    if kind == "structure":
        return _structure(shape, b64)
    if kind == "list":
        member_shape = shape.member  # type: ignore[attr-defined]
        return _list(lambda: _decoder(member_shape, b64))
    if kind == "map":
        value_shape = shape.value  # type: ignore[attr-defined]
        return _map(lambda: _decoder(value_shape, b64))
    if kind == "blob":
        return _blob if b64 else _raw_blob
    if kind == "timestamp":
        return _timestamp
    expected = _SCALARS.get(kind)
    if expected is None:  # document types and the like pass through untouched
        return lambda value: value
    if kind in ("integer", "long"):
        return _integer
    if kind == "string":
        return _string
    return _scalar(expected, kind)


def _document(value: Any) -> Any:
    return value


def _structure(shape: Shape, b64: bool) -> Decoder:
    member_shapes = shape.members  # type: ignore[attr-defined]
    decoders: dict[str, Decoder] = {}
    # Members with a JSON name of their own (API Gateway v2's ``name`` for ``Name``).
    wire_names = _wire_names(shape)

    def decode_structure(value: Any) -> Any:
        if type(value) is not dict:
            raise _Wrong("an object", value)
        out: dict[str, Any] = {}
        for name, item in value.items():
            if item is None:
                continue
            if wire_names:
                name = wire_names.get(name, name)
            member = decoders.get(name)
            if member is None:
                member_shape = member_shapes.get(name)
                if member_shape is None:
                    continue  # AWS ignores members it does not know
                member = decoders[name] = _decoder(member_shape, b64)
            try:
                out[name] = member(item)
            except _Wrong as wrong:
                wrong.path.append(name)
                raise
        return out

    return decode_structure


def _wire_names(shape: Shape) -> dict[str, str]:
    """Body members whose JSON key differs from the member name: wire name -> member name."""
    return {
        member.serialization["name"]: name
        for name, member in shape.members.items()  # type: ignore[attr-defined]
        if member.serialization.get("name", name) != name
        and member.serialization.get("location") is None
    }


_ENCODERS: dict[tuple[int, str], Callable[[Any], Any] | None] = {}


def wire_encoder(shape: Shape) -> Callable[[Any], Any] | None:
    """A function renaming output members to their JSON names, or None when no member of the
    shape's tree is renamed (every service but API Gateway v2), so those skip the walk."""
    key = (id(shape._shape_resolver), shape.name)
    if key not in _ENCODERS:
        _ENCODERS[key] = None  # recursive shapes: a cycle sees "nothing to rename" while built
        _ENCODERS[key] = _build_encoder(shape)
    return _ENCODERS[key]


def _build_encoder(shape: Shape) -> Callable[[Any], Any] | None:
    kind = shape.type_name
    if kind == "list":
        inner = wire_encoder(shape.member)  # type: ignore[attr-defined]
        if inner is None:
            return None
        return lambda value: [inner(v) for v in value] if type(value) is list else value
    if kind == "map":
        inner = wire_encoder(shape.value)  # type: ignore[attr-defined]
        if inner is None:
            return None
        return lambda value: (
            {k: inner(v) for k, v in value.items()} if type(value) is dict else value
        )
    if kind != "structure":
        return None
    plan: dict[str, tuple[str, Callable[[Any], Any] | None]] = {}
    for name, member in shape.members.items():  # type: ignore[attr-defined]
        plan[name] = (member.serialization.get("name", name), wire_encoder(member))
    if all(wire == name and inner is None for name, (wire, inner) in plan.items()):
        return None

    def encode_structure(value: Any) -> Any:
        if type(value) is not dict:
            return value
        out: dict[str, Any] = {}
        for name, item in value.items():
            wire, inner = plan.get(name, (name, None))
            out[wire] = inner(item) if inner is not None and item is not None else item
        return out

    return encode_structure


def _list(member: Callable[[], Decoder]) -> Decoder:
    resolved: list[Decoder] = []

    def decode_list(value: Any) -> Any:
        if type(value) is not list:
            raise _Wrong("a list", value)
        if not resolved:
            resolved.append(member())
        item_decoder = resolved[0]
        out = []
        for index, item in enumerate(value):
            try:
                out.append(None if item is None else item_decoder(item))
            except _Wrong as wrong:
                wrong.path.append(f"[{index}]")
                raise
        return out

    return decode_list


def _map(member: Callable[[], Decoder]) -> Decoder:
    resolved: list[Decoder] = []

    def decode_map(value: Any) -> Any:
        if type(value) is not dict:
            raise _Wrong("an object", value)
        if not resolved:
            resolved.append(member())
        item_decoder = resolved[0]
        out = {}
        for key, item in value.items():
            try:
                out[str(key)] = None if item is None else item_decoder(item)
            except _Wrong as wrong:
                wrong.path.append(str(key))
                raise
        return out

    return decode_map


def _string(value: Any) -> Any:
    if type(value) is not str:
        raise _Wrong("of type string", value)
    return value


def _integer(value: Any) -> Any:
    if type(value) is not int:
        raise _Wrong("of type integer", value)
    if not -(2**63) <= value < 2**63:
        raise _Wrong("is out of range", value, phrase=True)
    return value


def _scalar(expected: tuple[type, ...], kind: str) -> Decoder:
    def decode_scalar(value: Any) -> Any:
        if not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool)):
            raise _Wrong(f"of type {kind}", value)
        return value

    return decode_scalar


def _blob(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if not isinstance(value, str):
        raise _Wrong("base64-encoded binary data", value)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _Wrong("is not valid base64", value, phrase=True) from None


def _raw_blob(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    raise _Wrong("binary data", value)


def _timestamp(value: Any) -> Any:
    try:
        return to_datetime(value)
    except (ValueError, TypeError, OverflowError, OSError):
        raise _Wrong("a timestamp (epoch seconds or ISO 8601)", value) from None
