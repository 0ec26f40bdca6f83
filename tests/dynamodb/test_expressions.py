"""Expression language, numbers and key encoding, without a table."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from nimbus.aws.errors import AwsError
from nimbus.services.dynamodb import keys, numbers
from nimbus.services.dynamodb.expressions import update
from nimbus.services.dynamodb.expressions.evaluator import Bindings, evaluate, project
from nimbus.services.dynamodb.expressions.parser import parse

ITEM: dict[str, Any] = {
    "id": {"S": "k1"},
    "n": {"N": "5"},
    "s": {"S": "hello world"},
    "tags": {"SS": ["a", "b"]},
    "nums": {"NS": ["1", "2.5"]},
    "m": {"M": {"x": {"L": [{"N": "1"}, {"M": {"y": {"S": "deep"}}}]}, "flag": {"BOOL": True}}},
    "l": {"L": [{"S": "p"}, {"N": "7"}]},
    "nul": {"NULL": True},
}


def cond(expr: str, values: dict[str, Any] | None = None, names: dict[str, str] | None = None):
    b = Bindings(names, values)
    ast = b.parse(expr, "condition")
    b.check_unused()
    return evaluate(ast, ITEM)


def fails(fn: Any, *args: Any, **kwargs: Any) -> AwsError:
    with pytest.raises(AwsError) as info:
        fn(*args, **kwargs)
    assert info.value.code == "ValidationException"
    return info.value


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("n = :five", True),
        ("n <> :five", False),
        ("n < :six AND n >= :five", True),
        ("n BETWEEN :one AND :six", True),
        ("n IN (:one, :five)", True),
        ("attribute_exists(m.x[1].y)", True),
        ("attribute_not_exists(m.x[2])", True),
        ("attribute_type(tags, :ss)", True),
        ("begins_with(s, :hel)", True),
        ("contains(s, :wor)", True),
        ("contains(tags, :a)", True),
        ("contains(nums, :twofive)", True),
        ("contains(l, :p)", True),
        ("size(s) = :eleven", True),
        ("size(tags) < :six", True),
        ("NOT n = :five OR n = :five AND n = :one", False),  # NOT > AND > OR
        ("(NOT n = :five OR n = :five) AND n = :one", False),
        ("NOT (n = :one)", True),
        ("absent <> :five", True),  # absent attribute is never equal
        ("absent < :five", False),
        ("s < :six", False),  # different types never compare
        ("m.x[0] = :one", True),
    ],
)
def test_condition_semantics(expr: str, expected: bool) -> None:
    values = {
        ":five": {"N": "5.0"},
        ":six": {"N": "6"},
        ":one": {"N": "1"},
        ":ss": {"S": "SS"},
        ":hel": {"S": "hel"},
        ":wor": {"S": "o w"},
        ":a": {"S": "a"},
        ":twofive": {"N": "2.50"},
        ":p": {"S": "p"},
        ":eleven": {"N": "11"},
    }
    used = {k: v for k, v in values.items() if k in expr} or None
    assert cond(expr, used) is expected


def test_names_placeholders_and_reserved_words() -> None:
    assert cond("#name = :v", {":v": {"S": "k1"}}, {"#name": "id"})
    err = fails(cond, "name = :v", {":v": {"S": "x"}})
    assert "reserved keyword; reserved keyword: name" in err.message
    err = fails(cond, "#missing = :v", {":v": {"S": "x"}}, {"#other": "id"})
    assert "attribute name: #missing" in err.message


def test_unused_and_undefined_placeholders() -> None:
    err = fails(cond, "n = :a", {":a": {"N": "1"}, ":x": {"N": "2"}})
    assert err.message == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"
    )
    err = fails(cond, "n = :a", {":b": {"N": "1"}})
    assert "attribute value: :a" in err.message
    err = fails(cond, "n = :a", {":a": {"N": "1"}}, {"#u": "x"})
    assert "ExpressionAttributeNames unused in expressions: keys: {#u}" in err.message


@pytest.mark.parametrize(
    ("expr", "token"),
    [("SET a = ", "<EOF>"), ("SET = :v", "="), ("SET a :v", ":v"), ("PUT a = :v", "PUT")],
)
def test_update_syntax_errors_name_the_token(expr: str, token: str) -> None:
    err = fails(parse, expr, "update")
    assert err.message.startswith(f'Invalid UpdateExpression: Syntax error; token: "{token}"')
    assert "near:" in err.message


def test_clause_twice_and_unknown_function() -> None:
    assert "can only be used once" in fails(parse, "SET a = :v SET b = :v", "update").message
    assert "Invalid function name; function: nope" in fails(parse, "nope(a)", "condition").message
    msg = fails(parse, "SET a = attribute_exists(b)", "update").message
    assert "not allowed in an update expression" in msg


def test_attribute_type_requires_a_known_type() -> None:
    err = fails(cond, "attribute_type(n, :t)", {":t": {"S": "STRING"}})
    assert "Invalid attribute type name found; type: STRING" in err.message


def test_between_bounds_must_be_ordered() -> None:
    err = fails(cond, "n BETWEEN :hi AND :lo", {":hi": {"N": "9"}, ":lo": {"N": "1"}})
    assert "BETWEEN operator requires upper bound" in err.message


def _apply(expr: str, values: dict[str, Any] | None = None, item: dict[str, Any] | None = None):
    b = Bindings(None, values)
    clauses = b.parse(expr, "update")
    return update.apply(item if item is not None else ITEM, clauses, ("id",))


def test_update_set_arithmetic_functions_and_nested_paths() -> None:
    new, paths = _apply(
        "SET n = n + :one, c = if_not_exists(c, :zero) - :one, l = list_append(l, :more), "
        "m.x[1].y = :z, m.x[5] = :z REMOVE nul ADD tags :b2 DELETE nums :n1",
        {
            ":one": {"N": "1"},
            ":zero": {"N": "0"},
            ":more": {"L": [{"S": "q"}]},
            ":z": {"S": "Z"},
            ":b2": {"SS": ["b", "c"]},
            ":n1": {"NS": ["1"]},
        },
    )
    assert new["n"] == {"N": "6"}
    assert new["c"] == {"N": "-1"}
    assert new["l"] == {"L": [{"S": "p"}, {"N": "7"}, {"S": "q"}]}
    assert new["m"]["M"]["x"]["L"] == [{"N": "1"}, {"M": {"y": {"S": "Z"}}}, {"S": "Z"}]
    assert "nul" not in new
    assert new["tags"] == {"SS": ["a", "b", "c"]}
    assert new["nums"] == {"NS": ["2.5"]}
    assert ITEM["n"] == {"N": "5"} and ITEM["m"]["M"]["x"]["L"][1] == {"M": {"y": {"S": "deep"}}}
    assert ("n",) in paths


def test_update_errors() -> None:
    assert "part of the key" in fails(_apply, "SET id = :v", {":v": {"S": "x"}}).message
    msg = fails(_apply, "SET a = :v, a.b = :v", {":v": {"S": "x"}}).message
    assert "Two document paths overlap" in msg
    msg = fails(_apply, "SET a = s + :v", {":v": {"N": "1"}}).message
    assert msg == "An operand in the update expression has an incorrect data type"
    msg = fails(_apply, "SET a = nothere + :v", {":v": {"N": "1"}}).message
    assert "refers to an attribute that does not exist" in msg
    msg = fails(_apply, "SET nothere.x = :v", {":v": {"N": "1"}}).message
    assert msg == "The document path provided in the update expression is invalid for update"
    msg = fails(_apply, "ADD s :v", {":v": {"S": "x"}}).message
    assert "operator: ADD, operand type: STRING" in msg
    # deleting the last elements of a set removes the attribute
    new, _ = _apply("DELETE tags :t", {":t": {"SS": ["a", "b"]}})
    assert "tags" not in new


def test_remove_list_elements_uses_original_indexes() -> None:
    item = {"id": {"S": "k"}, "l": {"L": [{"N": str(i)} for i in range(5)]}}
    new, _ = _apply("REMOVE l[1], l[3]", None, item)
    assert new["l"] == {"L": [{"N": "0"}, {"N": "2"}, {"N": "4"}]}


def test_projection_of_nested_paths() -> None:
    b = Bindings({"#m": "m"}, None)
    paths = b.parse("id, #m.x[1].y, l[1], nope", "projection")
    assert project(ITEM, paths) == {
        "id": {"S": "k1"},
        "m": {"M": {"x": {"L": [{"M": {"y": {"S": "deep"}}}]}}},
        "l": {"L": [{"N": "7"}]},
    }


def test_projection_paths_must_not_overlap() -> None:
    b = Bindings({"#m": "m"}, None)
    msg = fails(b.parse, "#m.x, m", "projection").message
    assert msg.startswith("Invalid ProjectionExpression: Two document paths overlap")


def test_parse_cache_returns_same_tree() -> None:
    assert parse("a = :b", "condition") is parse("a = :b", "condition")


@pytest.mark.parametrize(
    ("text", "normal"),
    [("1.50", "1.5"), ("100", "100"), ("1e2", "100"), ("-0.000", "0"), ("0.0001", "0.0001")],
)
def test_numbers_are_normalised(text: str, normal: str) -> None:
    assert numbers.normalize(text) == normal


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1E+126", "Number overflow"),
        ("1E-131", "Number underflow"),
        ("1" * 39, "more than 38 significant digits"),
        ("abc", "cannot be converted into a number"),
        ("NaN", "cannot be converted into a number"),
    ],
)
def test_number_limits(text: str, fragment: str) -> None:
    assert fragment in fails(numbers.normalize, text).message


def test_arithmetic_is_exact_to_38_digits() -> None:
    a = Decimal("0.1")
    assert numbers.render(numbers.arithmetic(a, Decimal("0.2"), subtract=False)) == "0.3"
    big = Decimal("9" * 38)
    fails(numbers.arithmetic, big, Decimal("1"), subtract=False)


def test_number_encoding_preserves_numeric_order() -> None:
    rng = random.Random(7)
    values = ["0", "-1", "1", "-0.5", "0.5", "10", "-10", "9.99", "-9.99", "1E+125", "-1E+125"]
    values += ["1E-130", "-1E-130", "123.456", "-123.456", "123.4567", "-123.4567"]
    values += [str(Decimal(rng.randint(-(10**6), 10**6)) / 1000) for _ in range(300)]
    parsed = sorted({numbers.parse(v) for v in values})
    encoded = [numbers.encode_sortable(d) for d in parsed]
    assert encoded == sorted(encoded)


def test_string_and_binary_keys_order_bytewise() -> None:
    words = ["a", "B", "ä", "z", "", "ab", "\U0001f600", "\uffff"]
    enc = sorted(keys.encode("S", w) for w in words)
    assert enc == sorted(w.encode() for w in words)
    assert keys.encode("B", b"\x00\xff") < keys.encode("B", b"\x01")
