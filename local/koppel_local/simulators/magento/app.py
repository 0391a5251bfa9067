"""A Magento 2.4 admin REST API simulator on the kit: orders, products, stock and customers.

It follows `../shared/reference/magento/admin-schema-2.4.9.yaml` (Swagger 2.0, basePath
`/rest/default`), with `../shared/reference/FACTS-systems-2.md` §1.6 for what the spec leaves out.
Every request and every 2xx answer is checked against that document (strict: a request off it is
refused 400 in Magento's error shape and fails the test that sent it). The document is 1 MB of YAML;
the kit parses it once per process (about a second with the C loader).

What it serves, under `/rest/{store_code}/V1` (any store code of `stores`): `GET /orders`,
`GET /orders/{id}`, `GET|POST /products`, `GET|PUT /products/{sku}`, `GET|POST /inventory/source-items`
(MSI stores only), `GET /stockItems/{sku}`, `PUT /products/{sku}/stockItems/{itemId}`,
`GET /customers/search`, `GET|PUT /customers/{customerId}`.

Lists take `searchCriteria` (camelCase as the spec spells it; the snake_case Magento also reads is
taken too): filter groups AND'ed, filters in a group OR'ed, conditions `eq`, `neq`, `in`, `nin`, `gt`,
`gteq`, `lt`, `lteq`, `like`; `sortOrders`; `pageSize` and `currentPage`. A `currentPage` past the end
answers the last page again, as Magento does. Order times come from the simulator's own clock
(`freeze`, `advance`), in whole seconds, UTC, so tests can put orders in one second.

Auth: integration access tokens as Bearer; `bearer_allowed=False` imitates a 2.4.4+ store that does
not take integration tokens as bearer (every request 401). Rate limit: Magento has none by default;
`limit_per_second` imitates a proxy in front (429 with `Retry-After: 1`).

Not verified against a real store: the wording of the error messages; that a `source-items` save
naming an unknown SKU is refused as a whole (400, one error per SKU); that `PUT /products/{sku}` for
an unknown SKU is 404 (a real store may create it); the simulator's answer to a void `source-items`
save (an empty 200: the spec documents no 2xx); that a custom attribute the store does not know is
ignored on a customer; `null`s Magento sends for unset strings (the simulator sends "" where the
spec types a string, since the spec allows no null).
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from itertools import count
from typing import Any, Literal

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from koppel_local.simulators.kit import (
    Answer,
    Call,
    CheckingContract,
    ClaimedViolations,
    Contract,
    ContractViolation,
    OpenApiContract,
    PlannedFaults,
    ShopClock,
    ShopThrottle,
    Violation,
    WsgiSimulator,
    load_openapi,
    route,
)

SPEC = ("magento", "admin-schema-2.4.9.yaml")
DEMO_TOKEN = "magento-demo-integration-token"  # noqa: S105 - the simulator's made-up token
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CENT = Decimal("0.01")
DEFAULT_PAGE_SIZE = 20  # unverified: Magento pages without a pageSize answer everything
NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
NO_PRODUCT = "The product that was requested doesn't exist. Verify the product and try again."

_V1 = r"/rest/(?P<store>[^/]+)/V1"
ROUTES = (
    route("GET", rf"{_V1}/orders", "orders", "_list_orders"),
    route("GET", rf"{_V1}/orders/(?P<order_id>[^/]+)", "order", "_get_order"),
    route("GET", rf"{_V1}/products", "products", "_list_products"),
    route("POST", rf"{_V1}/products", "product-create", "_create_product"),
    route("GET", rf"{_V1}/products/(?P<sku>[^/]+)", "product", "_get_product"),
    route("PUT", rf"{_V1}/products/(?P<sku>[^/]+)", "product-save", "_save_product"),
    route("GET", rf"{_V1}/inventory/source-items", "source-items", "_list_source_items"),
    route("POST", rf"{_V1}/inventory/source-items", "source-items-save", "_save_source_items"),
    route("GET", rf"{_V1}/stockItems/(?P<sku>[^/]+)", "stock-item", "_get_stock_item"),
    route("PUT", rf"{_V1}/products/(?P<sku>[^/]+)/stockItems/(?P<item_id>[^/]+)", "stock-item-save", "_save_stock"),
    route("GET", rf"{_V1}/customers/search", "customers", "_search_customers"),
    route("GET", rf"{_V1}/customers/(?P<customer_id>[^/]+)", "customer", "_get_customer"),
    route("PUT", rf"{_V1}/customers/(?P<customer_id>[^/]+)", "customer-save", "_save_customer"),
)
_CRITERION = re.compile(
    r"^searchCriteria\[(?:filterGroups|filter_groups)\]\[(\d+)\]\[filters\]\[(\d+)\]\[(field|value|conditionType|condition_type)\]$"
)
_SORT = re.compile(r"^searchCriteria\[(?:sortOrders|sort_orders)\]\[(\d+)\]\[(field|direction)\]$")

# What a stock item holds besides its quantity (the spec requires every one of these in an answer).
STOCK_ITEM_DEFAULTS: dict[str, Any] = {
    "is_qty_decimal": False,
    "show_default_notification_message": False,
    "use_config_min_qty": True,
    "min_qty": 0,
    "use_config_min_sale_qty": 1,
    "min_sale_qty": 1,
    "use_config_max_sale_qty": True,
    "max_sale_qty": 10000,
    "use_config_backorders": True,
    "backorders": 0,
    "use_config_notify_stock_qty": True,
    "notify_stock_qty": 1,
    "use_config_qty_increments": True,
    "qty_increments": 0,
    "use_config_enable_qty_inc": True,
    "enable_qty_increments": False,
    "use_config_manage_stock": True,
    "manage_stock": True,
    "low_stock_date": "",
    "is_decimal_divided": False,
    "stock_status_changed_auto": 0,
}


_INDEXED = re.compile(r"^(searchCriteria\[(?:filterGroups|sortOrders)\])((?:\[\d+\])+)(\[\w+\])$")


class SearchCriteriaContract(CheckingContract):
    """The Magento document, with each filter and sort order of a `searchCriteria` checked on its own.

    The spec lists one example of each repeatable group (`[filterGroups][0][filters][0]`,
    `[sortOrders][0]`); a query with two filters or two sort orders is checked as one query per filter
    and per sort order, each renumbered to that example, so every value is still checked."""

    def __init__(self, document: OpenApiContract) -> None:
        self.document = document
        self.source = document.source

    def request_violations(self, call: Call) -> list[Violation]:
        plain: list[tuple[str, str]] = []
        indexed: dict[str, list[tuple[str, str]]] = {}
        for key, value in call.query.items(multi=True):
            found = _INDEXED.match(key)
            if found is None:
                plain.append((key, value))
            else:
                example = re.sub(r"\d+", "0", found.group(2))
                indexed.setdefault(found.group(1) + found.group(2), []).append(
                    (found.group(1) + example + found.group(3), value)
                )
        queries = [plain + group for group in indexed.values()] or [plain]
        violations: list[Violation] = []
        for query in queries:
            for violation in self.document.request_violations(
                Call(call.method, call.path, MultiDict(query), call.headers, call.body)
            ):
                if violation not in violations:
                    violations.append(violation)
        return violations

    def response_violations(self, call: Call, answer: Answer) -> list[Violation]:
        return self.document.response_violations(call, answer)


def load_contract() -> SearchCriteriaContract:
    """The Magento admin contract; raises `ReferenceMissing` when the reference file is absent."""
    return SearchCriteriaContract(load_openapi(*SPEC))


def item(
    sku: str,
    qty: int,
    price_incl_tax: Decimal | str,
    *,
    name: str = "",
    tax_percent: Decimal | str = "21",
    discount: Decimal | str = "0",
) -> dict[str, Any]:
    """One order line as a test describes it: a simple product, its price with VAT, its discount with VAT."""
    return {
        "kind": "simple",
        "sku": sku,
        "name": name or sku,
        "qty": qty,
        "price_incl_tax": Decimal(str(price_incl_tax)),
        "tax_percent": Decimal(str(tax_percent)),
        "discount": Decimal(str(discount)),
    }


def configurable(parent_sku: str, child_sku: str, qty: int, price_incl_tax: Decimal | str, **options: Any) -> dict:
    """A configurable product bought as one of its children (a size, a colour)."""
    return item(child_sku, qty, price_incl_tax, **options) | {"kind": "configurable", "parent_sku": parent_sku}


class MagentoSimulator(ShopClock, ShopThrottle, ClaimedViolations, PlannedFaults, WsgiSimulator):
    """One Magento 2.4 store, through its admin REST API."""

    system = "Magento simulator"
    routes = ROUTES

    def __init__(
        self,
        *,
        contract: Contract | None,
        tokens: Iterable[str] = (DEMO_TOKEN,),
        inventory: Literal["msi", "legacy"] = "msi",
        stores: Iterable[str] = ("default", "all"),
        sources: Iterable[str] = ("default",),
        discount_tax: Literal["including", "excluding"] = "including",
        bearer_allowed: bool = True,
        limit_per_second: int | None = None,
        now: datetime | None = None,
        latency_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`contract`: `load_contract()`, or None to serve unchecked (only where the reference is absent)."""
        self.setup_kit(clock=clock, sleep=sleep, latency_seconds=latency_seconds)
        self.contract = contract
        self.tokens = set(tokens)
        self.inventory = inventory
        self.stores = set(stores)
        self.sources = set(sources)
        self.discount_tax = discount_tax
        self.bearer_allowed = bearer_allowed
        self.setup_throttle(limit_per_second)
        self.start_clock(now)
        self.orders: dict[int, dict[str, Any]] = {}  # entity_id -> order, as Magento answers it
        self.products: dict[str, dict[str, Any]] = {}  # sku (folded) -> product
        self.stock_items: dict[int, dict[str, Any]] = {}  # product id -> legacy stock item
        self.source_items: dict[tuple[str, str], dict[str, Any]] = {}  # (sku folded, source) -> source item
        self.customers: dict[int, dict[str, Any]] = {}
        self.refusals: dict[str, tuple[str, list[str]]] = {}  # sku (folded) -> the next save's refusal
        self._ids = {kind: count(1) for kind in ("order", "item", "address", "product", "customer")}
        self._increments = count(1)

    # --- the store's clock ----------------------------------------------------------------------
    def now(self) -> str:
        return self._now.strftime(TIME_FORMAT)

    # --- state API for tests and the demo -------------------------------------------------------
    def add_product(
        self,
        sku: str,
        name: str = "",
        *,
        price: Decimal | str = "9.99",
        type_id: str = "simple",
        quantity: int | None = None,
        custom_attributes: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            product = self._new_product(
                {
                    "sku": sku,
                    "name": name or sku,
                    "price": Decimal(str(price)),
                    "type_id": type_id,
                    "custom_attributes": [
                        {"attribute_code": code, "value": value} for code, value in (custom_attributes or {}).items()
                    ],
                }
            )
            if type_id == "simple" and quantity is not None:
                self._set_stock(product, Decimal(quantity))
            return product

    def product(self, sku: str) -> dict[str, Any] | None:
        return self.products.get(sku.casefold())

    def attribute(self, sku: str, code: str) -> str | None:
        product = self.product(sku) or {}
        return next(
            (str(a["value"]) for a in product.get("custom_attributes") or () if a["attribute_code"] == code), None
        )

    def remove_product(self, sku: str) -> None:
        with self._lock:
            product = self.products.pop(sku.casefold())
            self.stock_items.pop(product["id"], None)
            for key in [key for key in self.source_items if key[0] == sku.casefold()]:
                del self.source_items[key]

    def refuse_next_save(self, sku: str, message: str, parameters: Iterable[str] = ()) -> None:
        """The next save of this product is refused 400 with Magento's `{message, parameters}`."""
        self.refusals[sku.casefold()] = (message, list(parameters))

    def quantity(self, sku: str) -> int | None:
        """What the store sells from: the MSI source's quantity, or the legacy stock item's; None: never set."""
        product = self.product(sku)
        if product is None:
            return None
        if self.inventory == "msi":
            found = self.source_items.get((sku.casefold(), sorted(self.sources)[0]))
            return None if found is None or found.get("_untouched") else int(found["quantity"])
        stock = self.stock_items.get(product["id"])
        return None if stock is None or stock.get("_untouched") else int(stock["qty"])

    def in_stock(self, sku: str) -> bool:
        product = self.product(sku) or {}
        if self.inventory == "msi":
            return bool(self.source_items[(sku.casefold(), sorted(self.sources)[0])]["status"])
        return bool(self.stock_items[product["id"]]["is_in_stock"])

    def add_customer(
        self, email: str, firstname: str = "Jan", lastname: str = "Jansen", *, website_id: int = 1
    ) -> dict[str, Any]:
        with self._lock:
            customer_id = next(self._ids["customer"])
            customer = {
                "id": customer_id,
                "group_id": 1,
                "created_at": self.now(),
                "updated_at": self.now(),
                "created_in": "Default Store View",
                "email": email,
                "firstname": firstname,
                "lastname": lastname,
                "store_id": 1,
                "website_id": website_id,
                "addresses": [],
                "disable_auto_group_change": 0,
                "custom_attributes": [],
            }
            self.customers[customer_id] = customer
            return customer

    def customer_attribute(self, email: str, code: str) -> str | None:
        for customer in self.customers.values():
            if customer["email"].casefold() == email.casefold():
                for entry in customer.get("custom_attributes") or ():
                    if entry["attribute_code"] == code:
                        return str(entry["value"])
        return None

    def add_order(
        self,
        lines: Iterable[Mapping[str, Any]],
        *,
        increment_id: str | None = None,
        state: str = "processing",
        status: str | None = None,
        email: str = "jan@example.nl",
        billing: Mapping[str, Any] | None = None,
        shipping: Mapping[str, Any] | None = None,
        shipping_incl_tax: Decimal | str = "4.95",
        payment_method: str = "checkmo",
        currency: str = "EUR",
    ) -> dict[str, Any]:
        """An order placed now on the store's clock; `lines` from `item(...)` and `configurable(...)`."""
        with self._lock:
            entity_id = next(self._ids["order"])
            increment = increment_id or f"{next(self._increments):09d}"
            items: list[dict[str, Any]] = []
            for line in lines:
                items.extend(self._order_items(line, entity_id))
            shipping_cost = Decimal(str(shipping_incl_tax))
            paid = sum((self._paid(entry) for entry in items if entry.get("parent_item_id") is None), Decimal(0))
            grand = (paid + shipping_cost).quantize(CENT)
            bill = self._address("billing", entity_id, billing or {}, email)
            order: dict[str, Any] = {
                "entity_id": entity_id,
                "increment_id": increment,
                "state": state,
                "status": status or state,
                "created_at": self.now(),
                "updated_at": self.now(),
                "customer_email": email,
                "customer_firstname": bill["firstname"],
                "customer_lastname": bill["lastname"],
                "customer_is_guest": 1,
                "order_currency_code": currency,
                "base_currency_code": currency,
                "grand_total": grand,
                "base_grand_total": grand,
                "shipping_incl_tax": shipping_cost,
                "shipping_amount": (shipping_cost / Decimal("1.21")).quantize(CENT),
                "shipping_discount_amount": Decimal(0),
                "total_item_count": len(items),
                "items": items,
                "billing_address": bill,
                "payment": {
                    "account_status": "",
                    "additional_information": [],
                    "cc_last4": "",
                    "method": payment_method,
                    "parent_id": entity_id,
                },
                "extension_attributes": {
                    "shipping_assignments": [
                        {
                            "shipping": {
                                "address": self._address("shipping", entity_id, shipping or billing or {}, email),
                                "method": "flatrate_flatrate",
                            },
                            "items": [copy.deepcopy(entry) for entry in items],
                        }
                    ]
                },
            }
            self.orders[entity_id] = order
            return order

    def update_order(self, increment_id: str, *, state: str | None = None, status: str | None = None) -> None:
        """The merchant changes the order in the admin (an invoice, a shipment, a cancellation): it moves
        to the new state and its `updated_at` to now."""
        with self._lock:
            order = self.order(increment_id)
            if state is not None:
                order["state"] = state
                order["status"] = status or state
            elif status is not None:
                order["status"] = status
            order["updated_at"] = self.now()

    def order(self, increment_id: str) -> dict[str, Any]:
        return next(order for order in self.orders.values() if order["increment_id"] == increment_id)

    # --- building records -----------------------------------------------------------------------
    def _new_product(self, given: Mapping[str, Any]) -> dict[str, Any]:
        product_id = next(self._ids["product"])
        product: dict[str, Any] = {
            "id": product_id,
            "sku": given["sku"],
            "name": given.get("name") or given["sku"],
            "attribute_set_id": int(given.get("attribute_set_id") or 4),
            "price": Decimal(str(given.get("price") or 0)),
            "status": int(given.get("status") or 1),
            "visibility": int(given.get("visibility") or 4),
            "type_id": given.get("type_id") or "simple",
            "created_at": self.now(),
            "updated_at": self.now(),
            "extension_attributes": {
                "website_ids": list((given.get("extension_attributes") or {}).get("website_ids") or [1])
            },
            "custom_attributes": list(given.get("custom_attributes") or ()),
        }
        if given.get("weight") is not None:
            product["weight"] = Decimal(str(given["weight"]))
        self.products[product["sku"].casefold()] = product
        if product["type_id"] == "simple":
            self._set_stock(product, Decimal(0), untouched=True)
        return product

    def _set_stock(self, product: dict[str, Any], quantity: Decimal, *, untouched: bool = False) -> None:
        self.stock_items[product["id"]] = {
            "item_id": product["id"],
            "product_id": product["id"],
            "stock_id": 1,
            "qty": quantity,
            "is_in_stock": quantity > 0,
            **STOCK_ITEM_DEFAULTS,
            **({"_untouched": True} if untouched else {}),
        }
        for source in self.sources:
            self.source_items[(product["sku"].casefold(), source)] = {
                "sku": product["sku"],
                "source_code": source,
                "quantity": quantity,
                "status": 1 if quantity > 0 else 0,
                **({"_untouched": True} if untouched else {}),
            }

    def _order_items(self, line: Mapping[str, Any], order_id: int) -> list[dict[str, Any]]:
        qty, price, rate, discount = line["qty"], line["price_incl_tax"], line["tax_percent"], line["discount"]
        excl = (price / (1 + rate / 100)).quantize(CENT, ROUND_HALF_UP)
        row_total, row_incl = (excl * qty).quantize(CENT), (price * qty).quantize(CENT)
        discount_excl = (discount / (1 + rate / 100)).quantize(CENT, ROUND_HALF_UP)
        including = self.discount_tax == "including"
        main = {
            "item_id": next(self._ids["item"]),
            "order_id": order_id,
            "sku": line["sku"],
            "name": line["name"],
            "product_type": line["kind"],
            "qty_ordered": Decimal(qty),
            "price": excl,
            "price_incl_tax": price,
            "original_price": price,
            "row_total": row_total,
            "row_total_incl_tax": row_incl,
            "tax_percent": rate,
            "tax_amount": (row_incl - row_total - discount + discount_excl).quantize(CENT),
            "discount_amount": discount if including else discount_excl,
            "discount_tax_compensation_amount": (discount - discount_excl) if including else Decimal(0),
            "created_at": self.now(),
            "updated_at": self.now(),
        }
        if line["kind"] != "configurable":
            return [main]
        child = {
            "item_id": next(self._ids["item"]),
            "order_id": order_id,
            "parent_item_id": main["item_id"],
            "sku": line["sku"],
            "name": line["name"],
            "product_type": "simple",
            "qty_ordered": Decimal(qty),
            "price": Decimal(0),
            "price_incl_tax": Decimal(0),
            "row_total": Decimal(0),
            "row_total_incl_tax": Decimal(0),
            "tax_percent": rate,
            "tax_amount": Decimal(0),
            "discount_amount": Decimal(0),
            "created_at": self.now(),
            "updated_at": self.now(),
            "parent_item": copy.deepcopy(main),
        }
        return [main, child]

    @staticmethod
    def _paid(entry: Mapping[str, Any]) -> Decimal:
        return (
            entry["row_total"]
            + entry["tax_amount"]
            + entry.get("discount_tax_compensation_amount", Decimal(0))
            - entry["discount_amount"]
        )

    def _address(self, kind: str, order_id: int, given: Mapping[str, Any], email: str) -> dict[str, Any]:
        return {
            "entity_id": next(self._ids["address"]),
            "parent_id": order_id,
            "address_type": kind,
            "firstname": given.get("firstname", "Jan"),
            "lastname": given.get("lastname", "Jansen"),
            "company": given.get("company", ""),
            "street": list(given.get("street", ["Kerkstraat", "12", "A"])),
            "postcode": given.get("postcode", "1234 AB"),
            "city": given.get("city", "Utrecht"),
            "country_id": given.get("country_id", "NL"),
            "telephone": given.get("telephone", "0612345678"),
            "email": email,
        }

    # --- the kit's hooks, in Magento's words ----------------------------------------------------
    def contract_for(self, request: Request) -> tuple[Contract | None, str]:
        # The spec's basePath names the default store; every store code serves the same paths.
        found = re.match(r"^/rest/[^/]+(/V1/.*)$", request.path)
        return self.contract, found.group(1) if found else request.path

    def authenticate(self, request: Request) -> Response | None:
        auth = request.authorization
        token = auth.token if auth is not None and auth.type == "bearer" else None
        if token in self.tokens and self.bearer_allowed:
            return None
        resource = {"orders": "Magento_Sales::actions_view"}.get(
            request.path.split("/V1/")[-1], "Magento_Backend::admin"
        )
        return magento_error(401, NOT_AUTHORIZED, {"resources": resource})

    def too_many(self, headers: Mapping[str, str]) -> Response:
        return magento_error(429, "Too many requests", headers=headers)

    def shop_error(self, status: int, words: str) -> Response:
        return magento_error(status, words)

    def refuse(self, request: Request, error: ContractViolation) -> Response:
        errors = [{"message": f"{v.name}: {v.reason}", "parameters": []} for v in error.violations]
        return answer(
            400, {"message": "The request is not valid: %1", "parameters": [str(error)[:400]], "errors": errors}
        )

    def not_served(self, request: Request) -> Response:
        return magento_error(404, "Request does not match any route.")

    def checked_answer(self, request: Request, found: Any, params: dict[str, str]) -> Response:
        store = params.get("store")
        if found is not None and store is not None and store not in self.stores:
            return magento_error(404, "The store that was requested wasn't found. Verify the store and try again.")
        if found is not None and found.group.startswith("source-items") and self.inventory != "msi":
            return magento_error(404, "Request does not match any route.")  # the MSI modules are switched off
        return super().checked_answer(request, found, params)

    # --- endpoints: orders ----------------------------------------------------------------------
    def _list_orders(self, request: Request, store: str) -> Response:
        return self._searched(request, self.orders.values())

    def _get_order(self, request: Request, store: str, order_id: str) -> Response:
        order = self.orders.get(int(order_id)) if order_id.isdigit() else None
        if order is None:
            return magento_error(404, "The entity that was requested doesn't exist. Verify the entity and try again.")
        return answer(200, order)

    # --- endpoints: products --------------------------------------------------------------------
    def _list_products(self, request: Request, store: str) -> Response:
        return self._searched(request, self.products.values())

    def _get_product(self, request: Request, store: str, sku: str) -> Response:
        product = self.product(sku)
        return answer(200, product) if product is not None else magento_error(404, NO_PRODUCT)

    def _create_product(self, request: Request, store: str) -> Response:
        given = body_of(request).get("product") or {}
        refused = self._refusal(str(given.get("sku") or ""))
        if refused is not None:
            return refused
        existing = self.product(str(given["sku"]))
        if existing is not None:  # Magento saves by SKU: a second POST updates the product
            return answer(200, self._apply(existing, given))
        for field in ("name", "price"):
            if given.get(field) in (None, ""):
                return magento_error(
                    400, 'The "%1" attribute value is empty. Set the attribute and try again.', [field]
                )
        return answer(200, self._new_product(given))

    def _save_product(self, request: Request, store: str, sku: str) -> Response:
        given = body_of(request).get("product") or {}
        refused = self._refusal(sku)
        if refused is not None:
            return refused
        product = self.product(sku)
        if product is None:
            return magento_error(404, NO_PRODUCT)
        return answer(200, self._apply(product, given))

    def _refusal(self, sku: str) -> Response | None:
        found = self.refusals.pop(sku.casefold(), None)
        return magento_error(400, found[0], found[1]) if found is not None else None

    def _apply(self, product: dict[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
        for field in ("name", "price", "weight", "status", "visibility", "attribute_set_id"):
            if given.get(field) is not None:
                product[field] = Decimal(str(given[field])) if field in ("price", "weight") else given[field]
        attributes = {entry["attribute_code"]: entry for entry in product["custom_attributes"]}
        for entry in given.get("custom_attributes") or ():
            attributes[entry["attribute_code"]] = {"attribute_code": entry["attribute_code"], "value": entry["value"]}
        product["custom_attributes"] = list(attributes.values())
        product["updated_at"] = self.now()
        return product

    # --- endpoints: stock -----------------------------------------------------------------------
    def _list_source_items(self, request: Request, store: str) -> Response:
        return self._searched(request, self.source_items.values())

    def _save_source_items(self, request: Request, store: str) -> Response:
        given = body_of(request).get("sourceItems") or []
        errors = []
        for entry in given:
            if self.product(str(entry.get("sku") or "")) is None:
                errors.append(
                    {"message": 'Product with SKU "%1" does not exist.', "parameters": [str(entry.get("sku"))]}
                )
            elif entry.get("source_code") not in self.sources:
                errors.append({"message": 'Source "%1" does not exist.', "parameters": [str(entry.get("source_code"))]})
        if errors:
            return answer(400, {"message": "Validation Failed", "errors": errors})
        for entry in given:
            product = self.products[str(entry["sku"]).casefold()]
            self.source_items[(product["sku"].casefold(), entry["source_code"])] = {
                "sku": product["sku"],
                "source_code": entry["source_code"],
                "quantity": Decimal(str(entry.get("quantity") or 0)),
                "status": int(entry.get("status") or 0),
            }
        return Response(b"", 200, content_type="application/json")

    def _get_stock_item(self, request: Request, store: str, sku: str) -> Response:
        product = self.product(sku)
        if product is None or product["id"] not in self.stock_items:
            return magento_error(404, NO_PRODUCT)
        stock = self.stock_items[product["id"]]
        return answer(200, {key: value for key, value in stock.items() if not key.startswith("_")})

    def _save_stock(self, request: Request, store: str, sku: str, item_id: str) -> Response:
        product = self.product(sku)
        if product is None:
            return magento_error(404, NO_PRODUCT)
        given = body_of(request).get("stockItem") or {}
        stock = self.stock_items[product["id"]]
        if str(stock["item_id"]) != item_id:
            return magento_error(400, 'The stock item "%1" is not of product "%2".', [item_id, sku])
        stock.pop("_untouched", None)
        stock["qty"] = Decimal(str(given.get("qty") or 0))
        stock["is_in_stock"] = bool(given.get("is_in_stock"))
        return answer(200, stock["item_id"])

    # --- endpoints: customers -------------------------------------------------------------------
    def _search_customers(self, request: Request, store: str) -> Response:
        return self._searched(request, self.customers.values())

    def _get_customer(self, request: Request, store: str, customer_id: str) -> Response:
        customer = self.customers.get(int(customer_id)) if customer_id.isdigit() else None
        if customer is None:
            return magento_error(
                404,
                "No such entity with %fieldName = %fieldValue",
                {"fieldName": "customerId", "fieldValue": customer_id},
            )
        return answer(200, customer)

    def _save_customer(self, request: Request, store: str, customer_id: str) -> Response:
        customer = self.customers.get(int(customer_id)) if customer_id.isdigit() else None
        if customer is None:
            return magento_error(
                404,
                "No such entity with %fieldName = %fieldValue",
                {"fieldName": "customerId", "fieldValue": customer_id},
            )
        given = body_of(request).get("customer") or {}
        if given.get("id") is not None and str(given["id"]) != customer_id:
            return magento_error(400, "The customer id in the body does not match the path.")
        for field in ("email", "firstname", "lastname", "website_id", "group_id"):
            if given.get(field) is not None:
                customer[field] = given[field]
        if "addresses" in given:
            customer["addresses"] = list(given["addresses"] or [])
        if given.get("custom_attributes") is not None:
            customer["custom_attributes"] = [
                {"attribute_code": entry["attribute_code"], "value": str(entry["value"])}
                for entry in given["custom_attributes"]
            ]
        customer["updated_at"] = self.now()
        return answer(200, customer)

    # --- searchCriteria -------------------------------------------------------------------------
    def _searched(self, request: Request, rows: Iterable[dict[str, Any]]) -> Response:
        groups, sort, size, page = search_criteria(request.args)
        kept = [row for row in rows if all(any(matches(row, *f) for f in group) for group in groups.values() if group)]
        for field, direction in reversed(sort):
            kept.sort(key=lambda row, field=field: sort_key(row.get(field)), reverse=direction.upper() == "DESC")
        shown = kept
        if size:
            last_page = max(1, -(-len(kept) // size))
            page = min(max(page, 1), last_page)  # past the end: Magento answers the last page again
            shown = kept[(page - 1) * size : page * size]
        criteria: dict[str, Any] = {
            "filter_groups": [
                {"filters": [{"field": f, "value": v, "condition_type": c} for f, v, c in group]}
                for group in groups.values()
            ],
            "sort_orders": [{"field": field, "direction": direction} for field, direction in sort],
        }
        if size:
            criteria |= {"page_size": size, "current_page": page}
        visible = [{key: value for key, value in row.items() if not key.startswith("_")} for row in shown]
        return answer(200, {"items": visible, "search_criteria": criteria, "total_count": len(kept)})


def search_criteria(args: Mapping[str, str]) -> tuple[dict[int, list[tuple[str, str, str]]], list, int, int]:
    raw: dict[tuple[int, int], dict[str, str]] = {}
    sorts: dict[int, dict[str, str]] = {}
    for key in args:
        if found := _CRITERION.match(key):
            part = "conditionType" if found.group(3).startswith("condition") else found.group(3)
            raw.setdefault((int(found.group(1)), int(found.group(2))), {})[part] = args[key]
        elif found := _SORT.match(key):
            sorts.setdefault(int(found.group(1)), {})[found.group(2)] = args[key]
    groups: dict[int, list[tuple[str, str, str]]] = {}
    for (group, _), parts in sorted(raw.items()):
        groups.setdefault(group, []).append(
            (parts.get("field", ""), parts.get("value", ""), parts.get("conditionType") or "eq")
        )
    sort = [(entry.get("field", ""), entry.get("direction") or "ASC") for _, entry in sorted(sorts.items())]
    size = int(args.get("searchCriteria[pageSize]") or 0)
    page = int(args.get("searchCriteria[currentPage]") or 1)
    return groups, sort, size, page


def matches(row: Mapping[str, Any], field: str, value: str, condition: str) -> bool:
    have = row.get(field)
    if have is None:
        return condition in ("neq", "nin", "null")
    text = str(have)
    if condition in ("in", "nin"):
        found = text.casefold() in {part.strip().casefold() for part in value.split(",")}
        return found if condition == "in" else not found
    if condition == "like":
        pattern = "^" + ".*".join(re.escape(part) for part in value.split("%")) + "$"
        return re.match(pattern, text, re.IGNORECASE) is not None
    left, right = sort_key(have), sort_key(value)
    if left[0] != right[0]:
        left, right = (2, text.casefold()), (2, value.casefold())
    return {
        "eq": left == right,
        "neq": left != right,
        "gt": left > right,
        "gteq": left >= right,
        "lt": left < right,
        "lteq": left <= right,
    }.get(condition, False)


def sort_key(value: object) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool | int | Decimal | float):
        return (1, Decimal(str(value)))
    text = str(value)
    try:
        return (1, Decimal(text))
    except ArithmeticError:
        return (2, text.casefold())


def body_of(request: Request) -> dict[str, Any]:
    try:
        parsed = json.loads(request.get_data(as_text=True) or "{}", parse_float=Decimal)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def answer(status: int, body: Any, *, headers: Mapping[str, str] | None = None) -> Response:
    # Magento's amounts are JSON numbers.
    return Response(
        json.dumps(body, default=_number), status, content_type="application/json", headers=dict(headers or {})
    )


def magento_error(
    status: int, message: str, parameters: Any = None, *, headers: Mapping[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"message": message}
    if parameters:
        body["parameters"] = parameters
    return answer(status, body, headers=headers)


def _number(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
