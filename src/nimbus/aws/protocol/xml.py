"""XML documents to and from botocore shapes (rest-xml payloads and query responses)."""

from __future__ import annotations

import base64
import re
from typing import Any
from xml.etree import ElementTree as ET

from botocore.model import Shape

from nimbus.aws.errors import AwsError
from nimbus.aws.protocol.timestamps import format_timestamp, to_datetime

# Characters XML 1.0 cannot carry at all; they are written as numeric references by AWS and
# would make ElementTree produce a document no parser accepts.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if _INVALID_XML.search(text):
        text = _INVALID_XML.sub(lambda m: f"&#x{ord(m.group()):x};", text)
    return text


def _scalar_text(shape: Shape, value: Any, default_ts: str) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return str(format_timestamp(value, shape.serialization.get("timestampFormat", default_ts)))
    if kind == "blob":
        return base64.b64encode(value).decode()
    if kind in ("float", "double") and isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value)


def encode(
    shape: Shape, value: Any, name: str, out: list[str], default_ts: str = "iso8601"
) -> None:
    """Append ``<name>value</name>`` (or repeated elements for flattened lists) to ``out``."""
    kind = shape.type_name
    if kind == "structure":
        out.append(f"<{name}>")
        encode_members(shape, value, out, default_ts)
        out.append(f"</{name}>")
    elif kind == "list":
        member = shape.member  # type: ignore[attr-defined]
        if shape.serialization.get("flattened"):
            inner = member.serialization.get("name", name)
            for item in value:
                encode(member, item, inner, out, default_ts)
        else:
            inner = member.serialization.get("name", "member")
            out.append(f"<{name}>")
            for item in value:
                encode(member, item, inner, out, default_ts)
            out.append(f"</{name}>")
    elif kind == "map":
        key_shape, value_shape = shape.key, shape.value  # type: ignore[attr-defined]
        key_name = key_shape.serialization.get("name", "key")
        value_name = value_shape.serialization.get("name", "value")
        flattened = shape.serialization.get("flattened")
        if not flattened:
            out.append(f"<{name}>")
        for key, item in value.items():
            out.append(f"<{name}>" if flattened else "<entry>")
            encode(key_shape, key, key_name, out, default_ts)
            encode(value_shape, item, value_name, out, default_ts)
            out.append(f"</{name}>" if flattened else "</entry>")
        if not flattened:
            out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_escape(_scalar_text(shape, value, default_ts))}</{name}>")


def encode_members(shape: Shape, value: dict[str, Any], out: list[str], default_ts: str) -> None:
    for member_name, member in shape.members.items():  # type: ignore[attr-defined]
        item = value.get(member_name)
        if item is None or member.serialization.get("location"):
            continue
        if member.serialization.get("xmlAttribute"):
            continue
        encode(member, item, member.serialization.get("name", member_name), out, default_ts)


def parse_document(body: bytes) -> ET.Element:
    # No AWS XML API takes a DTD; refusing it also rules out entity-expansion tricks.
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise AwsError("MalformedXML", "The XML you provided must not contain a DOCTYPE.", 400)
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise AwsError(
            "MalformedXML",
            f"The XML you provided was not well-formed or did not validate against our "
            f"published schema ({exc}).",
            400,
        ) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def decode(shape: Shape, element: ET.Element) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return decode_members(shape, element)
    if kind == "list":
        member = shape.member  # type: ignore[attr-defined]
        inner = member.serialization.get("name", "member")
        return [decode(member, child) for child in element if _local(child.tag) == inner]
    if kind == "map":
        key_shape, value_shape = shape.key, shape.value  # type: ignore[attr-defined]
        key_name = key_shape.serialization.get("name", "key")
        value_name = value_shape.serialization.get("name", "value")
        result: dict[str, Any] = {}
        for entry in element:
            parts = {_local(c.tag): c for c in entry}
            if key_name in parts and value_name in parts:
                result[decode(key_shape, parts[key_name])] = decode(value_shape, parts[value_name])
        return result
    text = element.text or ""
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
        if kind == "boolean":
            return text.strip().lower() == "true"
        if kind == "timestamp":
            return to_datetime(text)
        if kind == "blob":
            return base64.b64decode(text)
    except (ValueError, TypeError, OverflowError):
        raise AwsError(
            "MalformedXML",
            f"The value '{text[:64]}' of <{_local(element.tag)}> is not a valid {kind}.",
            400,
        ) from None
    return text


def decode_members(shape: Shape, element: ET.Element) -> dict[str, Any]:
    children: dict[str, list[ET.Element]] = {}
    for child in element:
        children.setdefault(_local(child.tag), []).append(child)
    result: dict[str, Any] = {}
    for member_name, member in shape.members.items():  # type: ignore[attr-defined]
        if member.serialization.get("location"):
            continue
        wire = member.serialization.get("name", member_name)
        if member.serialization.get("xmlAttribute"):
            for attr, attr_value in element.attrib.items():
                if _local(attr) == wire.rsplit(":", 1)[-1]:
                    result[member_name] = attr_value
            continue
        if member.type_name == "list" and member.serialization.get("flattened"):
            inner_shape = member.member  # type: ignore[attr-defined]
            inner = inner_shape.serialization.get("name", wire)
            found = children.get(inner) or children.get(wire)
            if found:
                result[member_name] = [decode(inner_shape, c) for c in found]
            continue
        found = children.get(wire)
        if found:
            result[member_name] = decode(member, found[0])
    return result
