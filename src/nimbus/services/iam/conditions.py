"""Condition block evaluation for identity policies.

``evaluate_condition`` returns True/False, or None when the block uses an operator we do not
implement: the evaluator then fails closed (an Allow does not apply, a Deny does), so an
unsupported operator can never silently grant access.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from nimbus.services.iam.patterns import glob_match

Context = dict[str, Any]  # lower-cased context key -> str | list[str]


def _num(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _date(v: Any) -> float | None:
    if isinstance(v, int | float) or (isinstance(v, str) and v.isdigit()):
        return float(v)
    try:
        dt = datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _ip(ctx: Any, pol: Any) -> bool:
    try:
        return ipaddress.ip_address(str(ctx)) in ipaddress.ip_network(str(pol), strict=False)
    except ValueError:
        return False


def _arn_like(ctx: Any, pol: Any) -> bool:
    # ArnLike compares the six colon-separated parts separately; wildcards stay in a part.
    c_parts, p_parts = str(ctx).split(":", 5), str(pol).split(":", 5)
    if len(c_parts) != 6 or len(p_parts) != 6:
        return False
    return all(glob_match(p, c) for p, c in zip(p_parts, c_parts, strict=True))


def _cmp(fn: Callable[[float, float], bool], conv: Callable[[Any], float | None]) -> Any:
    def match(ctx: Any, pol: Any) -> bool:
        a, b = conv(ctx), conv(pol)
        return a is not None and b is not None and fn(a, b)

    return match


def _bool(ctx: Any, pol: Any) -> bool:
    return str(ctx).lower() == str(pol).lower()


# name -> (matcher(ctx_value, policy_value), negated)
OPERATORS: dict[str, tuple[Callable[[Any, Any], bool], bool]] = {
    "stringequals": (lambda c, p: str(c) == str(p), False),
    "stringnotequals": (lambda c, p: str(c) == str(p), True),
    "stringequalsignorecase": (lambda c, p: str(c).lower() == str(p).lower(), False),
    "stringnotequalsignorecase": (lambda c, p: str(c).lower() == str(p).lower(), True),
    "stringlike": (lambda c, p: glob_match(str(p), str(c)), False),
    "stringnotlike": (lambda c, p: glob_match(str(p), str(c)), True),
    "numericequals": (_cmp(lambda a, b: a == b, _num), False),
    "numericnotequals": (_cmp(lambda a, b: a == b, _num), True),
    "numericlessthan": (_cmp(lambda a, b: a < b, _num), False),
    "numericlessthanequals": (_cmp(lambda a, b: a <= b, _num), False),
    "numericgreaterthan": (_cmp(lambda a, b: a > b, _num), False),
    "numericgreaterthanequals": (_cmp(lambda a, b: a >= b, _num), False),
    "dateequals": (_cmp(lambda a, b: a == b, _date), False),
    "datenotequals": (_cmp(lambda a, b: a == b, _date), True),
    "datelessthan": (_cmp(lambda a, b: a < b, _date), False),
    "datelessthanequals": (_cmp(lambda a, b: a <= b, _date), False),
    "dategreaterthan": (_cmp(lambda a, b: a > b, _date), False),
    "dategreaterthanequals": (_cmp(lambda a, b: a >= b, _date), False),
    "bool": (_bool, False),
    "ipaddress": (_ip, False),
    "notipaddress": (_ip, True),
    "arnequals": (_arn_like, False),
    "arnlike": (_arn_like, False),
    "arnnotequals": (_arn_like, True),
    "arnnotlike": (_arn_like, True),
}


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def _check_key(
    op: str, set_op: str, if_exists: bool, present: bool, ctx_vals: list[Any], pol_vals: list[Any]
) -> bool | None:
    if op == "null":
        # Null: "true" means the key must be absent.
        want_absent = any(str(v).lower() == "true" for v in pol_vals)
        return (not present) == want_absent
    entry = OPERATORS.get(op)
    if entry is None:
        return None
    matcher, negated = entry
    if not present:
        # IfExists and negated operators are satisfied by a missing key; others are not.
        if set_op == "forallvalues":
            return True
        return if_exists or negated

    def hit(cv: Any) -> bool:
        return any(matcher(cv, pv) for pv in pol_vals)

    if set_op == "forallvalues":
        ok = all(hit(cv) for cv in ctx_vals)
        return (not ok) if negated else ok
    matched = any(hit(cv) for cv in ctx_vals)
    return (not matched) if negated else matched


def evaluate_condition(condition: dict[str, Any], context: Context) -> bool | None:
    """All operators and all keys must hold (AND); values within a key are ORed."""
    result: bool | None = True
    for raw_op, block in condition.items():
        op = raw_op.lower()
        set_op = ""
        if ":" in op:
            set_op, _, op = op.partition(":")
            if set_op not in ("foranyvalue", "forallvalues"):
                return None
        if_exists = op.endswith("ifexists") and op != "null"
        if if_exists:
            op = op[: -len("ifexists")]
        for key, pol in block.items():
            present = key.lower() in context
            ctx_vals = _as_list(context.get(key.lower(), []))
            ok = _check_key(op, set_op, if_exists, present, ctx_vals, _as_list(pol))
            if ok is None:
                return None
            if not ok:
                result = False
    return result
