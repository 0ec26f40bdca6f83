"""Checks on a parsed request that every protocol shares: required members and constraints."""

from __future__ import annotations

from typing import Any

from botocore.model import Shape, StructureShape

from nimbus.aws.errors import AwsError

_MAX_REPORTED = 10
_CONSTRAINTS = ("min", "max")
# shape name -> whether anything in it or below it can fail a check; computed once per shape.
_NEEDS_CHECK: dict[tuple[str, str], bool] = {}


def _needs_check(shape: Shape, visiting: frozenset[str] = frozenset()) -> bool:
    """Whether validating ``shape`` can find anything: required members, lengths, ranges, enums.

    DynamoDB's recursive AttributeValue has none, so walking items would be pure overhead.
    """
    key = (shape.type_name, shape.name)
    known = _NEEDS_CHECK.get(key)
    if known is not None:
        return known
    if shape.name in visiting:
        return False  # a cycle adds nothing new; the outer call decides
    visiting = visiting | {shape.name}
    meta = shape.metadata
    found = any(c in meta for c in _CONSTRAINTS) or bool(getattr(shape, "enum", None))
    if shape.type_name == "structure":
        found = (
            found
            or bool(shape.required_members)
            or any(  # type: ignore[attr-defined]
                _needs_check(m, visiting)
                for m in shape.members.values()  # type: ignore[attr-defined]
            )
        )
    elif shape.type_name == "list":
        found = found or _needs_check(shape.member, visiting)  # type: ignore[attr-defined]
    elif shape.type_name == "map":
        found = found or _needs_check(shape.value, visiting)  # type: ignore[attr-defined]
    if len(visiting) == 1 or found:
        _NEEDS_CHECK[key] = found
    return found


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    if len(problems) >= _MAX_REPORTED or not _needs_check(shape):
        return
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        for name in shape.required_members:
            if value.get(name) is None:
                where = f"{path}.{_camel(name)}" if path else _camel(name)
                problems.append(
                    f"Value null at '{where}' failed to satisfy constraint: Member must not be null"
                )
        members = shape.members
        for name, item in value.items():
            member = members.get(name)
            if member is not None and item is not None:
                _check(member, item, f"{path}.{_camel(name)}" if path else _camel(name), problems)
        return
    if kind == "list":
        _length(meta, len(value), value, path, problems)
        member = shape.member  # type: ignore[attr-defined]
        if member.type_name in ("structure", "list", "map", "string"):
            for index, item in enumerate(value):
                if item is not None:
                    _check(member, item, f"{path}.{index + 1}.member", problems)
        return
    if kind == "map":
        _length(meta, len(value), value, path, problems)
        value_shape = shape.value  # type: ignore[attr-defined]
        if value_shape.type_name in ("structure", "list", "map"):
            for key, item in value.items():
                if item is not None:
                    _check(value_shape, item, f"{path}.{key}", problems)
        return
    if kind == "string":
        _length(meta, len(value), value, path, problems)
        enum = shape.enum  # type: ignore[attr-defined]
        if enum and value not in enum:
            problems.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(enum)}]"
            )
        return
    if kind in ("integer", "long", "float", "double"):
        low, high = meta.get("min"), meta.get("max")
        if low is not None and value < low:
            problems.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {low}"
            )
        elif high is not None and value > high:
            problems.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {high}"
            )


def _length(meta: dict[str, Any], size: int, value: Any, path: str, problems: list[str]) -> None:
    low, high = meta.get("min"), meta.get("max")
    shown = value if isinstance(value, str) and len(value) <= 64 else "..."
    if low is not None and size < low:
        problems.append(
            f"Value '{shown}' at '{path}' failed to satisfy constraint: "
            f"Member must have length greater than or equal to {low}"
        )
    elif high is not None and size > high:
        problems.append(
            f"Value '{shown}' at '{path}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {high}"
        )


def validate(shape: StructureShape | None, params: dict[str, Any], code: str) -> None:
    """Raise ``code`` (ValidationException, ValidationError, ...) listing what is wrong."""
    if shape is None:
        return
    problems: list[str] = []
    _check(shape, params, "", problems)
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise AwsError(code, f"{count} validation {noun} detected: " + "; ".join(problems), 400)
