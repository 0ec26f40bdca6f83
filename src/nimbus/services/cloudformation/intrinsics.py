"""Intrinsic functions and conditions, resolved against one stack's scope."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nimbus.services.cloudformation.template import validation_error


class _NoValue:
    """``AWS::NoValue``: the property (or list item) it stands for is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")
FUNCTIONS = frozenset(
    [
        "Ref",
        "Condition",
        "Fn::GetAtt",
        "Fn::Sub",
        "Fn::Join",
        "Fn::Select",
        "Fn::Split",
        "Fn::If",
        "Fn::Equals",
        "Fn::Not",
        "Fn::And",
        "Fn::Or",
        "Fn::FindInMap",
        "Fn::GetAZs",
        "Fn::ImportValue",
        "Fn::Base64",
        "Fn::Length",
        "Fn::ToJsonString",
    ]
)


@dataclass
class Scope:
    """What names mean in one stack: pseudo parameters, parameters, mappings, resources."""

    pseudo: dict[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    condition_defs: dict[str, Any] = field(default_factory=dict)
    ref: Callable[[str], Any] = lambda name: None
    get_att: Callable[[str, str], Any] = lambda name, attr: None
    import_value: Callable[[str], Any] = lambda name: None
    _conditions: dict[str, bool] = field(default_factory=dict)
    _evaluating: set[str] = field(default_factory=set)

    def condition(self, name: str) -> bool:
        if name in self._conditions:
            return self._conditions[name]
        if name not in self.condition_defs:
            raise validation_error(
                f"Template format error: Unresolved dependencies [{name}]. "
                "Cannot reference resources in the Conditions block of the template"
            )
        if name in self._evaluating:
            raise validation_error(f"Template error: circular condition dependency on {name}")
        self._evaluating.add(name)
        try:
            value = resolve(self.condition_defs[name], self)
        finally:
            self._evaluating.discard(name)
        if not isinstance(value, bool):
            raise validation_error(f"Template error: condition {name} is not a boolean")
        self._conditions[name] = value
        return value


def resolve(value: Any, scope: Scope) -> Any:
    """The value with every intrinsic function replaced by what it stands for."""
    if isinstance(value, list):
        items = [resolve(v, scope) for v in value]
        return [v for v in items if v is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key in FUNCTIONS:
            return _call(key, arg, scope)
    out = {}
    for k, v in value.items():
        resolved = resolve(v, scope)
        if resolved is not NO_VALUE:
            out[k] = resolved
    return out


def ref(name: Any, scope: Scope) -> Any:
    if not isinstance(name, str):
        raise validation_error(f"Template error: Ref needs a name, not {name!r}")
    if name == "AWS::NoValue":
        return NO_VALUE
    if name in scope.pseudo:
        return scope.pseudo[name]
    if name in scope.parameters:
        return scope.parameters[name]
    return scope.ref(name)


def _call(fn: str, arg: Any, scope: Scope) -> Any:
    if fn == "Ref":
        return ref(arg, scope)
    if fn == "Condition":
        return scope.condition(arg)
    if fn == "Fn::GetAtt":
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        name, attr = arg[0], resolve(arg[1], scope)
        return scope.get_att(name, attr)
    if fn == "Fn::Sub":
        return _sub(arg, scope)
    if fn == "Fn::If":
        cond, yes, no = arg
        return resolve(yes if scope.condition(cond) else no, scope)
    args = resolve(arg, scope)
    return _PURE[fn](args, scope)


def _sub(arg: Any, scope: Scope) -> str:
    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], resolve(arg[1], scope))

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"  # ${!Literal} is written out as ${Literal}
        name = name.strip()
        if name in variables:
            value = variables[name]
        elif "." in name and name.split(".", 1)[0] not in scope.parameters:
            logical, attr = name.split(".", 1)
            value = scope.get_att(logical, attr)
        else:
            value = ref(name, scope)
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        return str(value)

    return _SUB_VAR.sub(replace, text)


def _join(args: Any, scope: Scope) -> str:
    sep, items = args
    return sep.join(str(i) for i in items)


def _select(args: Any, scope: Scope) -> Any:
    index, items = args
    try:
        return items[int(index)]
    except (IndexError, ValueError, TypeError):
        raise validation_error(
            f"Template error: Fn::Select index {index} is out of range"
        ) from None


def _find_in_map(args: Any, scope: Scope) -> Any:
    name, top, second = args
    try:
        return scope.mappings[name][top][second]
    except (KeyError, TypeError):
        raise validation_error(
            f"Template error: Unable to get mapping for {name}::{top}::{second}"
        ) from None


def _equals(args: Any, scope: Scope) -> bool:
    a, b = args
    return str(a) == str(b) if not isinstance(a, list | dict) else a == b


def _import(args: Any, scope: Scope) -> Any:
    value = scope.import_value(args)
    if value is None:
        raise validation_error(f"No export named {args} found.")
    return value


_PURE: dict[str, Callable[[Any, Scope], Any]] = {
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": lambda a, s: str(a[1]).split(a[0]),
    "Fn::Equals": _equals,
    "Fn::Not": lambda a, s: not a[0],
    "Fn::And": lambda a, s: all(a),
    "Fn::Or": lambda a, s: any(a),
    "Fn::FindInMap": _find_in_map,
    "Fn::GetAZs": lambda a, s: [f"{a or s.pseudo['AWS::Region']}{z}" for z in "abc"],
    "Fn::ImportValue": _import,
    "Fn::Base64": lambda a, s: base64.b64encode(str(a).encode()).decode(),
    "Fn::Length": lambda a, s: len(a),
    "Fn::ToJsonString": lambda a, s: json.dumps(a, separators=(",", ":")),
}


def references(value: Any) -> set[str]:
    """Names a value refers to through Ref, GetAtt and Sub (parameters and pseudo included)."""
    found: set[str] = set()
    _collect(value, found)
    return found


def _collect(value: Any, found: set[str]) -> None:
    if isinstance(value, list):
        for v in value:
            _collect(v, found)
        return
    if not isinstance(value, dict):
        return
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" and isinstance(arg, str):
            found.add(arg)
            return
        if key == "Fn::GetAtt":
            target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
            found.add(target)
            if isinstance(arg, list) and len(arg) > 1:
                _collect(arg[1], found)
            return
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            for name in _SUB_VAR.findall(text if isinstance(text, str) else ""):
                if not name.startswith("!") and name.strip() not in variables:
                    found.add(name.strip().split(".", 1)[0])
            _collect(variables, found)
            return
    for v in value.values():
        _collect(v, found)
