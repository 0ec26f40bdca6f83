"""Route keys and route selection as HTTP APIs do it.

AWS picks the most specific route: a full literal match beats a path variable, which beats a
greedy ``{proxy+}``; for one path an explicit method beats ``ANY``; ``$default`` catches the
rest. Routes are compiled once per API configuration (see ``dataplane``), then matched by an
exact-path dictionary lookup and, failing that, a scan of the variable routes in priority order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"})
_VARIABLE = re.compile(r"^\{([A-Za-z0-9._\-]+)(\+?)\}$")

# Segment ranks for ordering: literal > {var} > {greedy+}.
_LITERAL, _VAR, _GREEDY = 2, 1, 0


def parse_route_key(route_key: str) -> tuple[str, str] | None:
    """``"GET /items/{id}"`` -> ("GET", "/items/{id}"); ``$default`` -> ("$default", "").

    Returns None for a key HTTP APIs refuse."""
    if route_key == "$default":
        return "$default", ""
    method, sep, path = route_key.partition(" ")
    if not sep or method not in METHODS or not path.startswith("/") or " " in path:
        return None
    segments = [s for s in path.split("/")[1:]]
    if path != "/" and any(s == "" for s in segments):
        return None
    for index, segment in enumerate(segments):
        if "{" in segment or "}" in segment:
            found = _VARIABLE.match(segment)
            if found is None:
                return None
            if found.group(2) and index != len(segments) - 1:
                return None  # a greedy variable must be the last segment
    return method, path


@dataclass(slots=True)
class CompiledRoute:
    route_key: str
    method: str
    path: str
    route: dict[str, Any]  # the stored route document
    segments: tuple[str, ...] = ()
    names: tuple[str | None, ...] = ()  # variable name per segment, None for literals
    greedy: str | None = None  # name of the trailing {name+} variable
    rank: tuple[int, ...] = field(default_factory=tuple)


def compile_route(route: dict[str, Any]) -> CompiledRoute | None:
    parsed = parse_route_key(route["RouteKey"])
    if parsed is None:
        return None
    method, path = parsed
    compiled = CompiledRoute(route["RouteKey"], method, path, route)
    if method == "$default":
        return compiled
    segments = tuple(path.split("/")[1:]) if path != "/" else ()
    names: list[str | None] = []
    rank: list[int] = []
    for segment in segments:
        found = _VARIABLE.match(segment)
        if found is None:
            names.append(None)
            rank.append(_LITERAL)
        elif found.group(2):
            compiled.greedy = found.group(1)
            names.append(found.group(1))
            rank.append(_GREEDY)
        else:
            names.append(found.group(1))
            rank.append(_VAR)
    compiled.segments = segments
    compiled.names = tuple(names)
    # Longer literal prefixes first, then explicit methods before ANY.
    compiled.rank = (*rank, 1 if method != "ANY" else 0)
    return compiled


class RouteTable:
    """All routes of one API, ready to match ``(method, path)``."""

    def __init__(self, routes: list[dict[str, Any]]) -> None:
        self.exact: dict[tuple[str, str], CompiledRoute] = {}
        self.variable: list[CompiledRoute] = []
        self.default: CompiledRoute | None = None
        for route in routes:
            compiled = compile_route(route)
            if compiled is None:
                continue
            if compiled.method == "$default":
                self.default = compiled
            elif all(name is None for name in compiled.names):
                self.exact[(compiled.method, compiled.path)] = compiled
            else:
                self.variable.append(compiled)
        self.variable.sort(key=lambda r: r.rank, reverse=True)

    def match(self, method: str, path: str) -> tuple[CompiledRoute, dict[str, str]] | None:
        """The route for a request and its path parameters (decoded), or None (404)."""
        found = self.exact.get((method, path)) or self.exact.get(("ANY", path))
        if found is not None:
            return found, {}
        if self.variable:
            parts = path.split("/")[1:] if path != "/" else []
            for route in self.variable:
                if route.method != method and route.method != "ANY":
                    continue
                params = _match_segments(route, parts)
                if params is not None:
                    return route, params
        if self.default is not None:
            return self.default, {}
        return None


def _match_segments(route: CompiledRoute, parts: list[str]) -> dict[str, str] | None:
    segments = route.segments
    fixed = len(segments) - (1 if route.greedy else 0)
    if route.greedy:
        if len(parts) <= fixed or not "".join(parts[fixed:]):
            return None  # {proxy+} needs at least one non-empty segment
    elif len(parts) != fixed:
        return None
    params: dict[str, str] = {}
    for index in range(fixed):
        name = route.names[index]
        part = parts[index]
        if name is None:
            if part != segments[index]:
                return None
        elif not part:
            return None
        else:
            params[name] = unquote(part)
    if route.greedy:
        params[route.greedy] = unquote("/".join(parts[fixed:]))
    return params
