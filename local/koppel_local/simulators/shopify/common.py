"""What the Shopify simulator's parts share: Shopify's constants, errors, search syntax and small helpers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from graphql.utilities import value_from_ast_untyped
from werkzeug.wrappers import Request, Response

SCHEMA_FILE = ("shopify", "admin_2025-04.schema.graphql")
PATH = re.compile(r"^/admin/api/(?P<version>\d{4}-\d{2}|unstable)/graphql\.json$")

# shopify.dev "GraphQL Admin API rate limits": the Standard plan restores 100 points/second. The
# bucket holds 20 seconds of restore (the documented 1000/50 pair before the limits were doubled),
# and no single query may request more than 1000 points.
STANDARD_BUCKET = 2000.0
STANDARD_RESTORE_RATE = 100.0
SINGLE_QUERY_MAX = 1000
MUTATION_COST = 10
CANCEL_REASONS = frozenset({"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"})
# shopify.dev "Inventory states": the quantity names, those inventorySetQuantities may set, and the
# reasons it accepts.
QUANTITY_NAMES = frozenset(
    {"available", "committed", "damaged", "incoming", "on_hand", "quality_control", "reserved", "safety_stock"}
)
SETTABLE_QUANTITIES = frozenset({"available", "on_hand"})
INVENTORY_REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_canceled",
        "movement_created",
        "movement_received",
        "movement_updated",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
MAX_INVENTORY_QUANTITY = 1_000_000_000
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
# Shopify fetches a new image from its URL: a public http(s) address.
IMAGE_URL = re.compile(r"^https?://[^\s/]+\.[^\s/]+(/\S*)?$")
GRAMS_PER_UNIT = {"GRAMS": Decimal(1), "KILOGRAMS": Decimal(1000)}


class FieldError(Exception):
    """A GraphQL error raised while resolving one field (the HTTP answer stays 200)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Term:
    field: str | None
    value: str
    negated: bool = False


@dataclass
class Document:
    """One request's parsed operation, its fragments and its variables."""

    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]

    @property
    def name(self) -> str:
        return self.operation.name.value if self.operation.name else ""

    @property
    def is_mutation(self) -> bool:
        return self.operation.operation is OperationType.MUTATION


def connection(items: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise FieldError("You must provide one of first or last", "BAD_REQUEST")
    start = int(args["after"]) + 1 if str(args.get("after") or "").isdigit() else 0
    window = items[start:]
    page = window[: int(first)] if first is not None else window[-int(last) :] if last else []
    offset = start if first is not None else start + len(window) - len(page)
    cursors = [str(offset + index) for index in range(len(page))]
    return {
        "nodes": page,
        "edges": [{"cursor": cursor, "node": node} for cursor, node in zip(cursors, page, strict=True)],
        "pageInfo": {
            "hasNextPage": offset + len(page) < len(items),
            "hasPreviousPage": offset > 0,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


# --- search syntax -------------------------------------------------------------------------------
TERM = re.compile(r"""(?P<neg>-)?(?:(?P<field>[A-Za-z_]+):)?(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\S+)""")

ORDER_SEARCH: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "tag": lambda order: order["tags"],
    "source_identifier": lambda order: [order["sourceIdentifier"] or ""],
    "source_name": lambda order: [order["sourceName"] or ""],
    "name": lambda order: [order["name"]],
    "email": lambda order: [order["email"] or ""],
    "financial_status": lambda order: [order["financialStatus"]],
    "fulfillment_status": lambda order: [order["fulfillmentStatus"]],
}
CUSTOMER_SEARCH: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "email": lambda customer: [customer["email"]],
    "first_name": lambda customer: [customer["firstName"]],
    "last_name": lambda customer: [customer["lastName"]],
    "phone": lambda customer: [customer["phone"]],
    "tag": lambda customer: customer["tags"],
}
VARIANT_SEARCH: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "sku": lambda variant: [variant["sku"]],
    "barcode": lambda variant: [variant["barcode"]],
    "title": lambda variant: [variant["title"]],
}
INVENTORY_ITEM_SEARCH: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "sku": lambda variant: [variant["sku"]],
}


def parse_search(query: str) -> list[list[Term]]:
    """`a b OR c` -> [[a, b], [c]]: AND is implied between terms and binds tighter than OR."""
    groups: list[list[Term]] = [[]]
    for match in TERM.finditer(query):
        value = match["value"]
        if value == "OR" and not match["field"]:
            groups.append([])
            continue
        if value == "AND" and not match["field"]:
            continue
        if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) > 1:
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        groups[-1].append(Term(match["field"], value, bool(match["neg"])))
    return [group for group in groups if group]


def matches(
    query: str | None, fields: dict[str, Callable[[dict[str, Any]], list[str]]], record: dict[str, Any]
) -> bool:
    if not query or not query.strip():
        return True
    return any(all(term_matches(term, fields, record) for term in group) for group in parse_search(query))


def term_matches(term: Term, fields: dict[str, Callable[[dict[str, Any]], list[str]]], record: dict[str, Any]) -> bool:
    if term.field is None:
        values = [value for getter in fields.values() for value in getter(record)]
    elif term.field in fields:
        values = fields[term.field](record)
    else:
        values = []  # a filter the simulator does not know matches nothing, rather than everything
    hit = any(value_matches(term.value, str(value or "")) for value in values)
    return hit != term.negated


def value_matches(wanted: str, value: str) -> bool:
    """Word-based, case-insensitive: `bol-123` finds `bol-123` and `bol-123-2`, not `bol-1234`."""
    if wanted == "*":
        return bool(value)
    if wanted.endswith("*"):
        return value.casefold().startswith(wanted[:-1].casefold())
    needle, haystack = words(wanted), words(value)
    if not needle:
        return wanted.casefold() == value.casefold()
    return any(haystack[start : start + len(needle)] == needle for start in range(len(haystack) - len(needle) + 1))


def words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.casefold())


# --- small helpers -------------------------------------------------------------------------------
def operation_name(request: Request) -> str | None:
    try:
        payload = json.loads(request.get_data(as_text=True))
    except ValueError:
        return None
    return payload.get("operationName") if isinstance(payload, dict) else None


def operation_names(request: Request) -> set[str]:
    """The operation name and root fields of a request, for aiming faults; empty if unreadable."""
    try:
        payload = json.loads(request.get_data(as_text=True))
        ast = parse(payload["query"])
    except (ValueError, TypeError, KeyError, GraphQLError):
        return set()
    names = {str(payload.get("operationName") or "")}
    for node in ast.definitions:
        if isinstance(node, OperationDefinitionNode):
            names.update(sel.name.value for sel in node.selection_set.selections if isinstance(sel, FieldNode))
    return names - {""}


def arguments(node: FieldNode, variables: dict[str, Any]) -> dict[str, Any]:
    return {arg.name.value: value_from_ast_untyped(arg.value, variables) for arg in node.arguments or ()}


def response_key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def returned(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    if not isinstance(value, dict):
        return 0
    return len(value.get("nodes") or value.get("edges") or [])


def connection_items(value: Any) -> list[dict[str, Any]]:
    """A returned connection seen one item at a time: `nodes` and `edges` cut to that item."""
    if not isinstance(value, dict):
        return []
    return [
        {key: part[index : index + 1] if isinstance(part, list) else part for key, part in value.items()}
        for index in range(returned(value))
    ]


def limited(items: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
    """A plain list field with `first`, such as `fulfillments` or `trackingInfo`."""
    first = args.get("first")
    return items[: int(first)] if first is not None else items


def scalar(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def error(message: str, code: str = "", path: list[Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"message": message}
    if path:
        result["path"] = path
    if code:
        result["extensions"] = {"code": code}
    return result


def user_error(where: list[str], message: str, code: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"field": where, "message": message}
    if code:
        result["code"] = code
    return result


def answer(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body, default=str), status=status, mimetype="application/json")
