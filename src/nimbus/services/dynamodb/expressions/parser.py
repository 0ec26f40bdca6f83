"""Recursive-descent parser for condition, key-condition, update and projection expressions.

The AST is made of tuples (cheap to build, cache and bind):
  ("path", (elem, ...))      elem: attribute name, "#placeholder" or int list index
  ("value", ":placeholder")  after binding: ("value", AttributeValue)
  ("size", path)  ("if_not_exists", path, op)  ("list_append", a, b)  ("+"|"-", a, b)
  ("cmp", op, a, b)  ("between", a, lo, hi)  ("in", a, [ops])  ("func", name, [args])
  ("and", a, b)  ("or", a, b)  ("not", a)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from nimbus.aws.errors import AwsError, validation
from nimbus.services.dynamodb.expressions.lexer import Token, syntax_error, tokenize
from nimbus.services.dynamodb.expressions.reserved import RESERVED_WORDS

Node = tuple[Any, ...]
COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
PATH_FIRST_FUNCTIONS = frozenset(
    {"attribute_exists", "attribute_not_exists", "attribute_type", "size", "if_not_exists"}
)
KIND_NAMES = {
    "condition": "ConditionExpression",
    "filter": "FilterExpression",
    "key": "KeyConditionExpression",
    "update": "UpdateExpression",
    "projection": "ProjectionExpression",
}


@dataclass(slots=True, frozen=True)
class Parsed:
    kind: str
    ast: Any  # a Node; for update a dict clause -> list of actions; for projection a list
    names: frozenset[str]
    values: frozenset[str]


class _Parser:
    def __init__(self, source: str, kind: str) -> None:
        self.source = source
        self.kind = kind
        self.label = KIND_NAMES[kind]
        self.tokens = tokenize(source, self.label)
        self.i = 0
        self.names: set[str] = set()
        self.values: set[str] = set()

    # -- token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self) -> AwsError:
        return syntax_error(self.label, self.source, self.tokens, self.i)

    def fail(self, detail: str) -> AwsError:
        return validation(f"Invalid {self.label}: {detail}")

    def is_op(self, text: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == text

    def is_keyword(self, word: str) -> bool:
        return self.tok.kind == "keyword" and self.tok.text.upper() == word

    def expect_op(self, text: str) -> None:
        if not self.is_op(text):
            raise self.error()
        self.i += 1

    def expect_eof(self) -> None:
        if self.tok.kind != "eof":
            raise self.error()

    def at_function(self) -> bool:
        if self.tok.kind != "name":
            return False
        nxt = self.tokens[self.i + 1]
        return nxt.kind == "op" and nxt.text == "("

    # -- operands
    def path(self) -> Node:
        elems: list[Any] = [self.path_name()]
        while True:
            if self.is_op("."):
                self.i += 1
                elems.append(self.path_name())
            elif self.is_op("["):
                self.i += 1
                if self.tok.kind != "number":
                    raise self.error()
                elems.append(int(self.tok.text))
                self.i += 1
                self.expect_op("]")
            else:
                return ("path", tuple(elems))

    def path_name(self) -> str:
        tok = self.tok
        if tok.kind == "attr_name":
            self.names.add(tok.text)
        elif tok.kind == "name":
            if tok.text.upper() in RESERVED_WORDS:
                raise self.fail(
                    f"Attribute name is a reserved keyword; reserved keyword: {tok.text}"
                )
        else:
            raise self.error()
        self.i += 1
        return tok.text

    def value(self) -> Node:
        tok = self.tok
        if tok.kind != "attr_value":
            raise self.error()
        self.values.add(tok.text)
        self.i += 1
        return ("value", tok.text)

    def call(self, allowed: dict[str, int]) -> tuple[str, list[Node]]:
        name = self.tok.text
        if name not in CONDITION_FUNCTIONS and name not in UPDATE_FUNCTIONS and name != "size":
            raise self.fail(f"Invalid function name; function: {name}")
        if name not in allowed:
            where = "an update" if self.kind == "update" else "a condition"
            raise self.fail(f"The function is not allowed in {where} expression; function: {name}")
        self.i += 2
        args = [self.operand()]
        while self.is_op(","):
            self.i += 1
            args.append(self.operand())
        self.expect_op(")")
        if len(args) != allowed[name]:
            raise self.fail(
                "Incorrect number of operands for operator or function; "
                f"operator or function: {name}, number of operands: {len(args)}"
            )
        if name in PATH_FIRST_FUNCTIONS and args[0][0] != "path":
            raise self.fail(
                f"Operator or function requires a document path; operator or function: {name}"
            )
        return name, args

    def operand(self) -> Node:
        if self.tok.kind == "attr_value":
            return self.value()
        if self.at_function():
            if self.kind == "update":
                name, args = self.call(UPDATE_FUNCTIONS)
                return (name, *args)
            name, args = self.call({"size": 1})
            return ("size", args[0])
        return self.path()

    # -- conditions
    def condition(self) -> Node:
        left = self.conjunction()
        while self.is_keyword("OR"):
            self.i += 1
            left = ("or", left, self.conjunction())
        return left

    def conjunction(self) -> Node:
        left = self.negation()
        while self.is_keyword("AND"):
            self.i += 1
            left = ("and", left, self.negation())
        return left

    def negation(self) -> Node:
        if self.is_keyword("NOT"):
            self.i += 1
            return ("not", self.negation())
        return self.predicate()

    def predicate(self) -> Node:
        if self.is_op("("):
            self.i += 1
            inner = self.condition()
            self.expect_op(")")
            return inner
        if self.at_function() and self.tok.text in CONDITION_FUNCTIONS:
            name, args = self.call(CONDITION_FUNCTIONS)
            return ("func", name, args)
        left = self.operand()
        tok = self.tok
        if tok.kind == "op" and tok.text in COMPARATORS:
            self.i += 1
            return ("cmp", tok.text, left, self.operand())
        if self.is_keyword("BETWEEN"):
            self.i += 1
            low = self.operand()
            if not self.is_keyword("AND"):
                raise self.error()
            self.i += 1
            return ("between", left, low, self.operand())
        if self.is_keyword("IN"):
            self.i += 1
            self.expect_op("(")
            options = [self.operand()]
            while self.is_op(","):
                self.i += 1
                options.append(self.operand())
            self.expect_op(")")
            return ("in", left, options)
        if left[0] == "size" and tok.kind == "eof":
            raise self.fail(
                "The function is not allowed to be used this way in an expression; function: size"
            )
        raise self.error()

    # -- update
    def update(self) -> dict[str, list[Node]]:
        clauses: dict[str, list[Node]] = {}
        if self.tok.kind == "eof":
            raise self.error()
        while self.tok.kind != "eof":
            if self.tok.kind != "keyword" or self.tok.text.upper() not in (
                "SET",
                "REMOVE",
                "ADD",
                "DELETE",
            ):
                raise self.error()
            clause = self.tok.text.upper()
            if clause in clauses:
                raise self.fail(
                    f'The "{clause}" section can only be used once in an update expression;'
                )
            self.i += 1
            actions = [self.update_action(clause)]
            while self.is_op(","):
                self.i += 1
                actions.append(self.update_action(clause))
            clauses[clause] = actions
        return clauses

    def update_action(self, clause: str) -> Node:
        target = self.path()
        if clause == "REMOVE":
            return (target,)
        if clause in ("ADD", "DELETE"):
            return (target, self.value())
        self.expect_op("=")
        left = self.operand()
        if self.tok.kind == "op" and self.tok.text in "+-":
            op = self.tok.text
            self.i += 1
            return (target, (op, left, self.operand()))
        return (target, left)

    def projection(self) -> list[Node]:
        paths = [self.path()]
        while self.is_op(","):
            self.i += 1
            paths.append(self.path())
        return paths


@lru_cache(maxsize=2048)
def parse(source: str, kind: str) -> Parsed:
    parser = _Parser(source, kind)
    if parser.tok.kind == "eof":
        raise validation(f"Invalid {parser.label}: The expression can not be empty;")
    if kind == "update":
        ast: Any = parser.update()
    elif kind == "projection":
        ast = parser.projection()
    else:
        ast = parser.condition()
    parser.expect_eof()
    return Parsed(kind, ast, frozenset(parser.names), frozenset(parser.values))
