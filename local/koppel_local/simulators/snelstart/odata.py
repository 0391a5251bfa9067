"""The small, safe part of OData `$filter` the SnelStart simulator understands.

Comparisons (`eq`, `ne`, `gt`, `ge`, `lt`, `le`) of a property path (`modifiedOn`,
`vestigingsAdres/postcode`) with a literal, joined by `and` / `or`, in parentheses, and
`contains(path, 'text')`. Literals: strings in single quotes (a quote doubled inside), numbers,
`true`/`false`/`null`, and date-times written bare (`2026-05-01T09:30:00Z`) or as
`datetime'2026-05-01T09:30:00'`. Anything else is a `FilterError`: the simulator refuses it 400
rather than guess what SnelStart would do with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]

COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<string>'(?:[^']|'')*')"
    r"|(?P<datetime>datetime'[^']*'|\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)"
    r"|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<punct>[(),])"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_/]*)"
    r")"
)


class FilterError(ValueError):
    """A `$filter` outside the subset the simulator reads."""


def parse_filter(text: str) -> Predicate:
    tokens = _tokens(text)
    parser = _Parser(tokens)
    predicate = parser.disjunction()
    if parser.position != len(tokens):
        raise FilterError(f"unexpected {tokens[parser.position][1]!r} in $filter")
    return predicate


def parse_moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterError(f"cannot read $filter from {text[position : position + 20]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end":
            raise FilterError("$filter ends too early")
        self.position += 1
        return token

    def expect(self, value: str) -> None:
        _, text = self.take()
        if text != value:
            raise FilterError(f"expected {value!r} in $filter, found {text!r}")

    def disjunction(self) -> Predicate:
        left = self.conjunction()
        while self.peek() == ("word", "or"):
            self.take()
            right = self.conjunction()
            left = _either(left, right)
        return left

    def conjunction(self) -> Predicate:
        left = self.term()
        while self.peek() == ("word", "and"):
            self.take()
            right = self.term()
            left = _both(left, right)
        return left

    def term(self) -> Predicate:
        kind, text = self.peek()
        if (kind, text) == ("punct", "("):
            self.take()
            inner = self.disjunction()
            self.expect(")")
            return inner
        if (kind, text) == ("word", "contains"):
            self.take()
            self.expect("(")
            path = self.path()
            self.expect(",")
            needle = self.literal()
            self.expect(")")
            if not isinstance(needle, str):
                raise FilterError("contains() takes a string")
            return lambda row: needle.casefold() in str(lookup(row, path) or "").casefold()
        path = self.path()
        operator = self.take()[1]
        if operator not in COMPARISONS:
            raise FilterError(f"the simulator reads no operator {operator!r}")
        value = self.literal()
        return lambda row: compare(lookup(row, path), operator, value)

    def path(self) -> str:
        kind, text = self.take()
        if kind != "word" or text in COMPARISONS | {"and", "or", "not"}:
            raise FilterError(f"expected a property, found {text!r}")
        return text

    def literal(self) -> object:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "datetime":
            moment = parse_moment(text.removeprefix("datetime").strip("'"))
            if moment is None:
                raise FilterError(f"{text!r} is not a date-time")
            return moment
        if kind == "number":
            try:
                return Decimal(text)
            except InvalidOperation as exc:
                raise FilterError(f"{text!r} is not a number") from exc
        if kind == "word" and text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        raise FilterError(f"expected a literal, found {text!r}")


def _either(left: Predicate, right: Predicate) -> Predicate:
    return lambda row: left(row) or right(row)


def _both(left: Predicate, right: Predicate) -> Predicate:
    return lambda row: left(row) and right(row)


def lookup(row: Mapping[str, Any], path: str) -> object:
    """A property by its OData path, case-insensitive as SnelStart's OData is (unverified)."""
    value: object = row
    for part in path.split("/"):
        if not isinstance(value, Mapping):
            return None
        value = next((found for key, found in value.items() if key.casefold() == part.casefold()), None)
    return value


def compare(actual: object, operator: str, expected: object) -> bool:
    if isinstance(expected, datetime):
        actual = parse_moment(str(actual)) if actual else None
    elif isinstance(expected, Decimal) and actual is not None and not isinstance(actual, bool):
        actual = Decimal(str(actual))
    if isinstance(expected, str) and isinstance(actual, str):
        # SnelStart's database compares text regardless of case (taken to be SQL Server's default; unverified).
        actual, expected = actual.casefold(), expected.casefold()
    if operator == "eq":
        return actual == expected
    if operator == "ne":
        return actual != expected
    if actual is None or expected is None:
        return False
    try:
        return {
            "gt": actual > expected,  # type: ignore[operator]
            "ge": actual >= expected,  # type: ignore[operator]
            "lt": actual < expected,  # type: ignore[operator]
            "le": actual <= expected,  # type: ignore[operator]
        }[operator]
    except TypeError:
        return False
