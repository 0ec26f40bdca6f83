"""Identity-based policy evaluation.

The logic IAM documents for a single account without resource policies or boundaries:
an explicit Deny in any statement wins; otherwise any matching Allow allows; otherwise the
request is implicitly denied. Actions match case-insensitively, resources case-sensitively,
both with ``*``/``?`` wildcards. Policies are compiled once per principal and cached by the
engine, so a request costs a handful of string comparisons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from nimbus.services.iam.conditions import Context, evaluate_condition
from nimbus.services.iam.documents import statements_of
from nimbus.services.iam.patterns import glob_match


class Decision(Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


@dataclass(slots=True, frozen=True)
class Statement:
    deny: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    condition: dict[str, Any] | None


_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def substitute(value: str, variables: dict[str, str]) -> str:
    """Policy variables (``${aws:username}``); unknown ones stay literal and so never match."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in ("*", "?", "$"):
            return name
        return variables.get(name.lower(), m.group(0))

    return _VARIABLE.sub(repl, value)


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, list) else (value,)


def compile_policy(doc: dict[str, Any], variables: dict[str, str] | None = None) -> list[Statement]:
    # Policy variables exist only from version 2012-10-17 on.
    use_vars = variables is not None and doc.get("Version") == "2012-10-17"
    out = []
    for st in statements_of(doc):
        not_action = "NotAction" in st
        not_resource = "NotResource" in st
        resources = _tuple(st.get("NotResource" if not_resource else "Resource", "*"))
        if use_vars:
            assert variables is not None
            resources = tuple(substitute(r, variables) for r in resources)
        out.append(
            Statement(
                deny=st["Effect"] == "Deny",
                actions=_tuple(st["NotAction" if not_action else "Action"]),
                not_action=not_action,
                resources=resources,
                not_resource=not_resource,
                condition=st.get("Condition") or None,
            )
        )
    return out


def _applies(st: Statement, action: str, resource: str, context: Context) -> bool:
    hit = any(glob_match(p, action, ignore_case=True) for p in st.actions)
    if hit == st.not_action:
        return False
    hit = any(glob_match(p, resource) for p in st.resources)
    if hit == st.not_resource:
        return False
    if st.condition is None:
        return True
    ok = evaluate_condition(st.condition, context)
    if ok is None:
        # Unsupported operator: fail closed (a Deny applies, an Allow does not).
        return st.deny
    return ok


def evaluate(
    statements: list[Statement], action: str, resource: str, context: Context | None = None
) -> Decision:
    allowed = False
    ctx = context or {}
    for st in statements:
        if (st.deny or not allowed) and _applies(st, action, resource, ctx):
            if st.deny:
                return Decision.EXPLICIT_DENY
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def denial_message(principal_arn: str, action: str, resource: str, decision: Decision) -> str:
    """The sentence AWS puts in AccessDenied messages."""
    head = f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource}"
    if decision is Decision.EXPLICIT_DENY:
        return f"{head} with an explicit deny in an identity-based policy"
    return f"{head} because no identity-based policy allows the {action} action"
