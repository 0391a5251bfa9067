"""The shapes the OpenCart simulator holds requests and its own answers to.

The "OpenCart REST Admin API" extension publishes no machine-readable spec, so there is no reference
document to check against. What is checked instead is written down here, from
`../shared/reference/FACTS-systems-2.md` §1.8 and §2.3 (routes, header, envelope) and from OpenCart's
own tables (`oc_order`, `oc_order_product`, `oc_order_total`, `oc_product`), whose column names the
extension answers with. A request or answer off these shapes is a violation like an OpenAPI
contract's, named `opencart/shapes#<rule>`; none of it is verified against a real shop.

Requests:
- a route the extension serves, with its path values of the right kind (ids and limits as whole
  numbers, the order window's bounds as `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SS`);
- no query parameters but the query style's `route` (and, in that style, the path values may come as
  parameters instead: `limit`, `page`, `id`, `modified_from`, `modified_to`);
- a body only on writes, JSON, `Content-Type: application/json`, an object of the product fields
  below with their types; any other field is refused.
Answers (2xx): the envelope `{success, error, data}` with `success` 1/0 or true/false and `error` a
list or a string; an order list's rows and a product carry their required fields with their types.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from koppel_local.simulators.kit.contract import Answer, Call, CheckingContract, Violation

SOURCE = "opencart/shapes"
WINDOW_BOUND = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}:\d{2})?$")
WHOLE = re.compile(r"^\d+$")
PARAMETER_FORM = frozenset({"limit", "page", "id", "modified_from", "modified_to"})


def _text(limit: int, minimum: int = 0) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            return "must be a string"
        if not minimum <= len(value) <= limit:
            return f"must be {minimum} to {limit} characters"
        return ""

    return check


def _whole(value: Any) -> str:
    return "" if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else "must be a whole number"


def _flag(value: Any) -> str:
    return "" if value in (0, 1) and not isinstance(value, float) else "must be 0 or 1"


def _amount(value: Any) -> str:
    if isinstance(value, bool):
        return "must be a number"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return "must be a number"
    return "" if number.is_finite() and number >= 0 else "must be a number of zero or more"


def _ids(value: Any) -> str:
    if not isinstance(value, list) or any(_whole(entry) for entry in value):
        return "must be a list of whole numbers"
    return ""


def _descriptions(value: Any) -> str:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of {language_id, name}"
    for entry in value:
        if not isinstance(entry, dict) or _whole(entry.get("language_id")) or _text(255, 1)(entry.get("name")):
            return "each entry needs a whole language_id and a name of 1 to 255 characters"
        unknown = set(entry) - {"language_id", "name", "meta_title", "description"}
        if unknown:
            return f"holds fields the extension does not take: {', '.join(sorted(unknown))}"
        if "meta_title" in entry and _text(255, 1)(entry["meta_title"]):
            return "meta_title must be 1 to 255 characters"
    return ""


PRODUCT_FIELDS: dict[str, Callable[[Any], str]] = {
    "model": _text(64, 1),
    "sku": _text(64),
    "ean": _text(14),
    "quantity": lambda value: "" if isinstance(value, int) and not isinstance(value, bool) else "must be an integer",
    "price": _amount,
    "status": _flag,
    "tax_class_id": _whole,
    "product_description": _descriptions,
    "product_store": _ids,
}
CREATE_REQUIRES = ("model", "product_description")

ORDER_FIELDS: dict[str, type | tuple[type, ...]] = {
    "order_id": int,
    "email": str,
    "firstname": str,
    "lastname": str,
    "order_status_id": int,
    "currency_code": str,
    "currency_value": (str, int, float),
    "total": (str, int, float),
    "date_added": str,
    "date_modified": str,
    "products": list,
    "totals": list,
}
ORDER_PRODUCT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "order_product_id": int,
    "product_id": int,
    "name": str,
    "model": str,
    "quantity": int,
    "price": (str, int, float),
    "tax": (str, int, float),
}
PRODUCT_ANSWER_FIELDS: dict[str, type | tuple[type, ...]] = {
    "product_id": int,
    "model": str,
    "sku": str,
    "quantity": int,
    "price": (str, int, float),
    "status": int,
}


class OpenCartShapes(CheckingContract):
    """The documented shapes, checked on `Call`s whose path is the extension's path form
    (`/api/rest_admin/...`); the simulator turns the query form into it before asking."""

    source = SOURCE

    def __init__(self, groups: Callable[[str, str], tuple[str, dict[str, str]] | None]) -> None:
        self._groups = groups  # (method, path) -> (endpoint group, path values), None: no such route

    def request_violations(self, call: Call) -> list[Violation]:
        found = self._groups(call.method, call.path)
        if found is None:
            return [Violation(f"{call.method} {call.path}", "is not a route of the extension", "routes")]
        _, values = found
        violations: list[Violation] = []
        query_form = "route" in call.query
        for name in call.query:
            if name == "route" or (query_form and name in PARAMETER_FORM):
                continue
            violations.append(Violation(name, "is not a parameter of the extension", "parameters"))
        for name, value in values.items():
            if name in ("modified_from", "modified_to"):
                if not WINDOW_BOUND.match(value):
                    violations.append(Violation(name, "must be a date or a date and time", "orders/window"))
            elif not WHOLE.match(value) or (name in ("limit", "page") and int(value) < 1):
                violations.append(Violation(name, "must be a whole number (limit and page from 1)", "paths"))
        if call.method in ("PUT", "POST"):
            violations.extend(self._body(call, creating=call.method == "POST"))
        elif call.body:
            violations.append(Violation("body", f"a {call.method} carries no body", "body"))
        return violations

    def _body(self, call: Call, *, creating: bool) -> list[Violation]:
        content_type = call.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return [Violation("Content-Type", "a write is sent as application/json", "body")]
        try:
            body = json.loads(call.body or b"null")
        except ValueError:
            return [Violation("body", "is not JSON", "body")]
        if not isinstance(body, dict) or not body:
            return [Violation("body", "must be an object with at least one field", "body")]
        violations = [
            Violation(f"body.{name}", "is not a product field the extension takes", "products/fields")
            for name in body
            if name not in PRODUCT_FIELDS
        ]
        for name, check in PRODUCT_FIELDS.items():
            if name in body and (reason := check(body[name])):
                violations.append(Violation(f"body.{name}", reason, f"products/fields/{name}"))
        if creating:
            violations.extend(
                Violation(f"body.{name}", "is required to create a product", "products/create")
                for name in CREATE_REQUIRES
                if name not in body
            )
        return violations

    def response_violations(self, call: Call, answer: Answer) -> list[Violation]:
        try:
            body = json.loads(answer.body or b"null")
        except ValueError:
            return [Violation("answer", "is not JSON", "envelope")]
        if not isinstance(body, dict) or set(body) != {"success", "error", "data"}:
            return [Violation("answer", "must be exactly {success, error, data}", "envelope")]
        violations: list[Violation] = []
        if body["success"] not in (0, 1) or isinstance(body["success"], float):
            violations.append(Violation("success", "must be 1/0 or true/false", "envelope/success"))
        if not isinstance(body["error"], list | str):
            violations.append(Violation("error", "must be a list or a string", "envelope/error"))
        found = self._groups(call.method, call.path)
        group = found[0] if found else ""
        data = body["data"]
        if group == "orders-modified":
            if not isinstance(data, list):
                return [*violations, Violation("data", "must be a list of orders", "orders/list")]
            for index, order in enumerate(data):
                violations.extend(typed(order, ORDER_FIELDS, f"data[{index}]", "orders/order"))
                for number, line in enumerate(order.get("products") or () if isinstance(order, dict) else ()):
                    violations.extend(
                        typed(line, ORDER_PRODUCT_FIELDS, f"data[{index}].products[{number}]", "orders/product")
                    )
        elif group == "order":
            violations.extend(typed(data, ORDER_FIELDS, "data", "orders/order"))
        elif group == "products":
            if not isinstance(data, list):
                return [*violations, Violation("data", "must be a list of products", "products/list")]
            for index, product in enumerate(data):
                violations.extend(typed(product, PRODUCT_ANSWER_FIELDS, f"data[{index}]", "products/product"))
        elif group == "product":
            violations.extend(typed(data, PRODUCT_ANSWER_FIELDS, "data", "products/product"))
        elif group == "product-create" and not (isinstance(data, dict) and _whole(data.get("product_id")) == ""):
            violations.append(Violation("data.product_id", "a create answers the new product's id", "products/create"))
        return violations


def typed(value: Any, fields: Mapping[str, type | tuple[type, ...]], name: str, rule: str) -> list[Violation]:
    if not isinstance(value, dict):
        return [Violation(name, "must be an object", rule)]
    return [
        Violation(f"{name}.{field}", f"is required as {kind}", f"{rule}/{field}")
        for field, kind in fields.items()
        if not isinstance(value.get(field), kind) or isinstance(value.get(field), bool)
    ]
