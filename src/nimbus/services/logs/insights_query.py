"""CloudWatch Logs Insights query language (a subset): tokenizer, parser, expressions.

Supported commands, separated by ``|``: ``fields``, ``display``, ``filter``, ``parse``
(glob ``"* [*] *"`` or regex with named groups), ``sort``, ``limit``, ``dedup`` and
``stats`` with count, count_distinct, sum, avg, min, max, pct and ``by`` fields or
``bin(5m)``. Filter expressions: comparisons, ``like`` / ``not like`` (string or /regex/),
``=~``, ``in [...]``, ``and`` / ``or`` / ``not``, parentheses, arithmetic, ``ispresent()``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]
Expr = Callable[[Record], Any]

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>\d+(?:\.\d+)?(?:[smhd]\b)?)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<name>`[^`]+`|@?[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op>!=|<=|>=|=~|[=<>+\-*/(),|\[\]])
    )""",
    re.VERBOSE,
)
_REGEX = re.compile(r"\s*(/(?:[^/\\]|\\.)+/)")
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
AGGREGATES = {"count", "count_distinct", "sum", "avg", "min", "max", "pct"}


class QueryError(ValueError):
    pass


@dataclass(slots=True)
class Tok:
    kind: str
    text: str
    start: int = 0
    end: int = 0


def _regex_allowed(out: list[Tok]) -> bool:
    """A ``/`` opens a regex only where one is expected: after like, =~ or parse [field]."""
    if not out:
        return False
    last = out[-1].text.lower()
    if last in ("like", "=~", "parse"):
        return True
    return len(out) > 1 and out[-2].text.lower() == "parse" and out[-1].kind == "name"


def tokenize(text: str) -> list[Tok]:
    out: list[Tok] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        if _regex_allowed(out) and (rm := _REGEX.match(text, pos)):
            out.append(Tok("regex", rm.group(1), rm.start(1), rm.end()))
            pos = rm.end()
            continue
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise QueryError(f"unexpected character at {pos}: {text[pos : pos + 10]!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "name" and value.startswith("`"):
            value = value[1:-1]
        out.append(Tok(kind, value, m.start(kind), m.end()))
        pos = m.end()
    return out


@dataclass(slots=True)
class Aggregate:
    func: str
    arg: str | None  # field name, None for count(*)
    alias: str
    percentile: float = 0.0


@dataclass(slots=True)
class Command:
    name: str
    fields: list[tuple[str, Expr]] = field(default_factory=list)  # fields / display
    predicate: Expr | None = None  # filter
    source: str = ""  # parse
    extract: Callable[[str], dict[str, str] | None] | None = None  # parse
    order: list[tuple[str, bool]] = field(default_factory=list)  # sort: (field, descending)
    count: int = 0  # limit
    aggregates: list[Aggregate] = field(default_factory=list)  # stats
    group_by: list[tuple[str, Expr]] = field(default_factory=list)  # stats ... by


def _glob_extractor(pattern: str, names: list[str]) -> Callable[[str], dict[str, str] | None]:
    parts = pattern.split("*")
    if len(parts) - 1 != len(names):
        raise QueryError("parse: the number of * must equal the number of names")
    rx = re.compile(
        "(.*?)".join(re.escape(p) for p in parts[:-1]) + "(.*)" + re.escape(parts[-1])
        if len(parts) > 1
        else re.escape(pattern),
        re.DOTALL,
    )

    def extract(text: str) -> dict[str, str] | None:
        m = rx.search(text)
        return dict(zip(names, m.groups(), strict=True)) if m else None

    return extract


def _regex_extractor(pattern: str) -> Callable[[str], dict[str, str] | None]:
    try:
        rx = re.compile(re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", pattern))
    except re.error as exc:
        raise QueryError(f"parse: bad regex: {exc}") from None
    if not rx.groupindex:
        raise QueryError("parse: the regex needs named groups (?<name>...)")

    def extract(text: str) -> dict[str, str] | None:
        m = rx.search(text)
        return {k: v for k, v in m.groupdict().items() if v is not None} if m else None

    return extract


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(op: str, a: Any, b: Any) -> bool:
    if a is None or b is None:
        return op == "!=" and (a is None) != (b is None)
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return _COMPARE[op](na, nb)
    return _COMPARE[op](str(a), str(b))


class Parser:
    def __init__(self, tokens: list[Tok], source: str = "") -> None:
        self.t, self.i, self.source = tokens, 0, source

    def peek(self, text: str | None = None) -> Tok | None:
        tok = self.t[self.i] if self.i < len(self.t) else None
        if tok is not None and text is not None and tok.text.lower() != text:
            return None
        return tok

    def take(self, text: str | None = None) -> Tok:
        tok = self.peek()
        if tok is None or (text is not None and tok.text.lower() != text):
            raise QueryError(f"expected {text or 'more input'}, found {tok.text if tok else 'end'}")
        self.i += 1
        return tok

    def at_end_of_command(self) -> bool:
        return self.peek() is None or self.peek("|") is not None

    def commands(self) -> list[Command]:
        out = [self.command()]
        while self.peek("|"):
            self.take()
            out.append(self.command())
        if self.peek() is not None:
            raise QueryError(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return out

    def command(self) -> Command:
        name = self.take().text.lower()
        if name in ("fields", "display"):
            return Command(name, fields=self.projections())
        if name == "filter":
            return Command(name, predicate=self.or_expr())
        if name == "sort":
            order = []
            while True:
                key = self.take().text
                desc = bool(self.peek("desc"))
                if self.peek("desc") or self.peek("asc"):
                    self.take()
                order.append((key, desc))
                if not self.peek(","):
                    return Command(name, order=order)
                self.take()
        if name == "limit":
            tok = self.take()
            if tok.kind != "num" or not tok.text.isdigit() or not 1 <= int(tok.text) <= 10_000:
                raise QueryError("limit needs a number between 1 and 10000")
            return Command(name, count=int(tok.text))
        if name == "dedup":
            return Command(name, fields=self.projections())
        if name == "parse":
            return self.parse_command()
        if name == "stats":
            return self.stats_command()
        raise QueryError(f"unsupported command {name!r}")

    def projections(self) -> list[tuple[str, Expr]]:
        out = []
        while True:
            start = self.i
            expr = self.additive()
            # The default column name is the expression as written: "bin(5m)", "latency / 10".
            label = self.source[self.t[start].start : self.t[self.i - 1].end]
            if self.peek("as"):
                self.take()
                label = self.take().text
            out.append((label, expr))
            if not self.peek(","):
                return out
            self.take()

    def parse_command(self) -> Command:
        source = "@message"
        if self.peek() and self.peek().kind == "name":  # type: ignore[union-attr]
            source = self.take().text
        tok = self.take()
        if tok.kind == "regex":
            return Command("parse", source=source, extract=_regex_extractor(tok.text[1:-1]))
        if tok.kind != "str":
            raise QueryError('parse needs a "glob" or a /regex/')
        self.take("as")
        names = [self.take().text]
        while self.peek(","):
            self.take()
            names.append(self.take().text)
        return Command("parse", source=source, extract=_glob_extractor(tok.text, names))

    def stats_command(self) -> Command:
        aggs: list[Aggregate] = []
        while True:
            func = self.take().text.lower()
            if func not in AGGREGATES:
                raise QueryError(f"unsupported stats function {func!r}")
            self.take("(")
            arg = None
            pct = 0.0
            if self.peek("*"):
                self.take()
            elif not self.peek(")"):
                arg = self.take().text
            if func == "pct":
                self.take(",")
                pct = float(self.take().text)
            self.take(")")
            label = f"{func}({arg or '*'}{f', {pct:g}' if func == 'pct' else ''})"
            if self.peek("as"):
                self.take()
                label = self.take().text
            aggs.append(Aggregate(func, arg, label, pct))
            if not self.peek(","):
                break
            self.take()
        group_by: list[tuple[str, Expr]] = []
        if self.peek("by"):
            self.take()
            group_by = self.projections()
        return Command("stats", aggregates=aggs, group_by=group_by)

    # --- expressions ---------------------------------------------------------------------

    def or_expr(self) -> Expr:
        parts = [self.and_expr()]
        while self.peek("or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def and_expr(self) -> Expr:
        parts = [self.not_expr()]
        while self.peek("and"):
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def not_expr(self) -> Expr:
        if self.peek("not"):
            self.take()
            inner = self.not_expr()
            return lambda r: not inner(r)
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.additive()
        tok = self.peek()
        if tok is None:
            return lambda r: bool(left(r))
        low = tok.text.lower()
        negate = False
        if (
            low == "not"
            and self.i + 1 < len(self.t)
            and self.t[self.i + 1].text.lower()
            in (
                "like",
                "in",
            )
        ):
            self.take()
            negate, low = True, self.peek().text.lower()  # type: ignore[union-attr]
        if low in ("like", "=~"):
            self.take()
            pat = self.take()
            if pat.kind == "regex":
                rx = re.compile(pat.text[1:-1])
                test: Callable[[str], bool] = lambda s: rx.search(s) is not None  # noqa: E731
            elif pat.kind == "str":
                test = lambda s, sub=pat.text: sub in s  # noqa: E731
            else:
                raise QueryError('like needs a "string" or a /regex/')
            return lambda r: (left(r) is not None and test(str(left(r)))) != negate
        if low == "in":
            self.take()
            self.take("[")
            items = [self.additive()]
            while self.peek(","):
                self.take()
                items.append(self.additive())
            self.take("]")
            return lambda r: any(_compare("=", left(r), it(r)) for it in items) != negate
        if tok.text in _COMPARE:
            self.take()
            right = self.additive()
            return lambda r: _compare(tok.text, left(r), right(r))
        return lambda r: bool(left(r))

    def additive(self) -> Expr:
        expr = self.term()
        while (tok := self.peek()) is not None and tok.text in "+-" and tok.kind == "op":
            self.take()
            expr = self._arith(expr, self.term(), tok.text)
        return expr

    def term(self) -> Expr:
        expr = self.atom()
        while (tok := self.peek()) is not None and tok.text in "*/" and tok.kind == "op":
            self.take()
            expr = self._arith(expr, self.atom(), tok.text)
        return expr

    @staticmethod
    def _arith(a: Expr, b: Expr, op: str) -> Expr:
        def run(r: Record) -> Any:
            x, y = _number(a(r)), _number(b(r))
            if x is None or y is None or (op == "/" and y == 0):
                return None
            return _ARITH[op](x, y)

        return run

    def atom(self) -> Expr:
        tok = self.take()
        if tok.text == "(":
            inner = self.or_expr()
            self.take(")")
            return inner
        if tok.kind == "num":
            if tok.text[-1] in UNITS_S:
                raise QueryError(f"unexpected duration {tok.text}")
            value = float(tok.text)
            return lambda r: value
        if tok.kind == "str":
            return lambda r, v=tok.text: v
        if tok.kind == "op" and tok.text == "-":
            inner = self.atom()
            return lambda r: None if _number(inner(r)) is None else -_number(inner(r))  # type: ignore[operator]
        if tok.kind != "name":
            raise QueryError(f"unexpected {tok.text!r}")
        if self.peek("("):
            return self.function(tok.text.lower())
        name = tok.text
        return lambda r: r.get(name)

    def function(self, name: str) -> Expr:
        self.take("(")
        if name == "bin":
            size = self.take()
            if size.kind != "num" or size.text[-1] not in UNITS_S:
                raise QueryError("bin needs a duration such as 5m")
            seconds = float(size.text[:-1]) * UNITS_S[size.text[-1]]
            self.take(")")
            ms = int(seconds * 1000)
            return lambda r: (r["@timestamp"] // ms) * ms if "@timestamp" in r else None
        args = [self.additive()]
        while self.peek(","):
            self.take()
            args.append(self.additive())
        self.take(")")
        simple: dict[str, Callable[..., Any]] = {
            "ispresent": lambda v: v is not None,
            "isblank": lambda v: v is None or str(v).strip() == "",
            "strlen": lambda v: None if v is None else len(str(v)),
            "tolower": lambda v: None if v is None else str(v).lower(),
            "toupper": lambda v: None if v is None else str(v).upper(),
            "abs": lambda v: None if _number(v) is None else abs(_number(v)),  # type: ignore[arg-type]
        }
        if name in simple and len(args) == 1:
            fn, arg = simple[name], args[0]
            return lambda r: fn(arg(r))
        raise QueryError(f"unsupported function {name}()")


def parse_query(text: str) -> list[Command]:
    if not text.strip():
        raise QueryError("the query is empty")
    return Parser(tokenize(text), text.rstrip()).commands()
