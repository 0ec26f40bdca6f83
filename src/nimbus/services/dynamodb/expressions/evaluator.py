"""Binding placeholders and evaluating conditions and projections against items."""

from __future__ import annotations

from typing import Any

from nimbus.aws.errors import AwsError, validation
from nimbus.services.dynamodb import values as V
from nimbus.services.dynamodb.expressions.parser import KIND_NAMES, Node, Parsed, parse

_VALID_TYPES = "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
_ORDERED = frozenset({"S", "N", "B"})


def _render_av(av: V.AV) -> str:
    ((typ, raw),) = av.items()
    return f"{{{typ}:{raw}}}"


def _render_path(path: tuple[Any, ...]) -> str:
    return "[" + ", ".join(str(e) for e in path) + "]"


def check_overlap(paths: list[tuple[Any, ...]], label: str) -> None:
    """AWS rejects two paths where one is a prefix of (or equal to) the other."""
    for i, one in enumerate(paths):
        for two in paths[i + 1 :]:
            n = min(len(one), len(two))
            if one[:n] == two[:n]:
                word = "conflict" if len(one) == len(two) else "overlap"
                raise validation(
                    f"Invalid {label}: Two document paths {word} with each other; must remove or "
                    f"rewrite one of these paths; path one: {_render_path(one)}, "
                    f"path two: {_render_path(two)}"
                )


def top_level_names(node: Any) -> set[str]:
    """Attribute names at the root of every document path in a bound expression tree."""
    if isinstance(node, tuple) and node and node[0] == "path":
        return {node[1][0]}
    if isinstance(node, tuple | list):
        names: set[str] = set()
        for child in node:
            if isinstance(child, tuple | list):
                names |= top_level_names(child)
        return names
    return set()


class Bindings:
    """One request's ExpressionAttributeNames/Values, tracking which ones were used."""

    def __init__(self, names: dict[str, str] | None, values: dict[str, Any] | None) -> None:
        if names is not None and not names:
            raise validation("ExpressionAttributeNames must not be empty")
        if values is not None and not values:
            raise validation("ExpressionAttributeValues must not be empty")
        self.names = names or {}
        self.values: dict[str, V.AV] = {}
        for key, av in (values or {}).items():
            if not key.startswith(":"):
                raise validation(
                    f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"'
                )
            try:
                self.values[key] = V.check_value(av)[0]
            except AwsError as exc:
                raise validation(
                    f"ExpressionAttributeValues contains invalid value: {exc.message} for key {key}"
                ) from None
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()
        self.label = ""

    def parse(self, source: str | None, kind: str) -> Any:
        """Parse (cached) and bind one expression; ``None`` when it is absent."""
        if source is None:
            return None
        return self.bind(parse(source, kind))

    def bind(self, parsed: Parsed) -> Any:
        self.label = KIND_NAMES[parsed.kind]
        for name in sorted(parsed.names):
            if name not in self.names:
                raise validation(
                    f"Invalid {self.label}: An expression attribute name used in the document "
                    f"path is not defined; attribute name: {name}"
                )
        for value in sorted(parsed.values):
            if value not in self.values:
                raise validation(
                    f"Invalid {self.label}: An expression attribute value used in expression "
                    f"is not defined; attribute value: {value}"
                )
        self.used_names |= parsed.names
        self.used_values |= parsed.values
        if parsed.kind == "update":
            return {
                clause: [tuple(self._bind(n) for n in action) for action in actions]
                for clause, actions in parsed.ast.items()
            }
        if parsed.kind == "projection":
            paths = [self._bind(p) for p in parsed.ast]
            check_overlap([p[1] for p in paths], self.label)
            return paths
        return self._bind(parsed.ast)

    def check_unused(self) -> None:
        unused_names = [n for n in self.names if n not in self.used_names]
        if unused_names:
            raise validation(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: "
                "{" + ", ".join(unused_names) + "}"
            )
        unused_values = [v for v in self.values if v not in self.used_values]
        if unused_values:
            raise validation(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: "
                "{" + ", ".join(unused_values) + "}"
            )

    def _fail(self, detail: str) -> AwsError:
        return validation(f"Invalid {self.label}: {detail}")

    def _bind(self, node: Node) -> Node:
        tag = node[0]
        if tag == "path":
            names = self.names
            return ("path", tuple(names[e] if str(e)[:1] == "#" else e for e in node[1]))
        if tag == "value":
            return ("value", self.values[node[1]])
        if tag in ("and", "or", "not", "size", "+", "-", "if_not_exists", "list_append"):
            return (tag, *(self._bind(n) for n in node[1:]))
        if tag == "cmp":
            return ("cmp", node[1], self._bind(node[2]), self._bind(node[3]))
        if tag == "between":
            bound = ("between", *(self._bind(n) for n in node[1:]))
            low, high = bound[2], bound[3]
            if low[0] == "value" and high[0] == "value":
                lt, ht = V.type_of(low[1]), V.type_of(high[1])
                if lt == ht and lt in _ORDERED and V.sort_key(low[1]) > V.sort_key(high[1]):
                    raise self._fail(
                        "The BETWEEN operator requires upper bound to be greater than or equal "
                        f"to lower bound; lower operand: AttributeValue: {_render_av(low[1])}, "
                        f"upper operand: AttributeValue: {_render_av(high[1])}"
                    )
            return bound
        if tag == "in":
            return ("in", self._bind(node[1]), [self._bind(n) for n in node[2]])
        if tag == "func":
            args = [self._bind(n) for n in node[2]]
            self._check_function(node[1], args)
            return ("func", node[1], args)
        raise AssertionError(tag)

    def _check_function(self, name: str, args: list[Node]) -> None:
        if name == "attribute_type":
            arg = args[1]
            if arg[0] == "value":
                av = arg[1]
                if V.type_of(av) != "S":
                    raise self._operand_type(name, V.type_of(av))
                if av["S"] not in V.TYPES:
                    raise self._fail(
                        f"Invalid attribute type name found; type: {av['S']}, "
                        f"valid types: {_VALID_TYPES}"
                    )
        elif name == "begins_with":
            for arg in args:
                if arg[0] == "value" and V.type_of(arg[1]) not in ("S", "B"):
                    raise self._operand_type(name, V.type_of(arg[1]))

    def _operand_type(self, name: str, typ: str) -> AwsError:
        return self._fail(
            "Incorrect operand type for operator or function; "
            f"operator or function: {name}, operand type: {typ}"
        )


def resolve(item: V.Item, path: tuple[Any, ...]) -> V.AV | None:
    cur: Any = item.get(path[0])
    for elem in path[1:]:
        if cur is None:
            return None
        if isinstance(elem, int):
            lst = cur.get("L")
            cur = lst[elem] if lst is not None and elem < len(lst) else None
        else:
            m = cur.get("M")
            cur = m.get(elem) if m is not None else None
    return cur


def operand(node: Node, item: V.Item) -> V.AV | None:
    tag = node[0]
    if tag == "value":
        return node[1]
    if tag == "path":
        return resolve(item, node[1])
    if tag == "size":
        av = resolve(item, node[1][1])
        if av is None:
            return None
        ((typ, raw),) = av.items()
        if typ in ("N", "BOOL", "NULL"):
            raise validation(
                "Invalid ConditionExpression: Incorrect operand type for operator or function; "
                f"operator or function: size, operand type: {typ}"
            )
        return {"N": str(len(raw))}
    raise AssertionError(tag)


def _compare(op: str, a: V.AV | None, b: V.AV | None) -> bool:
    if op == "=":
        return V.equal(a, b)
    if op == "<>":
        return not V.equal(a, b)
    if a is None or b is None:
        return False
    ta, tb = V.type_of(a), V.type_of(b)
    if ta != tb or ta not in _ORDERED:
        return False
    x, y = V.sort_key(a), V.sort_key(b)
    if op == "<":
        return bool(x < y)
    if op == "<=":
        return bool(x <= y)
    if op == ">":
        return bool(x > y)
    return bool(x >= y)


def _contains(haystack: V.AV | None, needle: V.AV | None) -> bool:
    if haystack is None or needle is None:
        return False
    ((ht, hv),) = haystack.items()
    ((nt, nv),) = needle.items()
    if (ht == "S" and nt == "S") or (ht == "B" and nt == "B"):
        return bool(nv in hv)
    if ht in ("SS", "BS") and nt == ht[0]:
        return nv in hv
    if ht == "NS" and nt == "N":
        return any(V.equal({"N": x}, needle) for x in hv)
    if ht == "L":
        return any(V.equal(x, needle) for x in hv)
    return False


def evaluate(node: Node, item: V.Item) -> bool:
    tag = node[0]
    if tag == "and":
        return evaluate(node[1], item) and evaluate(node[2], item)
    if tag == "or":
        return evaluate(node[1], item) or evaluate(node[2], item)
    if tag == "not":
        return not evaluate(node[1], item)
    if tag == "cmp":
        return _compare(node[1], operand(node[2], item), operand(node[3], item))
    if tag == "between":
        x = operand(node[1], item)
        return _compare(">=", x, operand(node[2], item)) and _compare(
            "<=", x, operand(node[3], item)
        )
    if tag == "in":
        x = operand(node[1], item)
        return any(V.equal(x, operand(o, item)) for o in node[2])
    name, args = node[1], node[2]
    if name == "attribute_exists":
        return resolve(item, args[0][1]) is not None
    if name == "attribute_not_exists":
        return resolve(item, args[0][1]) is None
    if name == "attribute_type":
        av, want = resolve(item, args[0][1]), operand(args[1], item)
        return av is not None and want is not None and V.type_of(av) == want.get("S")
    if name == "begins_with":
        a, b = operand(args[0], item), operand(args[1], item)
        if a is None or b is None:
            return False
        ta, tb = V.type_of(a), V.type_of(b)
        return ta == tb and ta in ("S", "B") and a[ta].startswith(b[tb])
    if name == "contains":
        return _contains(operand(args[0], item), operand(args[1], item))
    raise AssertionError(name)


class _Pending(dict):  # a container being assembled by a projection
    pass


def _project_into(dst: _Pending, src: V.AV, rest: tuple[Any, ...]) -> None:
    """Copy the value at ``rest`` inside container ``src`` into ``dst``."""
    elem = rest[0]
    if isinstance(elem, int):
        lst = src.get("L")
        if lst is None or elem >= len(lst):
            return
        child = lst[elem]
    else:
        m = src.get("M")
        if m is None or elem not in m:
            return
        child = m[elem]
    if len(rest) == 1:
        dst[elem] = child
        return
    sub = dst.get(elem)
    if not isinstance(sub, _Pending):
        sub = _Pending()
        dst[elem] = sub
    _project_into(sub, child, rest[1:])


def _finish(node: Any) -> V.AV | None:
    """Turn pending containers into AttributeValues; containers that matched nothing vanish."""
    if not isinstance(node, _Pending):
        return node
    done = {k: v for k, v in ((k, _finish(v)) for k, v in node.items()) if v is not None}
    if not done:
        return None
    if isinstance(next(iter(done)), int):
        return {"L": [done[k] for k in sorted(done)]}
    return {"M": done}


def project(item: V.Item, paths: list[Node]) -> V.Item:
    root = _Pending()
    wrapper = {"M": item}
    for _, path in paths:
        _project_into(root, wrapper, path)
    done = _finish(root)
    return done["M"] if done else {}
