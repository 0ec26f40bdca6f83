"""Filter patterns as users write them in FilterLogEvents and metric filters."""

from __future__ import annotations

import json

import pytest

from nimbus.services.logs.filter_pattern import FilterPatternError, compile_pattern, split_fields


def matches(pattern: str, message: str) -> bool:
    return compile_pattern(pattern)(message)


@pytest.mark.parametrize("pattern", ["", "   ", None])
def test_empty_pattern_matches_everything(pattern: str | None) -> None:
    assert compile_pattern(pattern)("anything at all")


def test_terms_must_all_occur_case_sensitive() -> None:
    assert matches("ERROR timeout", "ERROR: upstream timeout after 3s")
    assert not matches("ERROR timeout", "ERROR: upstream refused")
    assert not matches("ERROR", "error: lowercase")


def test_quoted_phrase_keeps_spaces_and_punctuation() -> None:
    assert matches('"disk full"', "write failed: disk full")
    assert not matches('"disk full"', "full disk")
    assert matches('"user=bob"', "login user=bob ok")


def test_optional_terms_need_one_match() -> None:
    assert matches("?ERROR ?WARN", "WARN low memory")
    assert matches("?ERROR ?WARN", "ERROR crashed")
    assert not matches("?ERROR ?WARN", "INFO all good")


def test_excluded_terms() -> None:
    assert matches("ERROR -Exiting", "ERROR retrying")
    assert not matches("ERROR -Exiting", "ERROR Exiting now")
    assert not matches('ERROR -"shutting down"', "ERROR shutting down")


def test_regex_term() -> None:
    assert matches("%req-[0-9]+%", "handled req-42 in 3 ms")
    assert not matches("%req-[0-9]+%", "handled req-x")


JSON_EVENT = json.dumps(
    {
        "level": "ERROR",
        "latency": 250,
        "user": {"id": "u-17", "tags": ["a", "b"]},
        "ok": False,
        "trace": None,
    }
)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{ $.level = "ERROR" }', True),
        ("{ $.level = ERROR }", True),
        ('{ $.level = "WARN" }', False),
        ('{ $.level != "WARN" }', True),
        ("{ $.latency > 100 }", True),
        ("{ $.latency >= 250 }", True),
        ("{ $.latency < 250 }", False),
        ("{ $.latency = 250 }", True),
        ('{ $.user.id = "u-*" }', True),
        ('{ $.user.id = "*-18" }', False),
        ('{ $.user.tags[1] = "b" }', True),
        ('{ $.level = "ERROR" && $.latency > 1000 }', False),
        ('{ $.level = "ERROR" || $.latency > 1000 }', True),
        ('{ ($.level = "WARN" || $.latency > 100) && $.user.id = "u-17" }', True),
        ("{ $.trace IS NULL }", True),
        ("{ $.ok IS FALSE }", True),
        ("{ $.ok IS TRUE }", False),
        ("{ $.missing NOT EXISTS }", True),
        ("{ $.level NOT EXISTS }", False),
        ('{ $.missing != "x" }', False),
        ("{ $.level = %^ERR% }", True),
    ],
)
def test_json_patterns(pattern: str, expected: bool) -> None:
    assert matches(pattern, JSON_EVENT) is expected


def test_json_pattern_never_matches_plain_text() -> None:
    assert not matches('{ $.level = "ERROR" }', 'level = "ERROR"')


def test_numeric_comparison_ignores_strings_that_are_not_numbers() -> None:
    assert not matches("{ $.latency > 100 }", '{"latency": "slow"}')
    assert matches("{ $.latency > 100 }", '{"latency": "150"}')


APACHE = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 503 2326'


def test_split_fields_keeps_quoted_and_bracketed_fields_together() -> None:
    assert split_fields(APACHE) == [
        "127.0.0.1",
        "-",
        "frank",
        "10/Oct/2000:13:55:36 -0700",
        "GET /a.gif HTTP/1.0",
        "503",
        "2326",
    ]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ip, identity, user, timestamp, request, status, bytes]", True),
        ("[ip, identity, user, timestamp, request, status]", False),  # field count differs
        ("[ip, ..., status = 5*, bytes > 1000]", True),
        ("[ip, ..., status = 4*, bytes > 1000]", False),
        ("[ip, ..., status = 5*, bytes > 3000]", False),
        ("[..., status = 503, bytes]", True),
        ("[ip, identity, user = frank, ...]", True),
        ('[ip, identity, user, timestamp, request = "GET *", ...]', True),
        ("[ip, ..., status = 4* || status = 5*, bytes]", True),
        ("[ip, ..., status = 5* && status != 503, bytes]", False),
        ("[]", True),
    ],
)
def test_space_delimited_patterns(pattern: str, expected: bool) -> None:
    assert matches(pattern, APACHE) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        "{ $.level = }",
        '{ $.level = "ERROR" ',
        "{ level = 1 }",
        '{ $.a > "x" }',
        "{ $.a = 1 } trailing",
        "{ $.a IS MAYBE }",
        "[a, b",
        "[a = ]",
        '"unterminated',
        "%unterminated",
        "{ $.a = %[% }",
        "{ $.a = 1 & $.b = 2 }",
    ],
)
def test_bad_patterns_raise(pattern: str) -> None:
    with pytest.raises(FilterPatternError):
        compile_pattern(pattern)
