"""SCIM filters (RFC 7644 section 3.4.2.2), parsed into a predicate over resource JSON.

Supported: the comparison operators ``eq ne co sw ew gt ge lt le``, ``pr``, ``and``,
``or``, ``not ( )`` and parentheses, on simple and dotted paths (``userName``,
``name.givenName``, ``emails.value``), with or without the schema URN prefix. Not
supported (answered 400 ``invalidFilter``): value filters inside paths (``emails[...]``).
Directories mostly send ``userName eq "..."``, ``externalId eq`` and ``displayName eq``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

TOKEN_RE = re.compile(
    r'\s*(?:(?P<lparen>\()|(?P<rparen>\))|(?P<string>"(?:[^"\\]|\\.)*")'
    r"|(?P<word>[^\s()\"]+))"
)
COMPARISONS = {"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}
#: Attributes compared case-sensitively (RFC 7643: ``caseExact`` true).
CASE_EXACT = {"id", "externalid"}
MAX_FILTER = 2000


class FilterError(ValueError):
    """The filter cannot be parsed or uses what is not supported."""


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = TOKEN_RE.match(text, position)
        if match is None or match.end() == position:
            raise FilterError(f"cannot read the filter at {text[position : position + 20]!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return tokens


def _path(raw: str) -> list[str]:
    if "[" in raw or "]" in raw:
        raise FilterError("value filters inside attribute paths are not supported")
    if raw.lower().startswith("urn:"):
        raw = raw.rsplit(":", 1)[1]
    return [part.lower() for part in raw.split(".") if part]


def _values(resource: Any, path: list[str]) -> list[Any]:
    """Every value at ``path``, flattening multi-valued attributes on the way."""
    current: list[Any] = [resource]
    for part in path:
        found: list[Any] = []
        for item in current:
            if isinstance(item, dict):
                for key, value in item.items():
                    if key.lower() == part:
                        found.extend(value if isinstance(value, list) else [value])
        current = found
    if path and not any(isinstance(v, dict) for v in current):
        return current
    # A complex multi-valued attribute compared directly means its ``value`` sub-attribute.
    return [v.get("value") if isinstance(v, dict) else v for v in current]


def _compare(op: str, actual: Any, expected: Any, case_exact: bool) -> bool:
    if isinstance(actual, str) and isinstance(expected, str) and not case_exact:
        actual, expected = actual.lower(), expected.lower()
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if isinstance(actual, str) and isinstance(expected, str):
        if op == "co":
            return expected in actual
        if op == "sw":
            return actual.startswith(expected)
        if op == "ew":
            return actual.endswith(expected)
    if op in ("gt", "ge", "lt", "le"):
        try:
            if op == "gt":
                return bool(actual > expected)
            if op == "ge":
                return bool(actual >= expected)
            if op == "lt":
                return bool(actual < expected)
            return bool(actual <= expected)
        except TypeError:
            return False
    return False


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterError("the filter ends too early")
        self.position += 1
        return token

    def word_is(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1].lower() == word

    def parse(self) -> Predicate:
        predicate = self.or_expression()
        if self.peek() is not None:
            raise FilterError(f"unexpected {self.peek()[1]!r} in the filter")  # type: ignore[index]
        return predicate

    def or_expression(self) -> Predicate:
        left = self.and_expression()
        while self.word_is("or"):
            self.take()
            right = self.and_expression()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    def and_expression(self) -> Predicate:
        left = self.unary()
        while self.word_is("and"):
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        return left

    def unary(self) -> Predicate:
        if self.word_is("not"):
            self.take()
            inner = self.group()
            return lambda r: not inner(r)
        token = self.peek()
        if token is not None and token[0] == "lparen":
            return self.group()
        return self.comparison()

    def group(self) -> Predicate:
        if self.take()[0] != "lparen":
            raise FilterError("expected ( in the filter")
        inner = self.or_expression()
        if self.take()[0] != "rparen":
            raise FilterError("expected ) in the filter")
        return inner

    def comparison(self) -> Predicate:
        kind, raw_path = self.take()
        if kind != "word":
            raise FilterError(f"expected an attribute name, not {raw_path!r}")
        path = _path(raw_path)
        kind, op = self.take()
        op = op.lower()
        if op == "pr":
            return lambda r: any(v not in (None, "", [], {}) for v in _values(r, path))
        if kind != "word" or op not in COMPARISONS:
            raise FilterError(f"unknown operator {op!r}")
        kind, raw_value = self.take()
        if kind not in ("string", "word"):
            raise FilterError(f"expected a value, not {raw_value!r}")
        try:
            expected = json.loads(raw_value)
        except json.JSONDecodeError as exc:
            raise FilterError(f"cannot read the value {raw_value!r}") from exc
        case_exact = path[-1] in CASE_EXACT
        return lambda r: any(_compare(op, v, expected, case_exact) for v in _values(r, path))


def parse_filter(text: str) -> Predicate:
    if len(text) > MAX_FILTER:
        raise FilterError(f"a filter is at most {MAX_FILTER} characters")
    tokens = tokenize(text)
    if not tokens:
        raise FilterError("the filter is empty")
    return _Parser(tokens).parse()
