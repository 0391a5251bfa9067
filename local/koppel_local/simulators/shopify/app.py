"""A Shopify store's Admin GraphQL API, in-process (WSGI) or over 127.0.0.1.

What it checks the way Shopify does:
- the `X-Shopify-Access-Token` header (401 without the right one);
- every document against the published 2025-04 schema, when `../shared/reference` is present
  (`validating`); a refused document is answered with GraphQL `errors` and kept in `violations`;
- the calculated-query-cost bucket: a requested cost per query, `extensions.cost` on every answer,
  `THROTTLED` (HTTP 200) when the bucket cannot pay, refunds of requested minus actual cost.

What it only imitates: the operations koppel sends (orders, order, fulfillment, job, customers,
productVariants, inventoryItem(s), locations, priceList, nodes and shop queries; orderCreate,
orderCancel, customerCreate, inventorySetQuantities, productVariantsBulkUpdate and productUpdate),
resolved here field by field from in-memory state;
what a merchant does in the admin (`fulfill`, `complete`, `cancel`, `set_inventory`); and search,
which matches words inside values, so a query narrows results without guaranteeing an exact match
(as with Shopify, where tag "bol-123" also finds "bol-123-2"), and can trail new records by
`search_lag` seconds, as Shopify's search index trails its database.

Inventory is kept per variant and location as `available` and `committed` (`on_hand` is their sum,
as when nothing is damaged, reserved or in quality control): an order that claims stock moves units
from available to committed, a fulfilment takes them out of committed, a cancellation with restock
moves them back. `inventorySetQuantities` is all or nothing, as at Shopify: one refused quantity
and none of the others is set.

A product's media is a list per product (`media_of`): its image from `add_variant`, and every image
a mutation adds, appended, never replacing one. A variant shows one of them (`mediaSrc`).

Cost model (simple on purpose): 1 per object field, 10 per mutation, a connection's (or list's)
children times its `first`/`last`; the actual cost counts the items each really returned, at every
level.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    parse,
)
from graphql import validate as validate_document
from graphql.execution.values import get_variable_values
from graphql.utilities import value_from_ast_untyped
from werkzeug.wrappers import Request, Response

from koppel_local.reference import reference_file

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

_schemas: dict[Path, GraphQLSchema] = {}
_schema_lock = threading.Lock()


def load_schema(path: Path | None = None) -> GraphQLSchema | None:
    """The Admin API schema, built once per process (about 3 MB of SDL); None without the reference."""
    path = path or reference_file(*SCHEMA_FILE)
    if path is None:
        return None
    with _schema_lock:
        if path not in _schemas:
            _schemas[path] = build_schema(path.read_text(encoding="utf-8"), assume_valid_sdl=True)
        return _schemas[path]


class FieldError(Exception):
    """A GraphQL error raised while resolving one field (the HTTP answer stays 200)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class LeakyBucket:
    maximum: float
    restore_rate: float
    available: float
    updated_at: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated_at)
        self.available = min(self.maximum, self.available + elapsed * self.restore_rate)
        self.updated_at = now

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": round(self.available, 3),
            "restoreRate": self.restore_rate,
        }


@dataclass(frozen=True)
class Fault:
    status: int
    after_execution: bool  # True: the change happens, only the answer is lost (a gateway timeout)
    operation: str | None  # a root field ("orderCreate") or operation name; None: any request


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


@dataclass
class ShopifySimulator:
    """WSGI app: `httpx.WSGITransport(app=sim)` in-process, or `werkzeug.serving.make_server(..., sim)`."""

    access_token: str = "shpat_simulator"  # noqa: S105 - the simulator's own made-up token
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    latency: float = 0.0
    # Seconds before a new record shows up in searches (`query:`); Shopify's index trails its database.
    search_lag: float = 0.0
    validate: bool = True
    schema: GraphQLSchema | None = None
    bucket_size: float = STANDARD_BUCKET
    restore_rate: float = STANDARD_RESTORE_RATE
    shop_currency: str = "EUR"
    # Shopify's "automatically archive the order" setting (on by default): a fulfilled order closes.
    auto_archive: bool = True

    orders: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)
    variants: list[dict[str, Any]] = field(default_factory=list)
    locations: list[dict[str, Any]] = field(default_factory=list)
    price_lists: list[dict[str, Any]] = field(default_factory=list)
    # Every accepted inventorySetQuantities, as the admin's inventory history shows it.
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    throttled: int = 0
    last_cost: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.validate and self.schema is None:
            self.schema = load_schema()
        if not self.validate:
            self.schema = None
        self.bucket = LeakyBucket(self.bucket_size, self.restore_rate, self.bucket_size, self.clock())
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._searchable_at: dict[str, float] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self._location_ids = itertools.count(70_001)
        # product gid -> its media, oldest first: {"id", "url", "mediaContentType", "alt"}
        self.media: dict[str, list[dict[str, Any]]] = {}
        if not self.locations:
            self.add_location("Shop location")

    @property
    def validating(self) -> bool:
        return self.schema is not None

    # --- Python API for tests and the demo -------------------------------------------------------
    def add_variant(
        self,
        sku: str,
        barcode: str = "",
        title: str = "",
        price: Decimal | str = "0.00",
        inventory: int = 0,
        *,
        variant_title: str = "Default Title",
        compare_at_price: Decimal | str | None = None,
        product_id: str | None = None,
        product_type: str = "",
        vendor: str = "",
        tags: Sequence[str] = (),
        category: str = "",
        image_url: str = "",
        product_image_url: str = "",
        weight: Decimal | str | None = None,
        weight_unit: str = "GRAMS",
        tracked: bool = True,
        stock: dict[str, int] | None = None,
        committed: int = 0,
        updated_at: datetime | None = None,
    ) -> dict[str, Any]:
        """A variant of a product (`title` is the product's), stocked at the first location.

        `stock` (location gid or numeric id -> available) stocks it elsewhere instead; `committed`
        units at the first stocked location are claimed by open orders. `product_id` of an earlier
        variant puts this one under the same product (its title, type, vendor and image are kept).
        """
        number = next(self._ids)
        moment = (updated_at or datetime.now(UTC)).isoformat()
        stocked = stock if stock is not None else {self.locations[0]["id"]: inventory}
        levels = {
            self.location(location)["id"]: {"available": int(units), "committed": 0, "updatedAt": moment}
            for location, units in stocked.items()
        }
        if levels and committed:
            next(iter(levels.values()))["committed"] = committed
        sibling = next((v for v in self.variants if product_id and v["product_id"] == product_id), None)
        product = {
            "product_id": product_id or f"gid://shopify/Product/{number}",
            "title": title or sku,
            "product_type": product_type,
            "vendor": vendor,
            "tags": list(tags),
            "category": category,
            "product_image_url": product_image_url,
        }
        if sibling is not None:
            product = {key: sibling[key] for key in product}
        variant = {
            "id": f"gid://shopify/ProductVariant/{number}",
            **product,
            "inventory_item_id": f"gid://shopify/InventoryItem/{number}",
            "sku": sku,
            "barcode": barcode,
            "variant_title": variant_title,
            "price": Decimal(str(price)),
            "compare_at_price": Decimal(str(compare_at_price)) if compare_at_price is not None else None,
            "image_url": image_url,
            "weight": Decimal(str(weight)) if weight is not None else None,
            "weight_unit": weight_unit,
            "tracked": tracked,
            "levels": levels,
            "createdAt": moment,
        }
        self.variants.append(variant)
        self.index(variant)
        for url in (variant["product_image_url"], image_url):
            if url and url not in self.media_urls(variant["product_id"]):
                self.add_media(variant["product_id"], url)
        return variant

    def add_location(self, name: str, *, active: bool = True, fulfills_online_orders: bool = True) -> dict[str, Any]:
        location = {
            "id": f"gid://shopify/Location/{next(self._location_ids)}",
            "name": name,
            "isActive": active,
            "fulfillsOnlineOrders": fulfills_online_orders,
        }
        self.locations.append(location)
        return location

    def add_price_list(
        self,
        name: str,
        prices: dict[str, Decimal | str | tuple[Decimal | str, Decimal | str | None]],
        currency: str | None = None,
    ) -> dict[str, Any]:
        """A price list (as a market or B2B catalog has): SKU -> price, or (price, compare-at price)."""
        fixed: dict[str, dict[str, Decimal | None]] = {}
        for sku, given in prices.items():
            price, compare_at = given if isinstance(given, tuple) else (given, None)
            fixed[self.variant(sku)["id"]] = {
                "price": Decimal(str(price)),
                "compareAtPrice": Decimal(str(compare_at)) if compare_at is not None else None,
            }
        price_list = {
            "id": self.new_id("PriceList"),
            "name": name,
            "currency": currency or self.shop_currency,
            "prices": fixed,
        }
        self.price_lists.append(price_list)
        return price_list

    def set_inventory(
        self, sku: str, available: int, *, location: str | None = None, committed: int | None = None
    ) -> None:
        """What the merchant sets in the admin (stocking the variant at `location` if it was not)."""
        with self._lock:
            variant = self.variant(sku)
            where = self.location(location)["id"] if location else next(iter(variant["levels"]), None)
            where = where or self.locations[0]["id"]
            level = variant["levels"].setdefault(where, {"available": 0, "committed": 0, "updatedAt": ""})
            level["available"] = available
            if committed is not None:
                level["committed"] = committed
            level["updatedAt"] = datetime.now(UTC).isoformat()

    def product_of(self, sku: str) -> dict[str, Any]:
        """The product a SKU's variant belongs to: its id, title, variants' SKUs and media URLs."""
        product_id = self.variant(sku)["product_id"]
        variants = self.product_variants(product_id)
        return {
            "id": product_id,
            "title": variants[0]["title"],
            "skus": [variant["sku"] for variant in variants],
            "media": self.media_urls(product_id),
        }

    def media_of(self, sku: str) -> list[str]:
        """The image URLs of a SKU's product, oldest first."""
        return self.media_urls(self.variant(sku)["product_id"])

    def product_variants(self, product_id: str) -> list[dict[str, Any]]:
        return [variant for variant in self.variants if variant["product_id"] == product_id]

    def media_urls(self, product_id: str) -> list[str]:
        return [media["url"] for media in self.media.get(product_id, [])]

    def add_media(self, product_id: str, url: str, alt: str = "") -> dict[str, Any]:
        media = {"id": self.new_id("MediaImage"), "url": url, "mediaContentType": "IMAGE", "alt": alt}
        self.media.setdefault(product_id, []).append(media)
        return media

    def variant(self, sku: str) -> dict[str, Any]:
        for variant in self.variants:
            if variant["sku"] == sku:
                return variant
        raise KeyError(f"no variant with SKU {sku!r}")

    def location(self, location: str | None = None) -> dict[str, Any]:
        """A location by gid or numeric id; the first (the shop's default) without one."""
        if location is None:
            return self.locations[0]
        wanted = location if str(location).startswith("gid://") else f"gid://shopify/Location/{location}"
        found = self.record_by_id(self.locations, wanted)
        if found is None:
            raise KeyError(f"no location {location}")
        return found

    def add_customer(self, email: str, first_name: str = "", last_name: str = "") -> dict[str, Any]:
        return self.new_customer({"email": email, "firstName": first_name, "lastName": last_name})

    def inventory(self, sku: str, location: str | None = None) -> int:
        """Available units of a SKU: at `location` (gid or numeric id), or summed over its locations."""
        return self.quantities(sku, location)["available"]

    def quantities(self, sku: str, location: str | None = None) -> dict[str, int]:
        """`available`, `committed` and `on_hand` of a SKU, at one location or summed over all."""
        variant = self.variant(sku)
        if location is None:
            levels = list(variant["levels"].values())
        else:
            level = variant["levels"].get(self.location(location)["id"])
            levels = [level] if level is not None else []
        available = sum(level["available"] for level in levels)
        committed = sum(level["committed"] for level in levels)
        return {"available": available, "committed": committed, "on_hand": available + committed}

    # --- what a merchant does in the Shopify admin --------------------------------------------------
    def fulfill(
        self,
        order_gid: str,
        line_ids: Sequence[str] | None = None,
        tracking_numbers: Sequence[str] = (),
        company: str = "PostNL",
        *,
        quantities: dict[str, int] | None = None,
        url: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Fulfil lines (Shopify line item ids; None: all still open), whole or `quantities` of them.

        Each tracking number becomes one `trackingInfo` entry of the one fulfilment, as when the
        merchant types several numbers for one shipment.
        """
        with self._lock:
            order = self.order(order_gid)
            if order["cancelledAt"] is not None:
                raise ValueError("a cancelled order cannot be fulfilled")
            wanted = [line["id"] for line in order["lines"]] if line_ids is None else list(line_ids)
            shipped: list[dict[str, Any]] = []
            for line_id in wanted:
                line = self.record_by_id(order["lines"], line_id)
                if line is None:
                    raise KeyError(f"order {order_gid} has no line {line_id}")
                open_quantity = line["quantity"] - fulfilled_quantity(order, line["id"])
                quantity = (quantities or {}).get(line_id, open_quantity)
                if not 0 <= quantity <= open_quantity:
                    raise ValueError(f"line {line_id} has {open_quantity} left to fulfil, not {quantity}")
                if quantity:
                    shipped.append({"id": self.new_id("FulfillmentLineItem"), "lineId": line_id, "quantity": quantity})
            if not shipped:
                raise ValueError("nothing left to fulfil")
            fulfillment = {
                "id": self.new_id("Fulfillment"),
                "name": f"{order['name']}-F{len(order['fulfillments']) + 1}",
                "status": "SUCCESS",
                "createdAt": (at or datetime.now(UTC)).isoformat(),
                "trackingInfo": [
                    {"company": company or None, "number": number, "url": url} for number in tracking_numbers
                ],
                "lines": shipped,
            }
            order["fulfillments"].append(fulfillment)
            self._ship_stock(order, shipped, 1)
            self._settle_fulfillment_status(order)
            return fulfillment

    def complete(self, order_gid: str, *, at: datetime | None = None) -> dict[str, Any]:
        """The admin's "Mark as fulfilled" without a tracking number: all still open, in one fulfilment."""
        return self.fulfill(order_gid, None, (), company="", at=at)

    def cancel_fulfillment(self, fulfillment_gid: str) -> None:
        with self._lock:
            for order in self.orders:
                fulfillment = self.record_by_id(order["fulfillments"], fulfillment_gid)
                if fulfillment is not None:
                    fulfillment["status"] = "CANCELLED"
                    self._ship_stock(order, fulfillment["lines"], -1)
                    self._settle_fulfillment_status(order)
                    return
        raise KeyError(f"no fulfillment {fulfillment_gid}")

    def cancel(self, order_gid: str, reason: str = "CUSTOMER", *, restock: bool = True, refund: bool = False) -> None:
        """Cancel as the merchant does in the admin; refused like `orderCancel` refuses."""
        with self._lock:
            order = self.order(order_gid)
            problems = cancel_problems(order, reason)
            if problems:
                raise ValueError("; ".join(problem["message"] for problem in problems))
            cancel_order(self, order, reason, restock=restock, refund=refund)

    def order(self, order_gid: str) -> dict[str, Any]:
        found = self.record_by_id(self.orders, order_gid)
        if found is None:
            raise KeyError(f"no order {order_gid}")
        return found

    def _ship_stock(self, order: dict[str, Any], items: list[dict[str, Any]], sign: int) -> None:
        """Shipped units leave committed stock (sign 1); a cancelled fulfilment brings them back (-1)."""
        if not order["inventoryClaimed"]:
            return
        for item in items:
            line = next(line for line in order["lines"] if line["id"] == item["lineId"])
            variant = self.record_by_id(self.variants, line["variantId"])
            if variant is not None:
                move_stock(variant, sign * item["quantity"], shipped=True)

    def _settle_fulfillment_status(self, order: dict[str, Any]) -> None:
        ordered = sum(line["quantity"] for line in order["lines"])
        shipped = sum(fulfilled_quantity(order, line["id"]) for line in order["lines"])
        order["fulfillmentStatus"] = (
            "UNFULFILLED" if shipped == 0 else "FULFILLED" if shipped >= ordered else "PARTIALLY_FULFILLED"
        )
        if order["fulfillmentStatus"] == "FULFILLED" and self.auto_archive and not order["closed"]:
            order["closed"], order["closedAt"] = True, datetime.now(UTC).isoformat()

    def fail_next(
        self, n: int = 1, status: int = 500, *, after_execution: bool = False, operation: str | None = None
    ) -> None:
        """The next `n` requests (for `operation`, if given) fail with `status`.

        `after_execution` runs the request first and then loses the answer, like a gateway timeout.
        """
        with self._lock:
            self._faults.extend(Fault(status, after_execution, operation) for _ in range(n))

    def set_available(self, points: float) -> None:
        """Set what the cost bucket holds now, e.g. nearly empty as after a burst of other calls."""
        with self._lock:
            self.bucket.refill(self.clock())
            self.bucket.available = min(self.bucket.maximum, points)

    # --- WSGI -----------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = self.handle(Request(environ))
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        if self.latency > 0:
            self.sleep(self.latency)
        if request.method != "POST" or not PATH.match(request.path):
            return answer({"errors": "Not Found"}, 404)
        if request.headers.get("X-Shopify-Access-Token") != self.access_token:
            return answer({"errors": "Invalid API key or access token"}, 401)
        with self._lock:
            fault = self._take_fault(request)
            if fault is not None and not fault.after_execution:
                self.calls.append({"operation": operation_name(request), "status": fault.status})
                return answer({"errors": "simulated outage"}, fault.status)
            response = self._graphql(request)
            if fault is not None:
                self.calls[-1]["status"] = fault.status
                return answer({"errors": "simulated outage after execution"}, fault.status)
            return response

    def _take_fault(self, request: Request) -> Fault | None:
        names = operation_names(request) if self._faults else set()
        for index, fault in enumerate(self._faults):
            if fault.operation is None or fault.operation in names:
                return self._faults.pop(index)
        return None

    # --- one GraphQL request --------------------------------------------------------------------
    def _graphql(self, request: Request) -> Response:
        text = request.get_data(as_text=True)
        try:
            # Amounts stay exact in the state; the plain parse is what variable coercion checks.
            payload, plain = json.loads(text, parse_float=Decimal), json.loads(text)
        except ValueError:
            return answer({"errors": "Request body is not valid JSON"}, 400)
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return answer({"errors": "Parameter query is missing"}, 400)
        document, errors = self._prepare(payload, plain.get("variables") or {})
        if document is None:
            self.violations.append({"operation": payload.get("operationName"), "errors": errors})
            self.calls.append({"operation": payload.get("operationName"), "status": 200, "refused": True})
            return answer({"errors": errors}, 200)
        body = self._run(document)
        requested = body["extensions"]["cost"]["requestedQueryCost"]
        self.calls.append(
            {"operation": document.name, "status": 200, "throttled": "data" not in body, "cost": requested}
        )
        return answer(body, 200)

    def _prepare(
        self, payload: dict[str, Any], plain_variables: dict[str, Any]
    ) -> tuple[Document | None, list[dict[str, Any]]]:
        try:
            ast = parse(payload["query"])
        except GraphQLError as exc:
            return None, [exc.formatted]
        if self.schema is not None:
            errors = validate_document(self.schema, ast)
            if errors:
                return None, [error.formatted for error in errors]
        operations = [node for node in ast.definitions if isinstance(node, OperationDefinitionNode)]
        wanted = payload.get("operationName")
        chosen = [op for op in operations if wanted is None or (op.name and op.name.value == wanted)]
        if len(chosen) != 1:
            return None, [{"message": "Exactly one operation must be chosen (check operationName)"}]
        operation = chosen[0]
        variables = payload.get("variables") or {}
        if self.schema is not None:
            coerced = get_variable_values(self.schema, operation.variable_definitions or (), plain_variables)
            if isinstance(coerced, list):
                return None, [error.formatted for error in coerced]
        fragments = {node.name.value: node for node in ast.definitions if isinstance(node, FragmentDefinitionNode)}
        return Document(operation, fragments, variables), []

    def _run(self, document: Document) -> dict[str, Any]:
        requested = self._cost(document, document.operation.selection_set, None, root=True)
        self.bucket.refill(self.clock())
        if requested > SINGLE_QUERY_MAX:
            return self._with_cost(
                {"errors": [error(f"Query cost {requested} exceeds the single query limit", "MAX_COST_EXCEEDED")]},
                requested,
                None,
            )
        if requested > self.bucket.available + 1e-9:  # float refills must not throttle a client that waited
            self.throttled += 1
            return self._with_cost({"errors": [error("Throttled", "THROTTLED")]}, requested, None)
        self.bucket.available -= requested
        data, errors = self._execute(document)
        actual = self._cost(document, document.operation.selection_set, data, root=True)
        self.bucket.available = min(self.bucket.maximum, self.bucket.available + max(0, requested - actual))
        body: dict[str, Any] = {"data": data}
        if errors:
            body["errors"] = errors
        return self._with_cost(body, requested, actual)

    def _with_cost(self, body: dict[str, Any], requested: int, actual: int | None) -> dict[str, Any]:
        self.last_cost = {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": self.bucket.status(),
        }
        body["extensions"] = {"cost": self.last_cost}
        return body

    def _execute(self, document: Document) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        root = MUTATION_ROOT if document.is_mutation else QUERY_ROOT
        data: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for node in self._fields(document, document.operation.selection_set):
            key = response_key(node)
            resolver = root.get(node.name.value)
            data[key] = None
            if node.name.value == "__typename":
                data[key] = "Mutation" if document.is_mutation else "QueryRoot"
            elif resolver is None:
                # Valid for Shopify, just not imitated here: say so instead of answering null silently.
                errors.append(error(f"The simulator does not implement {node.name.value}", "NOT_IMPLEMENTED", [key]))
            else:
                try:
                    value = resolver(self, arguments(node, document.variables))
                    data[key] = self._project(document, value, node.selection_set)
                except FieldError as exc:
                    errors.append(error(exc.message, exc.code, path=[key]))
        return data, errors

    # --- projection: resolved Python values -> the shape the document asked for --------------
    def _project(self, document: Document, value: Any, selection: SelectionSetNode | None) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            return [self._project(document, item, selection) for item in value]
        if selection is None:
            return scalar(value)
        result: dict[str, Any] = {}
        for node in self._fields(document, selection, value.get("__typename")):
            name = node.name.value
            raw = value.get(name)
            if callable(raw):
                raw = raw(arguments(node, document.variables))
            result[response_key(node)] = self._project(document, raw, node.selection_set)
        return result

    def _fields(self, document: Document, selection: SelectionSetNode, typename: str | None = None) -> list[FieldNode]:
        """The field nodes of a selection set, with fragments spread in."""
        found: list[FieldNode] = []
        for node in selection.selections:
            if isinstance(node, FieldNode):
                found.append(node)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition.name.value if node.type_condition else None
                if condition is None or typename is None or condition == typename:
                    found.extend(self._fields(document, node.selection_set, typename))
            elif isinstance(node, FragmentSpreadNode) and node.name.value in document.fragments:
                found.extend(self._fields(document, document.fragments[node.name.value].selection_set, typename))
        return found

    # --- cost -----------------------------------------------------------------------------------
    def _cost(self, document: Document, selection: SelectionSetNode, data: Any, *, root: bool = False) -> int:
        """Requested cost when `data` is None; actual cost (items counted as returned) of `data` otherwise."""
        total = 0
        for node in self._fields(document, selection):
            if node.selection_set is None:
                continue
            args = arguments(node, document.variables)
            limit = args.get("first") or args.get("last")
            own = MUTATION_COST if root and document.is_mutation else 1
            if data is None:
                count = limit if isinstance(limit, int) else 1
                total += own + count * self._cost(document, node.selection_set, None)
                continue
            value = data.get(response_key(node)) if isinstance(data, dict) else None
            if isinstance(limit, int):
                # Each returned item pays for its own children, nested connections as they came back.
                items = value if isinstance(value, list) else connection_items(value)
                total += own + sum(self._cost(document, node.selection_set, item) for item in items)
            elif isinstance(value, list):
                # A list without a limit was charged once when requested; the priciest item stands for it.
                total += own + max((self._cost(document, node.selection_set, item) for item in value), default=0)
            else:
                total += own + (self._cost(document, node.selection_set, value) if value is not None else 0)
        return total

    # --- state ----------------------------------------------------------------------------------
    def new_id(self, kind: str) -> str:
        return f"gid://shopify/{kind}/{next(self._ids)}"

    def new_customer(self, fields: dict[str, Any]) -> dict[str, Any]:
        customer = {
            "id": self.new_id("Customer"),
            "email": str(fields.get("email") or ""),
            "firstName": str(fields.get("firstName") or ""),
            "lastName": str(fields.get("lastName") or ""),
            "phone": str(fields.get("phone") or ""),
            "tags": list(fields.get("tags") or []),
        }
        self.customers.append(customer)
        self.index(customer)
        return customer

    def index(self, record: dict[str, Any]) -> None:
        self._searchable_at[record["id"]] = self.clock() + self.search_lag

    def search(
        self,
        records: list[dict[str, Any]],
        query: str | None,
        fields: dict[str, Callable[[dict[str, Any]], list[str]]],
    ) -> list[dict[str, Any]]:
        """The records a search returns: matching, and already in the index."""
        if not query or not query.strip():
            return list(records)
        now = self.clock()
        return [r for r in records if self._searchable_at.get(r["id"], 0.0) <= now and matches(query, fields, r)]

    def customer_by_email(self, email: str) -> dict[str, Any] | None:
        wanted = email.strip().casefold()
        return next((c for c in self.customers if c["email"].strip().casefold() == wanted), None)

    def record_by_id(self, records: list[dict[str, Any]], gid: Any) -> dict[str, Any] | None:
        return next((record for record in records if record["id"] == gid), None)


def searched(
    sim: ShopifySimulator,
    records: list[dict[str, Any]],
    args: dict[str, Any],
    fields: dict[str, Callable[[dict[str, Any]], list[str]]],
    node: Callable[[ShopifySimulator, dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """A connection of the records matching the search `query`, last first when `reverse`."""
    found = sim.search(records, args.get("query"), fields)
    if args.get("reverse"):
        found.reverse()
    return connection([node(sim, record) for record in found], args)


# --- root fields ---------------------------------------------------------------------------------
def resolve_orders(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    return searched(sim, sim.orders, args, ORDER_SEARCH, order_node)


def resolve_order(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any] | None:
    order = sim.record_by_id(sim.orders, args.get("id"))
    return order_node(sim, order) if order is not None else None


def resolve_fulfillment(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any] | None:
    for order in sim.orders:
        fulfillment = sim.record_by_id(order["fulfillments"], args.get("id"))
        if fulfillment is not None:
            return fulfillment_node(sim, order, fulfillment)
    return None


def resolve_job(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any] | None:
    job = sim.jobs.get(str(args.get("id")))
    if job is None:
        return None
    job["done"] = True  # the simulator's background work is over by the time anyone asks
    return {"__typename": "Job", "id": job["id"], "done": True, "query": None}


def resolve_customers(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    return searched(sim, sim.customers, args, CUSTOMER_SEARCH, customer_node)


def resolve_variants(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    return searched(sim, sim.variants, args, VARIANT_SEARCH, variant_node)


def resolve_inventory_item(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any] | None:
    variant = next((v for v in sim.variants if v["inventory_item_id"] == args.get("id")), None)
    return inventory_item_node(sim, variant) if variant is not None else None


def resolve_inventory_items(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    return searched(sim, sim.variants, args, INVENTORY_ITEM_SEARCH, inventory_item_node)


def resolve_location(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any] | None:
    location = sim.record_by_id(sim.locations, args.get("id"))
    return location_node(location) if location is not None else None


def resolve_locations(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    if args.get("query"):
        raise FieldError("The simulator does not search locations", "NOT_IMPLEMENTED")
    found = [loc for loc in sim.locations if loc["isActive"] or args.get("includeInactive")]
    if args.get("sortKey") == "NAME":
        found.sort(key=lambda loc: loc["name"].casefold())
    if args.get("reverse"):
        found.reverse()
    return connection([location_node(loc) for loc in found], args)


def resolve_price_list(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any] | None:
    price_list = sim.record_by_id(sim.price_lists, args.get("id"))
    return price_list_node(sim, price_list) if price_list is not None else None


def resolve_nodes(sim: ShopifySimulator, args: dict[str, Any]) -> list[dict[str, Any] | None]:
    """Variants by gid (null for an unknown one, as Shopify answers); other node types are not imitated."""
    ids = list(args.get("ids") or [])
    if len(ids) > 250:
        raise FieldError("The maximum number of ids is 250", "MAX_INPUT_SIZE_EXCEEDED")
    found = []
    for gid in ids:
        variant = sim.record_by_id(sim.variants, gid)
        found.append(variant_node(sim, variant) if variant is not None else None)
    return found


def resolve_shop(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "__typename": "Shop",
        "id": "gid://shopify/Shop/1",
        "name": "koppel demo",
        "currencyCode": sim.shop_currency,
    }


def resolve_inventory_set_quantities(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    given = args.get("input") or {}
    problems = inventory_problems(sim, given)
    if problems:
        # All or nothing: Shopify sets none of the quantities when one is refused.
        return {"inventoryAdjustmentGroup": None, "userErrors": problems}
    name = given["name"]
    now = datetime.now(UTC).isoformat()
    changes: list[dict[str, Any]] = []
    for quantity in given["quantities"]:
        variant = next(v for v in sim.variants if v["inventory_item_id"] == quantity["inventoryItemId"])
        level = variant["levels"][quantity["locationId"]]
        before = level["available"] + (level["committed"] if name == "on_hand" else 0)
        target = int(quantity["quantity"])
        level["available"] = target if name == "available" else target - level["committed"]
        level["updatedAt"] = now
        changes.append(
            {
                "__typename": "InventoryChange",
                "name": name,
                "delta": target - before,
                "quantityAfterChange": target,
                "item": inventory_item_node(sim, variant),
                "location": location_node(sim.location(quantity["locationId"])),
                "sku": variant["sku"],
            }
        )
    group = {
        "__typename": "InventoryAdjustmentGroup",
        "id": sim.new_id("InventoryAdjustmentGroup"),
        "createdAt": now,
        "reason": given["reason"],
        "referenceDocumentUri": given.get("referenceDocumentUri"),
        "changes": lambda change_args: [
            change for change in changes if change["name"] in (change_args.get("quantityNames") or [name])
        ],
    }
    sim.adjustments.append({**group, "changes": changes})
    return {"inventoryAdjustmentGroup": group, "userErrors": []}


def inventory_problems(sim: ShopifySimulator, given: dict[str, Any]) -> list[dict[str, Any]]:
    if given.get("name") not in SETTABLE_QUANTITIES:
        return [
            user_error(["input", "name"], "The quantity name must be either 'available' or 'on_hand'.", "INVALID_NAME")
        ]
    if given.get("reason") not in INVENTORY_REASONS:
        return [user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")]
    uri = given.get("referenceDocumentUri")
    if uri is not None and not URI.match(str(uri)):
        return [
            user_error(
                ["input", "referenceDocumentUri"],
                "The specified reference document is invalid.",
                "INVALID_REFERENCE_DOCUMENT",
            )
        ]
    problems: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for index, quantity in enumerate(given.get("quantities") or []):
        where = ["input", "quantities", str(index)]
        variant = next((v for v in sim.variants if v["inventory_item_id"] == quantity["inventoryItemId"]), None)
        location = sim.record_by_id(sim.locations, quantity["locationId"])
        units = int(quantity["quantity"])
        pair = (quantity["inventoryItemId"], quantity["locationId"])
        if variant is None:
            problems.append(
                user_error(
                    [*where, "inventoryItemId"],
                    "The specified inventory item could not be found.",
                    "INVALID_INVENTORY_ITEM",
                )
            )
        elif location is None:
            problems.append(
                user_error([*where, "locationId"], "The specified location could not be found.", "INVALID_LOCATION")
            )
        elif location["id"] not in variant["levels"]:
            problems.append(
                user_error(
                    [*where, "locationId"],
                    "The specified inventory item is not stocked at the location.",
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                )
            )
        elif pair in seen:
            problems.append(
                user_error(
                    [*where, "inventoryItemId"],
                    "The combination of inventoryItemId and locationId must be unique.",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                )
            )
        elif units < 0:
            problems.append(
                user_error([*where, "quantity"], "The quantity can't be negative.", "INVALID_QUANTITY_NEGATIVE")
            )
        elif units > MAX_INVENTORY_QUANTITY:
            problems.append(
                user_error(
                    [*where, "quantity"],
                    "The total quantity can't be higher than 1,000,000,000.",
                    "INVALID_QUANTITY_TOO_HIGH",
                )
            )
        elif not given.get("ignoreCompareQuantity"):
            problems.extend(compare_problems(variant, location["id"], given["name"], quantity, where))
        seen.add(pair)
    return problems


def compare_problems(
    variant: dict[str, Any], location_id: str, name: str, quantity: dict[str, Any], where: list[str]
) -> list[dict[str, Any]]:
    if quantity.get("compareQuantity") is None:
        return [
            user_error(
                [*where, "compareQuantity"],
                "The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.",
                "COMPARE_QUANTITY_REQUIRED",
            )
        ]
    level = variant["levels"][location_id]
    current = level["available"] + (level["committed"] if name == "on_hand" else 0)
    if int(quantity["compareQuantity"]) != current:
        return [
            user_error(
                [*where, "compareQuantity"],
                "The compareQuantity value does not match persisted value.",
                "COMPARE_QUANTITY_STALE",
            )
        ]
    return []


def resolve_customer_create(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    fields = args.get("input") or {}
    email = str(fields.get("email") or "").strip()
    if not email and not fields.get("phone"):
        return {"customer": None, "userErrors": [user_error(["input"], "A customer needs an email or a phone")]}
    if email and sim.customer_by_email(email) is not None:
        return {"customer": None, "userErrors": [user_error(["email"], "Email has already been taken")]}
    return {"customer": customer_node(sim, sim.new_customer(fields)), "userErrors": []}


def resolve_order_create(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    order_in = args.get("order") or {}
    options = args.get("options") or {}
    problems = order_problems(sim, order_in, options)
    if problems:
        return {"order": None, "userErrors": problems}
    customer, problems = order_customer(sim, order_in)
    if problems:
        return {"order": None, "userErrors": problems}
    lines = [order_line(sim, item) for item in order_in.get("lineItems") or []]
    claim_inventory(sim, lines, options.get("inventoryBehaviour") or "BYPASS")
    record = order_record(sim, order_in, lines, customer)
    record["inventoryClaimed"] = (options.get("inventoryBehaviour") or "BYPASS") != "BYPASS"
    sim.orders.append(record)
    sim.index(record)
    return {"order": order_node(sim, record), "userErrors": []}


def resolve_order_cancel(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    order = sim.record_by_id(sim.orders, args.get("orderId"))
    if order is None:
        return cancel_payload(None, [user_error(["orderId"], "Order does not exist", "NOT_FOUND")])
    problems = cancel_problems(order, str(args.get("reason")))
    if problems:
        return cancel_payload(None, problems)
    cancel_order(
        sim,
        order,
        str(args["reason"]),
        restock=bool(args.get("restock")),
        refund=bool(args.get("refund")),
        staff_note=args.get("staffNote"),
    )
    # Shopify cancels in a background job and answers before it has run.
    job = {"id": f"gid://shopify/Job/{uuid.uuid4()}", "done": False}
    sim.jobs[job["id"]] = job
    return cancel_payload({"__typename": "Job", **job, "query": None}, [])


# --- productVariantsBulkUpdate and productUpdate -------------------------------------------------
def resolve_variants_bulk_update(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    """Each variant's changes, checked one by one; with `allowPartialUpdates` the valid ones land."""
    product_id = args.get("productId")
    variants = sim.product_variants(str(product_id))
    if not variants:
        error_ = user_error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return {"product": None, "productVariants": None, "userErrors": [error_]}
    media_in = list(args.get("media") or [])
    problems = media_problems(media_in)
    bad_urls = {str(media_in[int(problem["field"][1])].get("originalSource")) for problem in problems}
    new_urls = [str(media.get("originalSource")) for media in media_in]
    changes: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for position, given in enumerate(args.get("variants") or []):
        found = variant_problems(sim, str(product_id), position, given, new_urls, bad_urls)
        problems.extend(found)
        if not found:
            changes.append((sim.record_by_id(variants, given["id"]) or {}, given))
    if problems and not args.get("allowPartialUpdates"):
        return {"product": None, "productVariants": None, "userErrors": problems}
    for url in new_urls:
        if url not in bad_urls:
            sim.add_media(
                str(product_id), url, str(next(m for m in media_in if m["originalSource"] == url).get("alt") or "")
            )
    for variant, given in changes:
        apply_variant_changes(variant, given)
    return {
        "product": product_node(sim, variants[0]),
        "productVariants": [variant_node(sim, variant) for variant, _ in changes],
        "userErrors": problems,
    }


def media_problems(media_in: list[dict[str, Any]]) -> list[dict[str, Any]]:
    problems = []
    for position, media in enumerate(media_in):
        if media.get("mediaContentType") != "IMAGE":
            problems.append(
                user_error(["media", str(position), "mediaContentType"], "Only images are imitated", "INVALID_INPUT")
            )
        elif not IMAGE_URL.match(str(media.get("originalSource") or "")):
            problems.append(
                user_error(["media", str(position), "originalSource"], "Image URL is invalid", "INVALID_INPUT")
            )
    return problems


def variant_problems(
    sim: ShopifySimulator,
    product_id: str,
    position: int,
    given: dict[str, Any],
    new_urls: list[str],
    bad_urls: set[str],
) -> list[dict[str, Any]]:
    where = ["variants", str(position)]
    if not given.get("id"):
        return [user_error([*where, "id"], "Product variant id is missing", "PRODUCT_VARIANT_ID_MISSING")]
    variant = sim.record_by_id(sim.product_variants(product_id), given["id"])
    if variant is None:
        return [user_error([*where, "id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST")]
    problems = []
    for name in ("price", "compareAtPrice"):
        if given.get(name) is None:
            continue
        try:
            amount = Decimal(str(given[name]))
        except ArithmeticError:
            problems.append(user_error([*where, name], f"{name} is not a valid amount", "INVALID_INPUT"))
            continue
        if amount < 0:
            label = "Price" if name == "price" else "Compare at price"
            problems.append(
                user_error([*where, name], f"{label} must be greater than or equal to 0", "GREATER_THAN_OR_EQUAL_TO")
            )
    for url in given.get("mediaSrc") or ():
        if url not in new_urls:
            problems.append(
                user_error([*where, "mediaSrc"], "Media src must be one of the media being added", "INVALID_INPUT")
            )
        elif url in bad_urls:
            problems.append(user_error([*where, "mediaSrc"], "Image URL is invalid", "INVALID_INPUT"))
    weight = ((given.get("inventoryItem") or {}).get("measurement") or {}).get("weight")
    if weight is not None and float(weight["value"]) < 0:
        problems.append(
            user_error([*where, "inventoryItem", "measurement", "weight"], "Weight must be positive", "INVALID_INPUT")
        )
    return problems


def apply_variant_changes(variant: dict[str, Any], given: dict[str, Any]) -> None:
    """What Shopify stores: a field left out stays, a field sent as null (compare-at) is cleared."""
    if "price" in given and given["price"] is not None:
        variant["price"] = Decimal(str(given["price"]))
    if "compareAtPrice" in given:
        compare_at = given["compareAtPrice"]
        variant["compare_at_price"] = Decimal(str(compare_at)) if compare_at is not None else None
    if "barcode" in given:
        variant["barcode"] = str(given["barcode"] or "")
    item = given.get("inventoryItem") or {}
    if item.get("tracked") is not None:
        variant["tracked"] = bool(item["tracked"])
    weight = (item.get("measurement") or {}).get("weight")
    if weight is not None:
        # Weight.value is a Float: keep what the client typed, not its binary value.
        variant["weight"] = (
            Decimal(repr(weight["value"])) if isinstance(weight["value"], float) else Decimal(weight["value"])
        )
        variant["weight_unit"] = weight["unit"]
    for url in given.get("mediaSrc") or ():
        variant["image_url"] = url


def resolve_product_update(sim: ShopifySimulator, args: dict[str, Any]) -> dict[str, Any]:
    given = args.get("product") or {}
    variants = sim.product_variants(str(given.get("id")))
    if not variants:
        return {"product": None, "userErrors": [user_error(["id"], "Product does not exist")]}
    if "title" in given and not str(given.get("title") or "").strip():
        return {"product": None, "userErrors": [user_error(["title"], "Title can't be blank")]}
    media_in = list(args.get("media") or [])
    problems = media_problems(media_in)
    if problems:
        return {"product": None, "userErrors": problems}
    for variant in variants:
        for key, name in (("title", "title"), ("productType", "product_type"), ("vendor", "vendor")):
            if given.get(key) is not None:
                variant[name] = str(given[key])
    for media in media_in:
        sim.add_media(str(given["id"]), str(media["originalSource"]), str(media.get("alt") or ""))
    return {"product": product_node(sim, variants[0]), "userErrors": []}


QUERY_ROOT: dict[str, Callable[[ShopifySimulator, dict[str, Any]], Any]] = {
    "order": resolve_order,
    "fulfillment": resolve_fulfillment,
    "job": resolve_job,
    "orders": resolve_orders,
    "customers": resolve_customers,
    "productVariants": resolve_variants,
    "inventoryItem": resolve_inventory_item,
    "inventoryItems": resolve_inventory_items,
    "location": resolve_location,
    "locations": resolve_locations,
    "priceList": resolve_price_list,
    "shop": resolve_shop,
    "nodes": resolve_nodes,
}
MUTATION_ROOT: dict[str, Callable[[ShopifySimulator, dict[str, Any]], Any]] = {
    "orderCreate": resolve_order_create,
    "orderCancel": resolve_order_cancel,
    "customerCreate": resolve_customer_create,
    "inventorySetQuantities": resolve_inventory_set_quantities,
    "productVariantsBulkUpdate": resolve_variants_bulk_update,
    "productUpdate": resolve_product_update,
}


# --- orderCancel ---------------------------------------------------------------------------------
def cancel_problems(order: dict[str, Any], reason: str) -> list[dict[str, Any]]:
    if reason not in CANCEL_REASONS:
        return [user_error(["reason"], f"Reason {reason} is not a cancel reason", "INVALID")]
    if order["cancelledAt"] is not None:
        return [user_error(["orderId"], "Order has already been cancelled", "INVALID")]
    if any(fulfillment["status"] == "SUCCESS" for fulfillment in order["fulfillments"]):
        # Shopify: an order with fulfilments cannot be cancelled; the fulfilments go first.
        return [user_error(["orderId"], "Cannot cancel an order with fulfillments", "INVALID")]
    return []


def cancel_order(
    sim: ShopifySimulator,
    order: dict[str, Any],
    reason: str,
    *,
    restock: bool,
    refund: bool,
    staff_note: str | None = None,
) -> None:
    now = datetime.now(UTC).isoformat()
    order.update(cancelledAt=now, cancelReason=reason, staffNote=staff_note, closed=True, closedAt=now)
    if restock and order["inventoryClaimed"]:
        for line in order["lines"]:
            variant = sim.record_by_id(sim.variants, line["variantId"])
            if variant is not None:
                move_stock(variant, line["quantity"] - fulfilled_quantity(order, line["id"]))
    if refund and order["financialStatus"] in ("PAID", "PARTIALLY_PAID"):
        money = {"amount": order["total"], "currencyCode": order["currency"]}
        order["transactions"].append({"kind": "REFUND", "status": "SUCCESS", "amountSet": {"shopMoney": money}})
        order["financialStatus"] = "REFUNDED"


def cancel_payload(job: dict[str, Any] | None, problems: list[dict[str, Any]]) -> dict[str, Any]:
    # The deprecated `userErrors` carries the same errors without their codes.
    plain = [{key: value for key, value in problem.items() if key != "code"} for problem in problems]
    return {"job": job, "orderCancelUserErrors": problems, "userErrors": plain}


# --- orderCreate ---------------------------------------------------------------------------------
def order_problems(sim: ShopifySimulator, order_in: dict[str, Any], options: dict[str, Any]) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    items = order_in.get("lineItems") or []
    if not items:
        problems.append(user_error(["order", "lineItems"], "An order needs line items", "INVALID"))
    for index, item in enumerate(items):
        where = ["order", "lineItems", str(index)]
        if item.get("variantId") and sim.record_by_id(sim.variants, item["variantId"]) is None:
            problems.append(user_error([*where, "variantId"], "Product variant does not exist", "INVALID"))
        if int(item.get("quantity") or 0) <= 0:
            problems.append(user_error([*where, "quantity"], "Quantity must be greater than 0", "INVALID"))
        if item.get("taxLines") and order_in.get("taxLines"):
            problems.append(user_error([*where, "taxLines"], "Tax lines go on the order or its lines", "INVALID"))
        for tax in item.get("taxLines") or []:
            if tax.get("rate") is None:
                problems.append(user_error([*where, "taxLines"], "Tax line rate is missing", "TAX_LINE_RATE_MISSING"))
    problems.extend(discount_problems(order_in.get("discountCode")))
    if options.get("inventoryBehaviour") == "DECREMENT_OBEYING_POLICY":
        for index, item in enumerate(items):
            variant = sim.record_by_id(sim.variants, item.get("variantId"))
            if variant is not None and available(variant) < int(item.get("quantity") or 0):
                where = ["order", "lineItems", str(index)]
                problems.append(user_error(where, "Not enough inventory", "INVENTORY_CLAIM_FAILED"))
    return problems


DISCOUNT_KINDS = ("itemFixedDiscountCode", "itemPercentageDiscountCode", "freeShippingDiscountCode")


def discount_problems(discount_in: dict[str, Any] | None) -> list[dict[str, Any]]:
    where = ["order", "discountCode"]
    given = {kind: attributes for kind in DISCOUNT_KINDS if (attributes := (discount_in or {}).get(kind))}
    if len(given) > 1:
        return [user_error(where, "Only one type of discount can be applied to an order", "INVALID")]
    if not given:
        return []
    [(kind, attributes)] = given.items()
    if not str(attributes.get("code") or "").strip():
        return [user_error([*where, kind, "code"], "Discount code can't be blank", "INVALID")]
    amount = (attributes.get("amountSet") or {}).get("shopMoney", {}).get("amount")
    if amount is not None and Decimal(str(amount)) < 0:
        return [user_error([*where, kind, "amountSet"], "Discount amount must not be negative", "INVALID")]
    percentage = attributes.get("percentage")
    if percentage is not None and not 0 <= Decimal(str(percentage)) <= 100:
        return [user_error([*where, kind, "percentage"], "Percentage must be between 0 and 100", "INVALID")]
    return []


def discount_record(discount_in: dict[str, Any] | None, subtotal: Decimal, shipping: Decimal) -> dict[str, Any] | None:
    """The one discount code of an order and what it takes off; None when the order has none."""
    found = next(((kind, value) for kind in DISCOUNT_KINDS if (value := (discount_in or {}).get(kind))), None)
    if found is None:
        return None
    kind, attributes = found
    if kind == "itemFixedDiscountCode":
        money = (attributes.get("amountSet") or {}).get("shopMoney") or {}
        amount = Decimal(str(money.get("amount", 0)))
    elif kind == "itemPercentageDiscountCode":
        percentage = Decimal(str(attributes.get("percentage") or 0))
        amount = (subtotal * percentage / 100).quantize(Decimal("0.01"))
    else:
        amount = shipping
    # A discount takes the discounted part to zero at most, never below.
    amount = min(amount, shipping if kind == "freeShippingDiscountCode" else subtotal)
    return {"code": str(attributes["code"]), "kind": kind, "amount": amount}


def order_customer(
    sim: ShopifySimulator, order_in: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    choice = order_in.get("customer") or {}
    associate, upsert = choice.get("toAssociate"), choice.get("toUpsert")
    if associate and upsert:
        return None, [user_error(["order", "customer"], "Give toAssociate or toUpsert", "REDUNDANT_CUSTOMER_FIELDS")]
    if associate:
        found = (
            sim.record_by_id(sim.customers, associate["id"])
            if associate.get("id")
            else sim.customer_by_email(str(associate.get("email") or ""))
        )
        if found is None:
            return None, [user_error(["order", "customer", "toAssociate"], "Customer does not exist", "INVALID")]
        return found, []
    email = str((upsert or {}).get("email") or order_in.get("email") or "")
    if not email:
        return None, []
    # toUpsert's e-mail identifies the customer (documented); a bare order e-mail is treated alike here.
    return sim.customer_by_email(email) or sim.new_customer({**(upsert or {}), "email": email}), []


def order_line(sim: ShopifySimulator, item: dict[str, Any]) -> dict[str, Any]:
    variant = sim.record_by_id(sim.variants, item.get("variantId")) or {}
    # Line item properties given to orderCreate come back as the line's customAttributes.
    properties = [{"key": prop["name"], "value": prop["value"]} for prop in item.get("properties") or []]
    price = item.get("priceSet") or {"shopMoney": {"amount": variant.get("price", Decimal(0)), "currencyCode": ""}}
    return {
        "id": sim.new_id("LineItem"),
        "variantId": variant.get("id"),
        "sku": item.get("sku") or variant.get("sku", ""),
        "title": item.get("title") or variant.get("title", ""),
        "quantity": int(item["quantity"]),
        "price": Decimal(str(price["shopMoney"]["amount"])),
        "currency": price["shopMoney"]["currencyCode"] or sim.shop_currency,
        "requiresShipping": bool(item.get("requiresShipping", False)),
        "taxLines": [tax_record(tax) for tax in item.get("taxLines") or []],
        "customAttributes": properties,
    }


def tax_record(tax: dict[str, Any]) -> dict[str, Any]:
    amount = (tax.get("priceSet") or {}).get("shopMoney", {}).get("amount", 0)
    return {"title": tax.get("title", ""), "rate": Decimal(str(tax["rate"])), "amount": Decimal(str(amount))}


def claim_inventory(sim: ShopifySimulator, lines: list[dict[str, Any]], behaviour: str) -> None:
    if behaviour == "BYPASS":
        return
    for line in lines:
        variant = sim.record_by_id(sim.variants, line["variantId"])
        if variant is not None:
            move_stock(variant, -line["quantity"])


def available(variant: dict[str, Any]) -> int:
    return sum(level["available"] for level in variant["levels"].values())


def move_stock(variant: dict[str, Any], units: int, *, shipped: bool = False) -> None:
    """Units back to available (positive) or claimed by an order (negative), at the first location.

    `shipped`: the claimed units leave the shop, so they leave committed (and so on hand) instead.
    """
    if not variant["levels"]:
        return  # not stocked anywhere: Shopify tracks no quantity to claim from
    level = next(iter(variant["levels"].values()))
    if shipped:
        level["committed"] -= units
    else:
        level["available"] += units
        level["committed"] -= units
    level["updatedAt"] = datetime.now(UTC).isoformat()


def order_record(
    sim: ShopifySimulator,
    order_in: dict[str, Any],
    lines: list[dict[str, Any]],
    customer: dict[str, Any] | None,
) -> dict[str, Any]:
    shipping = [
        {
            "title": line.get("title", ""),
            "code": line.get("code"),
            "source": line.get("source"),
            "price": Decimal(str(line["priceSet"]["shopMoney"]["amount"])),
            "currency": line["priceSet"]["shopMoney"]["currencyCode"],
        }
        for line in order_in.get("shippingLines") or []
    ]
    line_total = sum((line["price"] * line["quantity"] for line in lines), Decimal(0))
    shipping_total = sum((line["price"] for line in shipping), Decimal(0))
    discount = discount_record(order_in.get("discountCode"), line_total, shipping_total)
    discounts = discount["amount"] if discount else Decimal(0)
    item_discounts = discounts if discount and discount["kind"] != "freeShippingDiscountCode" else Decimal(0)
    now = datetime.now(UTC).isoformat()
    return {
        "id": sim.new_id("Order"),
        "name": f"#{1001 + len(sim.orders)}",
        "createdAt": now,
        "processedAt": order_in.get("processedAt") or now,
        "currency": order_in.get("currency") or sim.shop_currency,
        "financialStatus": order_in.get("financialStatus") or "PENDING",
        # OrderCreateFulfillmentStatus has no "unfulfilled": leaving it out is how an order stays open.
        "fulfillmentStatus": order_in.get("fulfillmentStatus") or "UNFULFILLED",
        "taxesIncluded": bool(order_in.get("taxesIncluded", False)),
        "sourceName": order_in.get("sourceName"),
        "sourceIdentifier": order_in.get("sourceIdentifier"),
        "tags": [str(tag).strip() for tag in order_in.get("tags") or []],
        "note": order_in.get("note"),
        "customAttributes": {a["key"]: a["value"] for a in order_in.get("customAttributes") or []},
        "email": order_in.get("email") or (customer or {}).get("email"),
        "customer": customer,
        "lines": lines,
        "shippingLines": shipping,
        "billingAddress": order_in.get("billingAddress"),
        "shippingAddress": order_in.get("shippingAddress"),
        "transactions": list(order_in.get("transactions") or []),
        "discountCode": discount,
        "totalDiscounts": discounts,
        # Shopify's subtotal is the line items after their discounts, before shipping.
        "subtotal": line_total - item_discounts,
        "total": line_total + shipping_total - discounts,
        "inventoryClaimed": False,
        "closed": False,
        "closedAt": None,
        "cancelledAt": None,
        "cancelReason": None,
        "staffNote": None,
        "fulfillments": [],
    }


# --- GraphQL views of the state --------------------------------------------------------------------
def order_node(sim: ShopifySimulator, order: dict[str, Any]) -> dict[str, Any]:
    currency = order["currency"]
    lines = [line_node(sim, line, order) for line in order["lines"]]
    return {
        "__typename": "Order",
        "id": order["id"],
        "legacyResourceId": order["id"].rsplit("/", 1)[-1],
        "name": order["name"],
        "createdAt": order["createdAt"],
        "processedAt": order["processedAt"],
        "currencyCode": currency,
        "displayFinancialStatus": order["financialStatus"],
        "displayFulfillmentStatus": order["fulfillmentStatus"],
        "taxesIncluded": order["taxesIncluded"],
        "sourceName": order["sourceName"],
        "sourceIdentifier": order["sourceIdentifier"],
        "tags": order["tags"],
        "note": order["note"],
        "email": order["email"],
        "test": False,
        "customAttributes": [{"key": k, "value": v} for k, v in order["customAttributes"].items()],
        "customer": customer_node(sim, order["customer"]) if order["customer"] else None,
        "billingAddress": address_node(order["billingAddress"]),
        "shippingAddress": address_node(order["shippingAddress"]),
        "totalPriceSet": money_bag(order["total"], currency),
        "subtotalPriceSet": money_bag(order["subtotal"], currency),
        "totalDiscountsSet": money_bag(order["totalDiscounts"], currency),
        "discountCode": order["discountCode"]["code"] if order["discountCode"] else None,
        "discountCodes": [order["discountCode"]["code"]] if order["discountCode"] else [],
        "lineItems": lambda args: connection(lines, args),
        "closed": order["closed"],
        "closedAt": order["closedAt"],
        "cancelledAt": order["cancelledAt"],
        "cancelReason": order["cancelReason"],
        "fulfillments": lambda args: limited(
            [fulfillment_node(sim, order, fulfillment) for fulfillment in order["fulfillments"]], args
        ),
        "fulfillmentsCount": {"__typename": "Count", "count": len(order["fulfillments"]), "precision": "EXACT"},
    }


def line_node(sim: ShopifySimulator, line: dict[str, Any], order: dict[str, Any] | None = None) -> dict[str, Any]:
    variant = sim.record_by_id(sim.variants, line["variantId"])
    order = order or next((o for o in sim.orders if any(item is line for item in o["lines"])), None)
    shipped = fulfilled_quantity(order, line["id"]) if order else 0
    return {
        "__typename": "LineItem",
        "id": line["id"],
        "sku": line["sku"],
        "title": line["title"],
        "name": line["title"],
        "quantity": line["quantity"],
        "requiresShipping": line["requiresShipping"],
        "variant": variant_node(sim, variant) if variant else None,
        "originalUnitPriceSet": money_bag(line["price"], line["currency"]),
        "taxLines": [
            {"title": tax["title"], "rate": tax["rate"], "priceSet": money_bag(tax["amount"], line["currency"])}
            for tax in line["taxLines"]
        ],
        "customAttributes": [{"__typename": "Attribute", **attribute} for attribute in line["customAttributes"]],
        "fulfillableQuantity": line["quantity"] - shipped,
        "unfulfilledQuantity": line["quantity"] - shipped,
        "currentQuantity": line["quantity"],
    }


def fulfillment_node(sim: ShopifySimulator, order: dict[str, Any], fulfillment: dict[str, Any]) -> dict[str, Any]:
    items = [
        {
            "__typename": "FulfillmentLineItem",
            "id": item["id"],
            "quantity": item["quantity"],
            "lineItem": line_node(sim, next(line for line in order["lines"] if line["id"] == item["lineId"]), order),
        }
        for item in fulfillment["lines"]
    ]
    tracking = [{"__typename": "FulfillmentTrackingInfo", **info} for info in fulfillment["trackingInfo"]]
    return {
        "__typename": "Fulfillment",
        "id": fulfillment["id"],
        "legacyResourceId": fulfillment["id"].rsplit("/", 1)[-1],
        "name": fulfillment["name"],
        "status": fulfillment["status"],
        "createdAt": fulfillment["createdAt"],
        "updatedAt": fulfillment["createdAt"],
        "requiresShipping": True,
        "totalQuantity": sum(item["quantity"] for item in fulfillment["lines"]),
        "trackingInfo": lambda args: limited(tracking, args),
        "fulfillmentLineItems": lambda args: connection(items, args),
    }


def fulfilled_quantity(order: dict[str, Any], line_id: str) -> int:
    """Units of a line in fulfilments that still stand (a cancelled fulfilment gives them back)."""
    return sum(
        item["quantity"]
        for fulfillment in order["fulfillments"]
        if fulfillment["status"] == "SUCCESS"
        for item in fulfillment["lines"]
        if item["lineId"] == line_id
    )


def customer_node(sim: ShopifySimulator, customer: dict[str, Any]) -> dict[str, Any]:
    count = sum(1 for order in sim.orders if order["customer"] is customer)
    name = " ".join(part for part in (customer["firstName"], customer["lastName"]) if part)
    return {
        "__typename": "Customer",
        "id": customer["id"],
        "email": customer["email"],
        "defaultEmailAddress": {"emailAddress": customer["email"]} if customer["email"] else None,
        "firstName": customer["firstName"],
        "lastName": customer["lastName"],
        "displayName": name or customer["email"],
        "phone": customer["phone"] or None,
        "tags": customer["tags"],
        "numberOfOrders": str(count),
    }


def variant_node(sim: ShopifySimulator, variant: dict[str, Any]) -> dict[str, Any]:
    own_title = variant["variant_title"]
    display = variant["title"] if own_title == "Default Title" else f"{variant['title']} - {own_title}"
    return {
        "__typename": "ProductVariant",
        "id": variant["id"],
        "legacyResourceId": variant["id"].rsplit("/", 1)[-1],
        "sku": variant["sku"],
        "barcode": variant["barcode"] or None,
        "title": own_title,
        "displayName": display,
        "price": variant["price"],
        "compareAtPrice": variant["compare_at_price"],
        "inventoryQuantity": available(variant) if variant["tracked"] else 0,
        "image": image_node(variant["image_url"]),
        "createdAt": variant["createdAt"],
        "updatedAt": variant["createdAt"],
        "inventoryItem": inventory_item_node(sim, variant),
        "product": product_node(sim, variant),
    }


def product_node(sim: ShopifySimulator, variant: dict[str, Any]) -> dict[str, Any]:
    image = image_node(variant["product_image_url"])
    media = {"__typename": "MediaImage", "id": variant["product_id"] + "/media", "mediaContentType": "IMAGE"}
    product_id = variant["product_id"]
    return {
        "__typename": "Product",
        "id": product_id,
        "title": variant["title"],
        "variantsCount": {"__typename": "Count", "count": len(sim.product_variants(product_id)), "precision": "EXACT"},
        "media": lambda args: connection([media_node(m) for m in sim.media.get(product_id, [])], args),
        "productType": variant["product_type"],
        "vendor": variant["vendor"],
        "tags": variant["tags"],
        "status": "ACTIVE",
        "category": {"__typename": "TaxonomyCategory", "name": variant["category"], "fullName": variant["category"]}
        if variant["category"]
        else None,
        "featuredImage": image,
        "featuredMedia": {**media, "preview": {"__typename": "MediaPreviewImage", "image": image, "status": "READY"}}
        if image
        else None,
    }


def media_node(media: dict[str, Any]) -> dict[str, Any]:
    image = image_node(media["url"])
    return {
        "__typename": "MediaImage",
        "id": media["id"],
        "alt": media["alt"] or None,
        "mediaContentType": media["mediaContentType"],
        "status": "READY",
        "image": image,
        "preview": {"__typename": "MediaPreviewImage", "image": image, "status": "READY"},
    }


def image_node(url: str) -> dict[str, Any] | None:
    return {"__typename": "Image", "url": url, "src": url, "originalSrc": url} if url else None


def inventory_item_node(sim: ShopifySimulator, variant: dict[str, Any]) -> dict[str, Any]:
    weight = variant["weight"]
    levels = [level_node(sim, variant, location) for location in variant["levels"]]
    return {
        "__typename": "InventoryItem",
        "id": variant["inventory_item_id"],
        "legacyResourceId": variant["inventory_item_id"].rsplit("/", 1)[-1],
        "sku": variant["sku"] or None,
        "tracked": variant["tracked"],
        "requiresShipping": True,
        "measurement": {
            "__typename": "InventoryItemMeasurement",
            "id": variant["inventory_item_id"].replace("InventoryItem", "InventoryItemMeasurement"),
            # Weight.value is a Float in the schema: a JSON number, as Shopify sends it.
            "weight": {"unit": variant["weight_unit"], "value": float(weight)} if weight is not None else None,
        },
        "variant": lambda args: variant_node(sim, variant),
        "inventoryLevels": lambda args: connection(levels, args),
        "inventoryLevel": lambda args: next(
            (level for level in levels if level["location"]["id"] == args.get("locationId")), None
        ),
    }


def level_node(sim: ShopifySimulator, variant: dict[str, Any], location_id: str) -> dict[str, Any]:
    level = variant["levels"][location_id]
    item_number = variant["inventory_item_id"].rsplit("/", 1)[-1]
    counts = {"available": level["available"], "committed": level["committed"]}
    counts["on_hand"] = level["available"] + level["committed"]

    def quantities(args: dict[str, Any]) -> list[dict[str, Any]]:
        names = list(args.get("names") or [])
        unknown = [name for name in names if name not in QUANTITY_NAMES]
        if unknown:
            raise FieldError(f"Invalid quantity names: {', '.join(unknown)}", "BAD_REQUEST")
        return [
            {
                "__typename": "InventoryQuantity",
                "name": name,
                "quantity": counts.get(name, 0),
                "updatedAt": level["updatedAt"],
            }
            for name in names
        ]

    return {
        "__typename": "InventoryLevel",
        "id": f"gid://shopify/InventoryLevel/{location_id.rsplit('/', 1)[-1]}?inventory_item_id={item_number}",
        "createdAt": variant["createdAt"],
        "updatedAt": level["updatedAt"],
        "canDeactivate": True,
        "location": location_node(sim.record_by_id(sim.locations, location_id) or {"id": location_id}),
        "item": lambda args: inventory_item_node(sim, variant),
        "quantities": quantities,
    }


def location_node(location: dict[str, Any]) -> dict[str, Any]:
    return {
        "__typename": "Location",
        "id": location["id"],
        "legacyResourceId": location["id"].rsplit("/", 1)[-1],
        "name": location.get("name", ""),
        "isActive": location.get("isActive", True),
        "fulfillsOnlineOrders": location.get("fulfillsOnlineOrders", True),
        "shipsInventory": location.get("fulfillsOnlineOrders", True),
        "activatable": True,
    }


def price_list_node(sim: ShopifySimulator, price_list: dict[str, Any]) -> dict[str, Any]:
    currency = price_list["currency"]

    def money(amount: Decimal | None) -> dict[str, Any] | None:
        return {"__typename": "MoneyV2", "amount": amount, "currencyCode": currency} if amount is not None else None

    # In the shop's variant order, as Shopify lists a price list's prices.
    prices = [
        {
            "__typename": "PriceListPrice",
            "price": money(price_list["prices"][variant["id"]]["price"]),
            "compareAtPrice": money(price_list["prices"][variant["id"]]["compareAtPrice"]),
            "originType": "FIXED",
            "variant": variant_node(sim, variant),
        }
        for variant in sim.variants
        if variant["id"] in price_list["prices"]
    ]
    return {
        "__typename": "PriceList",
        "id": price_list["id"],
        "name": price_list["name"],
        "currency": currency,
        "fixedPricesCount": len(prices),
        "prices": lambda args: connection(prices, args),
    }


def address_node(address: dict[str, Any] | None) -> dict[str, Any] | None:
    if not address:
        return None
    node = {"__typename": "MailingAddress", **address}
    node["countryCodeV2"] = address.get("countryCode")
    node["name"] = " ".join(part for part in (address.get("firstName"), address.get("lastName")) if part)
    return node


def money_bag(amount: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}


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
