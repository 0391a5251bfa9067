"""Matching a request path to a path template, and reading typed values out of query strings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.datastructures import Headers, MultiDict

INDEX = re.compile(r"\[\d+\]")


def template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = "".join(f"(?P<{group_name(part)}>[^/]+)" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(pattern)


def group_name(placeholder: str) -> str:
    # Regex group names cannot hold '-' or '.': 'order-id' becomes 'order__id' and back in `supplied`.
    return re.sub(r"\W", "__", placeholder.strip("{}"))


def by_specificity(templates: Iterable[str]) -> list[str]:
    """Literal paths before templated ones (/orders/cancellation before /orders/{order-id})."""
    return sorted(templates, key=lambda template: (template.count("{"), -len(template)))


def plain_name(name: str) -> str:
    """A deep-object query name with its indexes folded (`a[filters][3][field]` -> `a[filters][0][field]`),
    as specs list one example index for a repeatable group."""
    return INDEX.sub("[0]", name)


def supplied(
    location: str, name: str, path_values: Mapping[str, str], query: MultiDict[str, str], headers: Headers
) -> list[str]:
    if location == "path":
        value = path_values.get(group_name(name))
        return [value] if value is not None else []
    if location == "query":
        return [value for key in query for value in query.getlist(key) if plain_name(key) == plain_name(name)]
    if location == "header":
        return headers.getlist(name)
    return []  # cookies and form fields: no simulated system takes them


def coerce(values: list[str], schema: Mapping[str, Any], *, separator: str | None = None) -> tuple[object, str]:
    """The typed value of a query/path/header parameter, or a reason it has none."""
    if schema.get("type") == "array":
        if separator is not None:
            values = [part for value in values for part in value.split(separator)]
        items = [scalar(value, schema.get("items", {})) for value in values]
        problems = [problem for _, problem in items if problem]
        return [value for value, _ in items], "; ".join(problems)
    if len(values) > 1:
        return None, "given more than once"
    return scalar(values[0], schema)


def scalar(text: str, schema: Mapping[str, Any]) -> tuple[object, str]:
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(text), ""
        except ValueError:
            return None, f"'{text}' is not an integer"
    if kind == "number":
        try:
            return Decimal(text), ""
        except InvalidOperation:
            return None, f"'{text}' is not a number"
    if kind == "boolean":
        if text not in ("true", "false"):
            return None, f"'{text}' is not a boolean (true or false)"
        return text == "true", ""
    return text, ""


def error_location(name: str, path: Iterable[str | int]) -> str:
    location = name
    for part in path:
        location += f"[{part}]" if isinstance(part, int) else f".{part}"
    return location.removeprefix("body.")
