"""A small subset of CloudWatch metric math for GetMetricData ``Expression`` queries.

Supported: numbers, query ids, ``+ - * /``, parentheses, unary minus, ``METRICS()`` /
``METRICS("label substring")``, ``[m1, m2]`` arrays and the functions SUM, AVG, MIN, MAX
(over an array: a time series; over one series: a scalar) and ABS. Series combine on the
timestamps they share; division by zero drops the point.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Union

Series = dict[int, float]
Value = Union[float, Series, list[Series]]  # noqa: UP007 - a runtime alias

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|(\"[^\"]*\")|(.))")
_OPS: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


class ExpressionError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExpressionError(f"cannot read expression at {pos}")
        number, name, string, sym = m.groups()
        if number is not None:
            out.append(("NUM", number))
        elif name is not None:
            out.append(("NAME", name))
        elif string is not None:
            out.append(("STR", string[1:-1]))
        elif sym is not None and sym in "+-*/(),[]":
            out.append(("SYM", sym))
        else:
            raise ExpressionError(f"unexpected {sym!r} in expression")
        pos = m.end()
    return out


def _combine(a: Value, b: Value, fn: Callable[[float, float], float]) -> Value:
    if isinstance(a, list) or isinstance(b, list):
        raise ExpressionError("arithmetic on an array of time series is not supported")

    def apply(x: float, y: float) -> float | None:
        try:
            return fn(x, y)
        except ZeroDivisionError:
            return None

    if isinstance(a, dict) and isinstance(b, dict):
        pairs = {t: apply(a[t], b[t]) for t in a.keys() & b.keys()}
    elif isinstance(a, dict):
        pairs = {t: apply(v, float(b)) for t, v in a.items()}  # type: ignore[arg-type]
    elif isinstance(b, dict):
        pairs = {t: apply(float(a), v) for t, v in b.items()}
    else:
        result = apply(a, b)
        if result is None:
            raise ExpressionError("division by zero")
        return result
    return {t: v for t, v in pairs.items() if v is not None}


_REDUCERS: dict[str, Callable[[list[float]], float]] = {
    "SUM": sum,
    "AVG": lambda xs: sum(xs) / len(xs),
    "MIN": min,
    "MAX": max,
}


class _Evaluator:
    def __init__(
        self,
        tokens: list[tuple[str, str]],
        env: dict[str, Series],
        labels: dict[str, str],
        metric_ids: set[str],
    ) -> None:
        self.tokens, self.i, self.env, self.labels = tokens, 0, env, labels
        self.metric_ids = metric_ids  # METRICS() covers MetricStat queries only

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, text: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (text is not None and tok[1] != text):
            raise ExpressionError(f"expected {text or 'more'} in expression")
        self.i += 1
        return tok

    def expr(self) -> Value:
        value = self.term()
        while (tok := self.peek()) and tok[1] in "+-" and tok[0] == "SYM":
            self.take()
            value = _combine(value, self.term(), _OPS[tok[1]])
        return value

    def term(self) -> Value:
        value = self.unary()
        while (tok := self.peek()) and tok[1] in "*/" and tok[0] == "SYM":
            self.take()
            value = _combine(value, self.unary(), _OPS[tok[1]])
        return value

    def unary(self) -> Value:
        if self.peek() == ("SYM", "-"):
            self.take()
            return _combine(-1.0, self.unary(), operator.mul)
        return self.atom()

    def atom(self) -> Value:
        kind, text = self.take()
        if kind == "NUM":
            return float(text)
        if text == "(":
            value = self.expr()
            self.take(")")
            return value
        if text == "[":
            items: list[Series] = []
            while True:
                item = self.expr()
                if not isinstance(item, dict):
                    raise ExpressionError("array items must be time series")
                items.append(item)
                if self.take()[1] == "]":
                    return items
        if kind != "NAME":
            raise ExpressionError(f"unexpected {text!r}")
        if self.peek() == ("SYM", "("):
            return self.call(text.upper())
        if text not in self.env:
            raise ExpressionError(f"unknown metric id {text}")
        return self.env[text]

    def call(self, fn: str) -> Value:
        self.take("(")
        if fn == "METRICS":
            needle = self.take()[1] if self.peek() and self.peek()[0] == "STR" else ""  # type: ignore[index]
            self.take(")")
            return [
                s
                for key, s in self.env.items()
                if key in self.metric_ids and needle in self.labels.get(key, key)
            ]
        arg = self.expr()
        self.take(")")
        if fn == "ABS":
            if isinstance(arg, dict):
                return {t: abs(v) for t, v in arg.items()}
            if isinstance(arg, float):
                return abs(arg)
            raise ExpressionError("ABS takes one time series")
        reduce = _REDUCERS.get(fn)
        if reduce is None:
            raise ExpressionError(f"unsupported function {fn}")
        if isinstance(arg, list):
            stamps = set().union(*(s.keys() for s in arg)) if arg else set()
            return {t: reduce([s[t] for s in arg if t in s]) for t in stamps}
        if isinstance(arg, dict):
            if not arg:
                raise ExpressionError(f"{fn} of an empty time series")
            return reduce(list(arg.values()))
        return arg


def evaluate(
    text: str, env: dict[str, Series], labels: dict[str, str], metric_ids: set[str]
) -> Series | float:
    """Evaluate ``text`` over the named series; returns one series or a scalar."""
    ev = _Evaluator(_tokens(text), env, labels, metric_ids)
    result = ev.expr()
    if ev.peek() is not None:
        raise ExpressionError(f"unexpected {ev.peek()[1]!r} in expression")  # type: ignore[index]
    if isinstance(result, list):
        raise ExpressionError("the expression must return a single time series")
    return result
