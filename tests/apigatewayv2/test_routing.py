"""Route selection as AWS documents it for HTTP APIs (most specific wins)."""

from __future__ import annotations

import pytest

from nimbus.services.apigatewayv2.routing import RouteTable, parse_route_key

# The example from "Working with routes for HTTP APIs" plus $default and ANY rules.
ROUTES = [
    "GET /pets/dog/1",
    "GET /pets/dog/{id}",
    "GET /pets/{proxy+}",
    "ANY /{proxy+}",
    "GET /",
    "POST /items/{id}",
    "ANY /items/{id}",
    "GET /items/{id}/tags/{tag}",
    "$default",
]


@pytest.fixture(scope="module")
def table() -> RouteTable:
    return RouteTable([{"RouteKey": key, "RouteId": str(i)} for i, key in enumerate(ROUTES)])


@pytest.mark.parametrize(
    ("method", "path", "route_key", "params"),
    [
        ("GET", "/pets/dog/1", "GET /pets/dog/1", {}),
        ("GET", "/pets/dog/2", "GET /pets/dog/{id}", {"id": "2"}),
        ("GET", "/pets/cat/1", "GET /pets/{proxy+}", {"proxy": "cat/1"}),
        ("POST", "/pets/cat/1", "ANY /{proxy+}", {"proxy": "pets/cat/1"}),
        ("GET", "/", "GET /", {}),
        ("POST", "/", "$default", {}),
        ("POST", "/items/7", "POST /items/{id}", {"id": "7"}),
        ("DELETE", "/items/7", "ANY /items/{id}", {"id": "7"}),
        ("GET", "/items/7", "ANY /items/{id}", {"id": "7"}),
        ("GET", "/items/7/tags/red", "GET /items/{id}/tags/{tag}", {"id": "7", "tag": "red"}),
        ("GET", "/items/a%20b", "ANY /items/{id}", {"id": "a b"}),
        ("PUT", "/anything/deep/path", "ANY /{proxy+}", {"proxy": "anything/deep/path"}),
    ],
)
def test_most_specific_route_wins(table, method, path, route_key, params):
    found = table.match(method, path)
    assert found is not None
    route, got = found
    assert (route.route_key, got) == (route_key, params)


def test_no_default_route_means_no_match():
    table = RouteTable([{"RouteKey": "GET /a"}, {"RouteKey": "GET /b/{x}"}])
    assert table.match("GET", "/c") is None
    assert table.match("POST", "/a") is None
    assert table.match("GET", "/b") is None  # a variable needs a segment
    assert table.match("GET", "/b/") is None  # and a non-empty one


def test_greedy_needs_a_segment():
    table = RouteTable([{"RouteKey": "ANY /files/{path+}"}])
    assert table.match("GET", "/files") is None
    assert table.match("GET", "/files/a/b.txt")[1] == {"path": "a/b.txt"}


def test_method_specific_beats_any_for_the_same_path():
    table = RouteTable([{"RouteKey": "ANY /x"}, {"RouteKey": "GET /x"}])
    assert table.match("GET", "/x")[0].route_key == "GET /x"
    assert table.match("PATCH", "/x")[0].route_key == "ANY /x"


@pytest.mark.parametrize(
    "key",
    ["GET /a", "$default", "ANY /{proxy+}", "POST /a/{b}/c", "GET /", "OPTIONS /x/{y+}"],
)
def test_valid_route_keys(key):
    assert parse_route_key(key) is not None


@pytest.mark.parametrize(
    "key",
    ["GET", "FETCH /a", "GET a", "GET /{proxy+}/x", "GET /a//b", "GET /{bad name}", "get /a"],
)
def test_invalid_route_keys(key):
    assert parse_route_key(key) is None
