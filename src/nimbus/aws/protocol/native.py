"""Typing of document-shaped request bodies (JSON and CBOR) against a botocore shape."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from botocore.model import Shape

from nimbus.aws.errors import AwsError
from nimbus.aws.protocol.timestamps import to_datetime

_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
}


def _wrong(path: str, expected: str, value: Any) -> AwsError:
    found = type(value).__name__
    return AwsError(
        "SerializationException",
        f"Value at '{path or '$'}' must be {expected}, not {found}.",
        400,
    )


def decode(shape: Shape, value: Any, path: str = "", *, blobs_base64: bool = True) -> Any:
    """Check ``value``'s types against ``shape``, decoding blobs and timestamps."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise _wrong(path, "an object", value)
        members = shape.members  # type: ignore[attr-defined]
        out: dict[str, Any] = {}
        for name, item in value.items():
            member = members.get(name)
            if member is None or item is None:
                continue  # AWS ignores members it does not know
            out[name] = decode(
                member, item, f"{path}.{name}" if path else name, blobs_base64=blobs_base64
            )
        return out
    if kind == "list":
        if not isinstance(value, list):
            raise _wrong(path, "a list", value)
        member = shape.member  # type: ignore[attr-defined]
        return [
            decode(member, item, f"{path}[{i}]", blobs_base64=blobs_base64)
            for i, item in enumerate(value)
        ]
    if kind == "map":
        if not isinstance(value, dict):
            raise _wrong(path, "an object", value)
        value_shape = shape.value  # type: ignore[attr-defined]
        return {
            str(k): decode(value_shape, v, f"{path}.{k}", blobs_base64=blobs_base64)
            for k, v in value.items()
        }
    if kind == "blob":
        if isinstance(value, bytes | bytearray):
            return bytes(value)
        if not isinstance(value, str) or not blobs_base64:
            raise _wrong(path, "base64-encoded binary data", value)
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise AwsError(
                "SerializationException", f"Value at '{path}' is not valid base64.", 400
            ) from None
    if kind == "timestamp":
        try:
            return to_datetime(value)
        except (ValueError, TypeError, OverflowError, OSError):
            raise _wrong(path, "a timestamp (epoch seconds or ISO 8601)", value) from None
    expected = _SCALARS.get(kind)
    if expected is None:  # document types and the like pass through untouched
        return value
    if not isinstance(value, expected) or (kind != "boolean" and isinstance(value, bool)):
        raise _wrong(path, f"of type {kind}", value)
    if kind in ("integer", "long") and not -(2**63) <= value < 2**63:
        raise AwsError("SerializationException", f"Value at '{path}' is out of range.", 400)
    return value
