"""trafilatura's pruning XPaths evaluated as Python instead of by libxml2: the same elements.

trafilatura prunes its tree and finds the article's container with XPath expressions of the
form ``.//*[...][...]`` whose predicates test attributes, many with EXSLT regular expressions
(``re:test``). lxml runs each ``re:test`` as a call back into Python, element by element, and
libxml2 evaluates the rest of the predicate for every element of the tree: on the scale
bench's pages these expressions were about a quarter of the fast pass's cost. The same test
written as a loop over the elements of the named tags (lxml filters tags in C) with the
regular expressions called directly is two to four times cheaper.

``compile_xpath(source)`` turns an expression of the subset those expressions use into a
function ``tree -> list of elements`` that returns what ``lxml.etree.XPath(source)(tree)``
returns, in the same (document) order, or ``None`` when the expression is outside the subset
(the caller keeps lxml's XPath then: a trafilatura release that writes its expressions
differently falls back by itself). The subset, with XPath 1.0's meaning:

- the path ``.//*`` (every descendant element of the context element) or ``.//name``, with
  predicates ``[...]``; kept whole, or only its first match: ``path[1]`` (each parent's first
  matching child) and ``(path)[1]`` (the first in document order); no other position;
- ``or``, ``and``, ``not(...)``, parentheses;
- ``self::name``; ``.//name`` (has such a descendant);
- ``@a`` (has the attribute), ``@a='v'``; ``@a|@b`` (either attribute);
- ``re:test(s, 'pattern'[, 'flags'])`` (EXSLT: Python's ``re.search``, ``i`` for ignore case),
  ``contains(s, 'v')``, ``starts-with(s, 'v')``, where ``s`` is ``@a``, ``@a|@b`` or
  ``translate(@a, 'from', 'to')``: the string value of the first of those attributes the
  element has, in the element's own attribute order (XPath's document order), or ``''``.

The equivalence is tested against lxml on every shared benchmark page, before and after
trafilatura's cleaning (tests/ingest/test_xpathsubset.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lxml import etree

Query = Callable[[Any], list[Any]]

_TOKEN = re.compile(r"""\s*(?:
    (?P<string>'[^']*'|"[^"]*")
  | (?P<op>\.//\*|\.//|\[|\]|\(|\)|,|\||=)
  | (?P<attr>@[A-Za-z_][\w.:-]*)
  | (?P<self>self::[A-Za-z_][\w.-]*)
  | (?P<name>[A-Za-z_][\w.:-]*)
  | (?P<number>\d+)
)""", re.VERBOSE)


class Unsupported(ValueError):
    """The expression is outside the subset."""


def _tokens(source: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    at = 0
    source = source.strip()
    while at < len(source):
        found = _TOKEN.match(source, at)
        if not found or found.end() == at:
            raise Unsupported(f"cannot read {source[at:at + 20]!r}")
        kind = found.lastgroup or ""
        out.append((kind, found.group(kind)))
        at = found.end()
        while at < len(source) and source[at].isspace():
            at += 1
    return out


def _translation(source: str, target: str) -> dict[int, str | None]:
    """XPath ``translate``: the first occurrence of a character in ``source`` decides; one
    beyond ``target``'s length is removed."""
    table: dict[int, str | None] = {}
    for i, char in enumerate(source):
        table.setdefault(ord(char), target[i] if i < len(target) else None)
    return table


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def kind(self) -> str | None:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else None

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        if self.at >= len(self.tokens):
            raise Unsupported("unexpected end")
        got_kind, got = self.tokens[self.at]
        if (value is not None and got != value) or (kind is not None and got_kind != kind):
            raise Unsupported(f"expected {value or kind}, got {got!r}")
        self.at += 1
        return got

    def literal(self) -> str:
        return self.take(kind="string")[1:-1]

    def local_name(self, name: str) -> str:
        """An element or attribute name without a namespace prefix (a prefixed one means a
        namespace lxml resolves and ``get``/``iter`` would not)."""
        if ":" in name:
            raise Unsupported(f"a namespaced name {name!r}")
        return name

    # --- the path -----------------------------------------------------------------------------

    def query(self) -> tuple[list[tuple[Any, ...]], str]:
        """The predicates of the path as trees of tuples, and which of the matches it keeps:
        ``all``, ``first`` (``(path)[1]``: the first in document order) or ``first child``
        (``path[1]``: each parent's first matching child)."""
        grouped = self.peek() == "("
        if grouped:
            self.take("(")
        predicates = self.steps()
        keep = "all"
        if grouped:
            self.take(")")
            self.first()
            keep = "first"
        elif self.at_position():
            self.first()
            keep = "first child"
        if self.peek() is not None:
            raise Unsupported("more after the path")
        return predicates, keep

    def steps(self) -> list[tuple[Any, ...]]:
        """``.//*[...]...`` or ``.//name[...]...`` (a tag test as its first predicate)."""
        predicates: list[tuple[Any, ...]] = []
        if self.peek() == ".//":
            self.take(".//")
            predicates.append(("self", self.local_name(self.take(kind="name"))))
        else:
            self.take(".//*")
        while self.peek() == "[" and not self.at_position():
            self.take("[")
            predicates.append(self.disjunction())
            self.take("]")
        if not predicates:
            raise Unsupported("every element: not worth a query")
        return predicates

    def at_position(self) -> bool:
        """Whether a ``[number]`` (a position, not a predicate) comes next."""
        return self.peek() == "[" and self.at + 1 < len(self.tokens) \
            and self.tokens[self.at + 1][0] == "number"

    def first(self) -> None:
        self.take("[")
        if self.take(kind="number") != "1":
            raise Unsupported("a position other than the first")
        self.take("]")

    # --- predicates, as trees of tuples --------------------------------------------------------

    def disjunction(self) -> tuple[Any, ...]:
        return self.chain("or", self.conjunction)

    def conjunction(self) -> tuple[Any, ...]:
        return self.chain("and", self.unary)

    def chain(self, operator: str, operand: Callable[[], tuple[Any, ...]]) -> tuple[Any, ...]:
        """``operand (operator operand)*``: one operand alone, or (operator, [operands])."""
        parts = [operand()]
        while self.peek() == operator and self.kind() == "name":
            self.take(operator)
            parts.append(operand())
        return parts[0] if len(parts) == 1 else (operator, parts)

    def unary(self) -> tuple[Any, ...]:
        kind, value = self.kind(), self.peek()
        if value == "(":
            self.take("(")
            inner = self.disjunction()
            self.take(")")
            return inner
        if kind == "self":
            self.take()
            return ("self", self.local_name(value.split("::", 1)[1]))  # type: ignore[union-attr]
        if value == ".//":
            self.take()
            return ("descendant", self.local_name(self.take(kind="name")))
        if kind == "attr":
            names = self.attributes()
            if self.peek() == "=":
                self.take("=")
                return ("equals", names, self.literal())
            return ("has", names)
        if kind == "name" and value in ("not", "re:test", "contains", "starts-with"):
            self.take()
            self.take("(")
            if value == "not":
                inner = self.disjunction()
                self.take(")")
                return ("not", inner)
            strings = self.strings()
            self.take(",")
            pattern = self.literal()
            flags = ""
            if value == "re:test" and self.peek() == ",":
                self.take(",")
                flags = self.literal()
            self.take(")")
            return (value, strings, pattern, flags)
        raise Unsupported(f"unsupported {value!r}")

    def attributes(self) -> tuple[str, ...]:
        names = [self.local_name(self.take(kind="attr")[1:])]
        while self.peek() == "|":
            self.take("|")
            names.append(self.local_name(self.take(kind="attr")[1:]))
        return tuple(names)

    def strings(self) -> tuple[Any, ...]:
        if self.peek() == "translate":
            self.take()
            self.take("(")
            names = self.attributes()
            self.take(",")
            source = self.literal()
            self.take(",")
            target = self.literal()
            self.take(")")
            return ("translate", names, source, target)
        return ("attributes", self.attributes())


def _tags(node: tuple[Any, ...]) -> tuple[str, ...]:
    """The tags a predicate allows when it is only ``self::`` tests (iterated in C), else ()."""
    if node[0] == "self":
        return (node[1],)
    if node[0] == "or" and all(part[0] == "self" for part in node[1]):
        return tuple(part[1] for part in node[1])
    return ()


def _pick(element: Any, values: tuple[str | None, ...], names: tuple[str, ...]) -> str:
    """String value of ``@a|@b|...``: the first of them in the element's attribute order."""
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return present[0] if present else ""
    wanted = frozenset(names)
    return str(next(v for k, v in element.items() if k in wanted))


class _Writer:
    """Python source for a query: the attributes it reads are read once per element, and its
    predicates become one expression over them (generated code, as ``dataclasses`` and
    ``collections.namedtuple`` write theirs: a function call per test costs about as much as
    the test)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}  # attribute -> local variable
        self.constants: dict[str, Any] = {"_pick": _pick}

    def constant(self, value: Any) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def attribute(self, name: str) -> str:
        return self.names.setdefault(name, f"a{len(self.names)}")

    def strings(self, node: tuple[Any, ...]) -> str:
        names = node[1]
        variables = [self.attribute(n) for n in names]
        if len(names) == 1:
            value = f"({variables[0]} or '')"
        else:
            value = f"_pick(e, ({', '.join(variables)},), {names!r})"
        if node[0] == "translate":
            value = f"{value}.translate({self.constant(_translation(node[2], node[3]))})"
        return value

    def expression(self, node: tuple[Any, ...]) -> str:
        kind = node[0]
        if kind in ("or", "and"):
            return "(" + f" {kind} ".join(self.expression(p) for p in node[1]) + ")"
        if kind == "not":
            return f"(not {self.expression(node[1])})"
        if kind == "self":
            return f"(e.tag == {node[1]!r})"
        if kind == "descendant":
            return f"(next(e.iterdescendants({node[1]!r}), None) is not None)"
        if kind == "has":
            return "(" + " or ".join(f"{self.attribute(n)} is not None" for n in node[1]) + ")"
        if kind == "equals":
            return "(" + " or ".join(f"{self.attribute(n)} == {node[2]!r}"
                                     for n in node[1]) + ")"
        value, literal = self.strings(node[1]), node[2]
        if kind == "re:test":
            search = re.compile(literal, re.IGNORECASE if "i" in node[3] else 0).search
            return f"({self.constant(search)}({value}) is not None)"
        if kind == "contains":
            return f"({literal!r} in {value})"
        if kind == "starts-with":
            return f"{value}.startswith({literal!r})"
        raise Unsupported(kind)  # pragma: no cover - the parser makes no other kind

    def query(self, predicates: list[tuple[Any, ...]], keep: str) -> Query:
        tags = _tags(predicates[0])
        if tags:
            predicates = predicates[1:]
        test = " and ".join(self.expression(p) for p in predicates) or "True"
        reads = "".join(f"        {v} = e.get({n!r})\n" for n, v in self.names.items())
        walk = (f"tree.iterdescendants(*{tags!r})" if tags
                else "tree.iterdescendants(_element)")
        self.constants["_element"] = etree.Element
        take = {"all": "found.append(e)",
                "first": "return [e]",
                # XPath's path[1]: a match whose parent already gave one is not first
                "first child": "parent = e.getparent()\n"
                               "            if parent not in parents:\n"
                               "                parents.add(parent)\n"
                               "                found.append(e)"}[keep]
        source = (f"def query(tree):\n    found = []\n    parents = set()\n"
                  f"    for e in {walk}:\n{reads}"
                  f"        if {test}:\n            {take}\n    return found\n")
        space = dict(self.constants)
        # the source holds no text of the expression but through repr() (names, literals)
        exec(compile(source, "<xpathsubset>", "exec"), space)
        query: Query = space["query"]
        query.__doc__ = source
        return query


def compile_xpath(source: str) -> Query | None:
    """``source`` as a Python query returning lxml's result, or None outside the subset."""
    try:
        return _Writer().query(*_Parser(source).query())
    except Unsupported:
        return None
