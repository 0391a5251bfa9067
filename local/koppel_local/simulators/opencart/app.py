"""An OpenCart 3 shop with the "OpenCart REST Admin API" extension (opencart-api.com), on the kit.

There is no published spec for that extension. This simulator is built from
`../shared/reference/FACTS-systems-2.md` §1.8 and §2.3 alone (the routes an integration calls, the
`X-Oc-Restadmin-Id` header, the `{success, error, data}` envelope) and OpenCart's own column names;
what it checks is written down in `shapes.py` and holds its own answers to the same shapes.

What it serves, in both URL forms the facts name:
- path form: `/api/rest_admin/<route>`;
- query form: `/index.php?route=rest/<route>`, or `route=rest/<first part>` with the path values as
  parameters (`limit`, `page`, `id`, `modified_from`, `modified_to`);
where `<route>` is `orders/details/modified_from/{from}/modified_to/{to}`, `orders/{id}`,
`products/limit/{n}/page/{p}`, `products/{id}` (GET, PUT) and `products` (POST).

The order window takes both bounds inclusive, as a date (`from` at 00:00:00, `to` at 23:59:59) or a
date and time (space or `T`), in the shop's time zone; it answers every order of the window, unpaged.
Orders, products and their times are kept on the simulator's clock (`freeze`, `advance`) and written
in the shop's local time (`time_zone`), as OpenCart stores `date_modified`; every answer carries an
HTTP `Date` from that clock. Amounts are strings with four decimals, as OpenCart's decimal columns
answer. `success_style` ("int": 1/0, "bool": true/false) and `error_style` ("list", "string")
choose the envelope's variant; a refused secret is answered 401 in the envelope.

Not verified against a real shop, all of it: the query form's spelling; that the order window is
inclusive, unpaged and compares `date_modified` in shop time; the date forms it takes; whether an
empty window is `data: []` (here) or a `success: 0` "not found"; the answer's field names beyond
OpenCart's columns (`sku` on order products, `totals`, `products`); the product PUT and POST bodies;
that a refusal is 400 (or 404 for an unknown id) rather than 200 with `success: 0`; the 401; and any
rate limit (the extension has none known; `limit_per_second` imitates a host in front, 429 with
`Retry-After`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from itertools import count
from typing import Any, Literal
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Request, Response

from koppel_local.simulators.kit import (
    ClaimedViolations,
    Contract,
    HeaderKey,
    PlannedFaults,
    Route,
    ShopClock,
    ShopThrottle,
    WsgiSimulator,
    route,
)
from koppel_local.simulators.kit.contract import ContractViolation
from koppel_local.simulators.opencart.shapes import OpenCartShapes

DEMO_SECRET = "opencart-demo-restadmin-secret"  # noqa: S105 - the simulator's made-up secret
HEADER = "X-Oc-Restadmin-Id"
ROOT = "/api/rest_admin"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
FOUR = Decimal("0.0001")
STATUS_NAMES = {
    1: "Pending",
    2: "Processing",
    3: "Shipped",
    5: "Complete",
    7: "Canceled",
    8: "Denied",
    10: "Failed",
    11: "Refunded",
    12: "Reversed",
    15: "Processed",
    16: "Voided",
}

ROUTES = (
    route(
        "GET",
        rf"{ROOT}/orders/details/modified_from/(?P<modified_from>[^/]+)/modified_to/(?P<modified_to>[^/]+)",
        "orders-modified",
        "_orders_modified",
    ),
    route("GET", rf"{ROOT}/orders/(?P<id>[^/]+)", "order", "_get_order"),
    route("GET", rf"{ROOT}/products/limit/(?P<limit>[^/]+)/page/(?P<page>[^/]+)", "products", "_list_products"),
    route("GET", rf"{ROOT}/products/(?P<id>[^/]+)", "product", "_get_product"),
    route("PUT", rf"{ROOT}/products/(?P<id>[^/]+)", "product-save", "_save_product"),
    route("POST", rf"{ROOT}/products", "product-create", "_create_product"),
)


def item(sku: str, quantity: int, unit_price_incl: Decimal | str, *, name: str = "", tax_rate: str = "21", **extra):
    """One order line as a test describes it: the price a buyer sees per unit (VAT included) and its rate."""
    return {
        "sku": sku,
        "model": extra.get("model", sku),
        "name": name or sku,
        "quantity": quantity or 0,
        "gross": Decimal(str(unit_price_incl)),
        "rate": Decimal(str(tax_rate)),
    }


def virtual_path(request: Request) -> str:
    """The request's route in the path form, whichever form it came in."""
    if request.path != "/index.php":
        return request.path
    given = request.args.get("route", "")
    if not given.startswith("rest/"):
        return request.path
    path = f"{ROOT}/{given[len('rest/') :].strip('/')}"
    args = request.args
    if path == f"{ROOT}/products" and "limit" in args:
        return f"{path}/limit/{args['limit']}/page/{args.get('page', '1')}"
    if path in (f"{ROOT}/products", f"{ROOT}/orders") and "id" in args:
        return f"{path}/{args['id']}"
    if path == f"{ROOT}/orders/details" and "modified_from" in args:
        return f"{path}/modified_from/{args['modified_from']}/modified_to/{args.get('modified_to', '')}"
    return path


class OpenCartSimulator(ShopClock, ShopThrottle, ClaimedViolations, PlannedFaults, WsgiSimulator):
    """One OpenCart shop through the REST Admin extension."""

    system = "OpenCart simulator"
    routes = ROUTES

    def __init__(
        self,
        *,
        secret: str = DEMO_SECRET,
        time_zone: str = "Europe/Amsterdam",
        now: datetime | None = None,
        success_style: Literal["int", "bool"] = "int",
        error_style: Literal["list", "string"] = "list",
        limit_per_second: int | None = None,
        latency_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.setup_kit(clock=clock, sleep=sleep, latency_seconds=latency_seconds, dated=lambda: self._now)
        self.contract: Contract = OpenCartShapes(self._route_of)
        self.auth = HeaderKey(HEADER, secret)
        self.zone = ZoneInfo(time_zone)
        self.success_style = success_style
        self.error_style = error_style
        self.setup_throttle(limit_per_second)
        self.start_clock(now)
        self.orders: dict[int, dict[str, Any]] = {}
        self.products: dict[int, dict[str, Any]] = {}
        self.refusals: dict[str, tuple[int, str]] = {}  # sku (folded) -> the next save's (status, words)
        self._ids = {kind: count(1) for kind in ("order", "line", "product")}

    # --- the shop's clock -----------------------------------------------------------------------
    def local(self, moment: datetime | None = None) -> str:
        """A moment as OpenCart writes it: the shop's wall time, no offset."""
        return (moment or self._now).astimezone(self.zone).strftime(TIME_FORMAT)

    # --- state API for tests and the demo -------------------------------------------------------
    def add_product(
        self,
        sku: str,
        name: str = "",
        *,
        price: Decimal | str = "9.99",
        quantity: int | None = None,
        model: str | None = None,
    ) -> dict[str, Any]:
        """A product in the catalogue; without `quantity` its stock was never set (it shows 0)."""
        with self._lock:
            product = self._new_product(
                {
                    "model": model if model is not None else sku,
                    "sku": sku,
                    "price": price,
                    "quantity": quantity or 0,
                    "product_description": [{"language_id": 1, "name": name or sku}],
                }
            )
            product["_stocked"] = quantity is not None
            return product

    def quantity(self, sku: str) -> int | None:
        """The product's quantity; None: never set since it was added."""
        found = self.product(sku)
        return int(found["quantity"]) if found is not None and found.get("_stocked") else None

    def product(self, sku: str) -> dict[str, Any] | None:
        """The product whose SKU (or, without one, model) is `sku`."""
        folded = sku.casefold()
        return next(
            (p for p in self.products.values() if (p["sku"] or p["model"]).casefold() == folded),
            None,
        )

    def name_of(self, product: Mapping[str, Any], language_id: int = 1) -> str:
        return next(
            (d["name"] for d in product["product_description"] if d["language_id"] == language_id),
            "",
        )

    def remove_product(self, sku: str) -> None:
        with self._lock:
            found = self.product(sku)
            if found is not None:
                del self.products[found["product_id"]]

    def refuse_next_save(self, sku: str, words: str, status: int = 400) -> None:
        """The next save of this product is refused with `status` and these words in the envelope."""
        self.refusals[sku.casefold()] = (status, words)

    def add_order(
        self,
        lines: Iterable[Mapping[str, Any]],
        *,
        status_id: int = 2,
        email: str = "jan@example.nl",
        payment: Mapping[str, str] | None = None,
        shipping: Mapping[str, str] | None = None,
        shipping_incl: Decimal | str = "4.95",
        shipping_rate: Decimal | str = "21",
        coupon_incl: Decimal | str = "0",
        currency: str = "EUR",
        currency_value: Decimal | str = "1",
        payment_method: str = "iDEAL",
    ) -> dict[str, Any]:
        """An order placed now on the shop's clock; `lines` from `item(...)`. The coupon is taken off
        the goods at their own rate, as OpenCart's coupon total does; the totals follow from it all."""
        with self._lock:
            order_id = next(self._ids["order"])
            rows = []
            for line in lines:
                price = (line["gross"] / (1 + line["rate"] / 100)).quantize(FOUR, ROUND_HALF_UP)
                rows.append(
                    {
                        "order_product_id": next(self._ids["line"]),
                        "order_id": order_id,
                        "product_id": (self.product(line["sku"]) or {}).get("product_id", 0),
                        "name": line["name"],
                        "model": line["model"],
                        "sku": line["sku"],
                        "quantity": line["quantity"],
                        "price": price,
                        "total": price * line["quantity"],
                        "tax": line["gross"] - price,
                        "reward": 0,
                        "_rate": line["rate"],
                    }
                )
            totals = self._totals(
                rows, Decimal(str(shipping_incl)), Decimal(str(shipping_rate)), Decimal(str(coupon_incl))
            )
            bill = address(payment or {})
            ship = address(shipping or payment or {})
            order = {
                "order_id": order_id,
                "invoice_prefix": "INV-2026-00",
                "store_id": 0,
                "store_name": "Koppel Test Shop",
                "customer_id": 0,
                "firstname": bill["firstname"],
                "lastname": bill["lastname"],
                "email": email,
                "telephone": bill.pop("telephone"),
                **{f"payment_{key}": value for key, value in bill.items()},
                "payment_method": payment_method,
                "payment_code": payment_method.lower().replace(" ", "_"),
                **{f"shipping_{key}": value for key, value in ship.items() if key != "telephone"},
                "shipping_method": "Flat Shipping Rate",
                "shipping_code": "flat.flat",
                "comment": "",
                "total": next(t["value"] for t in totals if t["code"] == "total"),
                "order_status_id": status_id,
                "order_status": STATUS_NAMES.get(status_id, str(status_id)),
                "currency_code": currency,
                "currency_value": Decimal(str(currency_value)),
                "date_added": self.local(),
                "date_modified": self.local(),
                "products": rows,
                "totals": totals,
            }
            self.orders[order_id] = order
            return order

    def update_order(self, order_id: int | str, *, status_id: int) -> None:
        """The merchant moves the order to another status in the admin: `date_modified` becomes now."""
        with self._lock:
            order = self.orders[int(order_id)]
            order["order_status_id"] = status_id
            order["order_status"] = STATUS_NAMES.get(status_id, str(status_id))
            order["date_modified"] = self.local()

    # --- building records -----------------------------------------------------------------------
    @staticmethod
    def _totals(rows: list[dict[str, Any]], shipping_incl: Decimal, shipping_rate: Decimal, coupon_incl: Decimal):
        sub_total = sum((row["total"] for row in rows), Decimal(0))
        taxes: dict[Decimal, Decimal] = {}
        for row in rows:
            taxes[row["_rate"]] = taxes.get(row["_rate"], Decimal(0)) + row["tax"] * row["quantity"]
        shipping = (shipping_incl / (1 + shipping_rate / 100)).quantize(FOUR, ROUND_HALF_UP)
        if shipping_incl:
            taxes[shipping_rate] = taxes.get(shipping_rate, Decimal(0)) + shipping_incl - shipping
        coupon = Decimal(0)
        if coupon_incl and rows:
            rate = rows[0]["_rate"]  # a test's coupon is on goods of one rate
            coupon = (coupon_incl / (1 + rate / 100)).quantize(FOUR, ROUND_HALF_UP)
            taxes[rate] -= coupon_incl - coupon
        totals = [{"code": "sub_total", "title": "Sub-Total", "value": sub_total}]
        if shipping_incl:
            totals.append({"code": "shipping", "title": "Flat Shipping Rate", "value": shipping})
        if coupon:
            totals.append({"code": "coupon", "title": "Coupon (KORTING)", "value": -coupon})
        for rate, amount in sorted(taxes.items()):
            totals.append({"code": "tax", "title": f"BTW {rate.normalize()}%", "value": amount})
        grand = sub_total + shipping - coupon + sum(taxes.values(), Decimal(0))
        totals.append({"code": "total", "title": "Total", "value": grand})
        for number, total in enumerate(totals, start=1):
            total["sort_order"] = number
        return totals

    def _new_product(self, given: Mapping[str, Any]) -> dict[str, Any]:
        product_id = next(self._ids["product"])
        product = {
            "product_id": product_id,
            "model": str(given.get("model") or ""),
            "sku": str(given.get("sku") or ""),
            "ean": str(given.get("ean") or ""),
            "quantity": int(given.get("quantity") or 0),
            "price": Decimal(str(given.get("price") or 0)).quantize(FOUR),
            "status": int(given.get("status", 1)),
            "tax_class_id": int(given.get("tax_class_id") or 0),
            "product_description": [
                {"language_id": d["language_id"], "name": d["name"], "meta_title": d.get("meta_title", d["name"])}
                for d in given.get("product_description") or ()
            ],
            "product_store": list(given.get("product_store") or [0]),
            "date_added": self.local(),
            "date_modified": self.local(),
        }
        self.products[product_id] = product
        return product

    # --- the kit's hooks, in the extension's words ----------------------------------------------
    def match(self, request: Request) -> tuple[Route | None, dict[str, str]]:
        path = virtual_path(request)
        for candidate in self.routes:
            matched = candidate.pattern.fullmatch(path)
            if matched is not None and request.method == candidate.method:
                return candidate, matched.groupdict()
        return None, {}

    def _route_of(self, method: str, path: str) -> tuple[str, dict[str, str]] | None:
        for candidate in self.routes:
            matched = candidate.pattern.fullmatch(path)
            if matched is not None and method == candidate.method:
                return candidate.group, matched.groupdict()
        return None

    def contract_for(self, request: Request) -> tuple[Contract | None, str]:
        return self.contract, virtual_path(request)

    def authenticate(self, request: Request) -> Response | None:
        failure = self.auth.check(request)
        return None if failure is None else self.envelope(401, error="Invalid or missing " + HEADER)

    def too_many(self, headers: Mapping[str, str]) -> Response:
        return self.envelope(429, error="Too many requests", headers=headers)

    def shop_error(self, status: int, words: str) -> Response:
        return self.envelope(status, error=words)

    def refuse(self, request: Request, error: ContractViolation) -> Response:
        return self.envelope(400, error=[f"{v.name}: {v.reason}" for v in error.violations])

    def not_served(self, request: Request) -> Response:
        return self.envelope(404, error="No such route")

    def envelope(
        self, status: int, data: Any = None, *, error: str | list[str] = "", headers: Mapping[str, str] | None = None
    ) -> Response:
        words = [error] if isinstance(error, str) and error else list(error or [])
        ok = status < 400 and not words
        shown: Any = words if self.error_style == "list" else "; ".join(words)
        body = {
            "success": (1 if ok else 0) if self.success_style == "int" else ok,
            "error": shown,
            "data": data if data is not None else [],
        }
        return Response(
            json.dumps(body, default=_amount), status, content_type="application/json", headers=dict(headers or {})
        )

    # --- endpoints ------------------------------------------------------------------------------
    def _orders_modified(self, request: Request, modified_from: str, modified_to: str) -> Response:
        low, high = bound(modified_from, end=False), bound(modified_to, end=True)
        found = [order for order in self.orders.values() if low <= order["date_modified"] <= high]
        found.sort(key=lambda order: order["order_id"])
        return self.envelope(200, [shown(order) for order in found])

    def _get_order(self, request: Request, id: str) -> Response:
        order = self.orders.get(int(id))
        return self.envelope(200, shown(order)) if order else self.envelope(404, error="Order not found")

    def _list_products(self, request: Request, limit: str, page: str) -> Response:
        size, number = int(limit), int(page)
        rows = sorted(self.products.values(), key=lambda product: product["product_id"])
        return self.envelope(200, [shown(p) for p in rows[(number - 1) * size : number * size]])

    def _get_product(self, request: Request, id: str) -> Response:
        product = self.products.get(int(id))
        return self.envelope(200, shown(product)) if product else self.envelope(404, error="Product not found")

    def _save_product(self, request: Request, id: str) -> Response:
        product = self.products.get(int(id))
        if product is None:
            return self.envelope(404, error="Product not found")
        refused = self.refusals.pop((product["sku"] or product["model"]).casefold(), None)
        if refused is not None:
            return self.envelope(refused[0], error=refused[1])
        given = json.loads(request.get_data() or b"{}")
        for field in ("model", "sku", "ean", "quantity", "status", "tax_class_id"):
            if field in given:
                product[field] = given[field]
        product["_stocked"] = product.get("_stocked") or "quantity" in given
        if "price" in given:
            product["price"] = Decimal(str(given["price"])).quantize(FOUR)
        for entry in given.get("product_description") or ():
            kept = {d["language_id"]: d for d in product["product_description"]}
            kept[entry["language_id"]] = {**kept.get(entry["language_id"], {}), **entry}
            product["product_description"] = list(kept.values())
        product["date_modified"] = self.local()
        return self.envelope(200, [])

    def _create_product(self, request: Request) -> Response:
        given = json.loads(request.get_data() or b"{}")
        refused = self.refusals.pop(str(given.get("sku") or given.get("model")).casefold(), None)
        if refused is not None:
            return self.envelope(refused[0], error=refused[1])
        return self.envelope(200, {"product_id": self._new_product(given)["product_id"]})


def address(given: Mapping[str, str]) -> dict[str, str]:
    return {
        "firstname": given.get("firstname", "Jan"),
        "lastname": given.get("lastname", "Jansen"),
        "company": given.get("company", ""),
        "address_1": given.get("address_1", "Kerkstraat 12a"),
        "address_2": given.get("address_2", ""),
        "postcode": given.get("postcode", "1234 AB"),
        "city": given.get("city", "Utrecht"),
        "country": given.get("country", "Netherlands"),
        "iso_code_2": given.get("iso_code_2", "NL"),
        "zone": given.get("zone", "Utrecht"),
        "telephone": given.get("telephone", "0612345678"),
    }


def bound(value: str, *, end: bool) -> str:
    """A window bound as the shop compares it with `date_modified` (its wall time as text)."""
    value = value.replace("T", " ")
    if len(value) == len("YYYY-MM-DD"):
        value += " 23:59:59" if end else " 00:00:00"
    return value


def shown(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as the extension answers it: without the simulator's own keys."""
    visible = {key: value for key, value in record.items() if not key.startswith("_")}
    for key in ("products", "totals"):
        if key in visible:
            visible[key] = [shown(entry) for entry in visible[key]]
    return visible


def _amount(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value.quantize(FOUR))  # OpenCart's decimal(15,4) columns answer as text
    raise TypeError(f"{type(value).__name__} is not JSON")
