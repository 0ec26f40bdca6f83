"""CloudWatch Logs filter patterns: a tokenizer, a recursive-descent parser and a matcher.

Three syntaxes, chosen by the first character, as in AWS:

* terms: ``ERROR "disk full" ?WARN -DEBUG %regex%`` — plain and quoted terms must all occur
  (case-sensitive substring), at least one ``?`` term must occur if any is given, no ``-`` term
  may occur;
* JSON: ``{ ($.level = "ERROR" || $.latency > 100) && $.user NOT EXISTS }``;
* space-delimited: ``[ip, user, ..., status = 5*, bytes > 1000]``.

``compile_pattern`` returns a predicate over the raw message; a bad pattern raises
:class:`FilterPatternError`, which the provider turns into ``InvalidParameterException``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Matcher = Callable[[str], bool]
# A binder returns what a match captured (``{"$": json_doc}`` or ``{"$field": value}``), or None.
Binder = Callable[[str], dict[str, Any] | None]

# Characters that end a bare word; ``$`` selectors additionally keep ``[`` ``]`` (indexes).
_SPECIAL = set('{}()[],=!<>&|"')
_MISSING = object()


class FilterPatternError(ValueError):
    pass


@dataclass(slots=True)
class Token:
    kind: str  # WORD STRING REGEX OP AND OR ( ) { } [ ] ,
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == '"':
            j, buf = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise FilterPatternError(f"unterminated quote at {i}")
            tokens.append(Token("STRING", "".join(buf), i))
            i = j + 1
        elif c == "%":
            j = text.find("%", i + 1)
            if j < 0:
                raise FilterPatternError(f"unterminated regex at {i}")
            tokens.append(Token("REGEX", text[i + 1 : j], i))
            i = j + 1
        elif text.startswith(("&&", "||"), i):
            tokens.append(Token("AND" if c == "&" else "OR", text[i : i + 2], i))
            i += 2
        elif text.startswith(("!=", "<=", ">="), i):
            tokens.append(Token("OP", text[i : i + 2], i))
            i += 2
        elif c in "=<>":
            tokens.append(Token("OP", c, i))
            i += 1
        elif c in "{}()[],":
            tokens.append(Token(c, c, i))
            i += 1
        elif c in "!&|":
            raise FilterPatternError(f"unexpected {c!r} at {i}")
        else:
            j = i
            selector = c == "$"
            while j < n and not text[j].isspace():
                if text[j] in _SPECIAL and not (selector and text[j] in "[]"):
                    break
                j += 1
            tokens.append(Token("WORD", text[i:j], i))
            i = j
    return tokens


def _wildcard(value: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in value.split("*")), re.DOTALL)


def _regex(source: str) -> re.Pattern[str]:
    if len(source) > 256:
        raise FilterPatternError("regex too long")
    try:
        return re.compile(source)
    except re.error as exc:
        raise FilterPatternError(f"bad regex: {exc}") from exc


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if text.strip().lower() not in ("nan", "inf", "-inf", "infinity") else None


# --- comparisons shared by JSON and space-delimited patterns -----------------------------


@dataclass(slots=True)
class Comparison:
    op: str
    number: float | None  # set when the right side is an unquoted number
    text: re.Pattern[str] | None  # wildcard or regex for string comparison
    regex: bool = False

    def test(self, value: Any) -> bool:
        if self.number is not None:
            if isinstance(value, bool):
                return False
            actual = value if isinstance(value, int | float) else _number(str(value))
            if actual is None:
                return False
            return _NUMERIC_OPS[self.op](actual, self.number)
        assert self.text is not None
        if isinstance(value, bool) or value is None or isinstance(value, dict | list):
            return False
        string = str(value)
        hit = bool(self.text.search(string) if self.regex else self.text.fullmatch(string))
        return hit if self.op == "=" else not hit


_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self, kind: str | None = None) -> Token:
        tok = self.peek()
        if tok is None:
            raise FilterPatternError("pattern ends too early")
        if kind is not None and tok.kind != kind:
            raise FilterPatternError(f"expected {kind} at {tok.pos}, found {tok.text!r}")
        self.i += 1
        return tok

    def at(self, kind: str, text: str | None = None) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == kind and (text is None or tok.text == text)

    def comparison(self) -> Comparison:
        op = self.take("OP").text
        tok = self.take()
        if tok.kind == "REGEX":
            if op not in ("=", "!="):
                raise FilterPatternError("regex needs = or !=")
            return Comparison(op, None, _regex(tok.text), regex=True)
        if tok.kind == "WORD" and (num := _number(tok.text)) is not None:
            return Comparison(op, num, None)
        if tok.kind not in ("WORD", "STRING"):
            raise FilterPatternError(f"expected a value at {tok.pos}")
        if op not in ("=", "!="):
            raise FilterPatternError(f"{op} needs a number at {tok.pos}")
        return Comparison(op, None, _wildcard(tok.text))

    def boolean(self, primary: Callable[[], Callable[[Any], bool]]) -> Callable[[Any], bool]:
        """``a && b || c`` with && binding tighter, over predicates built by ``primary``."""
        alternatives = [self._conjunction(primary)]
        while self.at("OR"):
            self.take()
            alternatives.append(self._conjunction(primary))
        if len(alternatives) == 1:
            return alternatives[0]
        return lambda ctx: any(p(ctx) for p in alternatives)

    def _conjunction(self, primary: Callable[[], Callable[[Any], bool]]) -> Callable[[Any], bool]:
        parts = [primary()]
        while self.at("AND"):
            self.take()
            parts.append(primary())
        if len(parts) == 1:
            return parts[0]
        return lambda ctx: all(p(ctx) for p in parts)

    def end(self) -> None:
        tok = self.peek()
        if tok is not None:
            raise FilterPatternError(f"unexpected {tok.text!r} at {tok.pos}")


# --- JSON patterns -----------------------------------------------------------------------

_SELECTOR_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def _selector(text: str) -> list[str | int]:
    if not text.startswith("$"):
        raise FilterPatternError(f"JSON selector must start with $: {text!r}")
    path: list[str | int] = []
    pos = 1
    while pos < len(text):
        m = _SELECTOR_PART.match(text, pos)
        if not m:
            raise FilterPatternError(f"bad selector {text!r}")
        path.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not path:
        raise FilterPatternError("selector $ selects nothing")
    return path


def _lookup(doc: Any, path: list[str | int]) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(doc, list) or step >= len(doc):
                return _MISSING
            doc = doc[step]
        else:
            if not isinstance(doc, dict) or step not in doc:
                return _MISSING
            doc = doc[step]
    return doc


class _JsonParser(_Parser):
    def primary(self) -> Callable[[Any], bool]:
        if self.at("("):
            self.take()
            inner = self.boolean(self.primary)
            self.take(")")
            return inner
        path = _selector(self.take("WORD").text)
        if self.at("WORD", "IS"):
            self.take()
            word = self.take("WORD").text
            expected = {"NULL": None, "TRUE": True, "FALSE": False}
            if word not in expected:
                raise FilterPatternError(f"IS {word} is not supported")
            want = expected[word]
            return lambda doc: (v := _lookup(doc, path)) is not _MISSING and v is want
        if self.at("WORD", "NOT"):
            self.take()
            if self.take("WORD").text != "EXISTS":
                raise FilterPatternError("expected NOT EXISTS")
            return lambda doc: _lookup(doc, path) is _MISSING
        cmp = self.comparison()
        return lambda doc: (v := _lookup(doc, path)) is not _MISSING and cmp.test(v)

    def parse(self) -> Binder:
        self.take("{")
        predicate = self.boolean(self.primary)
        self.take("}")
        self.end()

        def bind(message: str) -> dict[str, Any] | None:
            if not message.lstrip().startswith("{"):
                return None
            try:
                doc = json.loads(message)
            except ValueError:
                return None
            return {"$": doc} if isinstance(doc, dict) and predicate(doc) else None

        return bind


# --- space-delimited patterns -------------------------------------------------------------

_ELLIPSIS = "..."


def split_fields(message: str) -> list[str]:
    """Whitespace-separated fields; ``"..."`` and ``[...]`` are single fields (delimiters cut)."""
    fields: list[str] = []
    i, n = 0, len(message)
    while i < n:
        c = message[i]
        if c.isspace():
            i += 1
            continue
        close = {'"': '"', "[": "]"}.get(c)
        if close is not None:
            j = message.find(close, i + 1)
            if j >= 0:
                fields.append(message[i + 1 : j])
                i = j + 1
                continue
        j = i
        while j < n and not message[j].isspace():
            j += 1
        fields.append(message[i:j])
        i = j
    return fields


class _DelimitedParser(_Parser):
    def condition_primary(self) -> Callable[[Any], bool]:
        if self.at("("):
            self.take()
            inner = self.boolean(self.condition_primary)
            self.take(")")
            return inner
        name = self.take("WORD").text
        cmp = self.comparison()
        return lambda bound: name in bound and cmp.test(bound[name])

    def parse(self) -> Binder:
        self.take("[")
        names: list[str] = []
        conditions: list[Callable[[Any], bool]] = []
        while not self.at("]"):
            if names:
                self.take(",")
            name = self.take("WORD").text
            names.append(name)
            if name != _ELLIPSIS and self.at("OP"):
                self.i -= 1  # the condition starts with this field's own name
                conditions.append(self.boolean(self.condition_primary))
        self.take("]")
        self.end()
        if not names:
            return lambda message: {}

        def bind(message: str) -> dict[str, Any] | None:
            for bound in _alignments(names, split_fields(message)):
                if all(c(bound) for c in conditions):
                    return {f"${k}": v for k, v in bound.items()}
            return None

        return bind


def _alignments(names: list[str], fields: list[str]) -> Any:
    """Every way the named slots (``...`` absorbing zero or more fields) cover the fields."""

    def walk(ni: int, fi: int, bound: dict[str, str]) -> Any:
        if ni == len(names):
            if fi == len(fields):
                yield bound
            return
        if names[ni] == _ELLIPSIS:
            for skip in range(len(fields) - fi + 1):
                yield from walk(ni + 1, fi + skip, bound)
            return
        if fi < len(fields):
            yield from walk(ni + 1, fi + 1, {**bound, names[ni]: fields[fi]})

    return walk(0, 0, {})


# --- term patterns --------------------------------------------------------------------------


def _term_tokens(text: str) -> list[tuple[str, str, str]]:
    """(prefix, kind, text) triples: prefix is "", "?" or "-"; kind is TERM or REGEX.

    Terms are whitespace-separated; quotes make one term of a phrase, ``%...%`` is a regex.
    """
    out: list[tuple[str, str, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        prefix = ""
        if text[i] in "?-" and i + 1 < n and not text[i + 1].isspace():
            prefix, i = text[i], i + 1
        c = text[i]
        if c in '"%':
            j = text.find(c, i + 1)
            if j < 0:
                raise FilterPatternError(f"unterminated {c} at {i}")
            out.append((prefix, "REGEX" if c == "%" else "TERM", text[i + 1 : j]))
            i = j + 1
            continue
        j = i
        while j < n and not text[j].isspace():
            j += 1
        out.append((prefix, "TERM", text[i:j]))
        i = j
    return out


def _term_matcher(source: str) -> Matcher:
    required: list[Callable[[str], bool]] = []
    optional: list[Callable[[str], bool]] = []
    excluded: list[Callable[[str], bool]] = []
    for prefix, kind, text in _term_tokens(source):
        bucket = {"": required, "?": optional, "-": excluded}[prefix]
        if kind == "REGEX":
            rx = _regex(text)
            bucket.append(lambda m, rx=rx: rx.search(m) is not None)
        else:
            bucket.append(lambda m, t=text: t in m)

    def match(message: str) -> bool:
        return (
            all(p(message) for p in required)
            and (not optional or any(p(message) for p in optional))
            and not any(p(message) for p in excluded)
        )

    return match


def compile_binder(text: str | None) -> Binder:
    """Parse a filter pattern into a function returning a match's captured values or None."""
    source = (text or "").strip()
    if not source:
        return lambda message: {}
    if len(source) > 1024:
        raise FilterPatternError("filter pattern longer than 1024 characters")
    if source.startswith("{"):
        return _JsonParser(tokenize(source)).parse()
    if source.startswith("["):
        return _DelimitedParser(tokenize(source)).parse()
    matcher = _term_matcher(source)
    return lambda message: {} if matcher(message) else None


def compile_pattern(text: str | None) -> Matcher:
    """Parse a filter pattern into a predicate over event messages."""
    source = (text or "").strip()
    if not source:
        return lambda message: True
    if not source.startswith(("{", "[")):
        return _term_matcher(source)
    binder = compile_binder(source)
    return lambda message: binder(message) is not None


def captured_value(captured: dict[str, Any], reference: str) -> Any:
    """Resolve a metric filter reference (``$.a.b`` in JSON, ``$field`` in space-delimited)."""
    if reference.startswith("$.") and "$" in captured:
        value = _lookup(captured["$"], _selector(reference))
        return None if value is _MISSING else value
    return captured.get(reference)


def sql_prefilter(text: str | None) -> tuple[list[str], bool]:
    """(substrings every match contains, matches are JSON objects) for narrowing in SQL.

    Only a hint: the compiled pattern still decides. Never wrong, possibly not narrow.
    """
    source = (text or "").strip()
    if source.startswith("{"):
        return [], True
    if not source or source.startswith("["):
        return [], False
    return [t for prefix, kind, t in _term_tokens(source) if not prefix and kind == "TERM"], False
