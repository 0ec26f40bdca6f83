"""Tokenizer shared by all DynamoDB expression kinds."""

from __future__ import annotations

from dataclasses import dataclass

from nimbus.aws.errors import AwsError, validation

KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"})
_TWO_CHAR = {"<>", "<=", ">="}
_ONE_CHAR = set("()[],.=<>+-")


@dataclass(slots=True, frozen=True)
class Token:
    kind: str  # name | keyword | attr_name (#x) | attr_value (:x) | number | op | eof
    text: str
    pos: int


def _is_ident_start(c: str) -> bool:
    return c.isascii() and (c.isalpha() or c == "_")


def _is_ident_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


def syntax_error(kind: str, source: str, tokens: list[Token], index: int) -> AwsError:
    """AWS's message: the offending token and the text around it."""
    tok = tokens[index]
    token_text = "<EOF>" if tok.kind == "eof" else tok.text
    start = tokens[index - 1].pos if index > 0 else tok.pos
    end_tok = tokens[index + 1] if index + 1 < len(tokens) else tok
    end = end_tok.pos + len(end_tok.text)
    near = source[start:end].strip()
    return validation(f'Invalid {kind}: Syntax error; token: "{token_text}", near: "{near}"')


def tokenize(source: str, kind: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    n = len(source)
    while i < n:
        c = source[i]
        if c.isspace():
            i += 1
            continue
        start = i
        if c in "#:":
            i += 1
            while i < n and _is_ident_char(source[i]):
                i += 1
            if i == start + 1:
                tokens.append(Token("op", c, start))
                raise syntax_error(kind, source, tokens, len(tokens) - 1)
            tokens.append(Token("attr_name" if c == "#" else "attr_value", source[start:i], start))
        elif _is_ident_start(c):
            while i < n and _is_ident_char(source[i]):
                i += 1
            word = source[start:i]
            upper = word.upper()
            tokens.append(Token("keyword" if upper in KEYWORDS else "name", word, start))
        elif c.isdigit():
            while i < n and source[i].isdigit():
                i += 1
            tokens.append(Token("number", source[start:i], start))
        elif source[i : i + 2] in _TWO_CHAR:
            tokens.append(Token("op", source[i : i + 2], start))
            i += 2
        elif c in _ONE_CHAR:
            tokens.append(Token("op", c, start))
            i += 1
        else:
            raise validation(f"Invalid {kind}: Invalid character encountered; character: {c}")
    tokens.append(Token("eof", "", n))
    return tokens
