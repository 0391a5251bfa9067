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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
)
from werkzeug.wrappers import Request, Response

from koppel_local.reference import reference_file
from koppel_local.simulators.kit import (
    ContractViolation,
    GraphQLContract,
    HeaderKey,
    LeakyBucket,
    Route,
    WsgiSimulator,
    load_sdl,
)
from koppel_local.simulators.shopify.common import (
    MUTATION_COST,
    PATH,
    SCHEMA_FILE,
    SINGLE_QUERY_MAX,
    STANDARD_BUCKET,
    STANDARD_RESTORE_RATE,
    Document,
    FieldError,
    answer,
    arguments,
    connection_items,
    error,
    matches,
    operation_name,
    operation_names,
    response_key,
    scalar,
)
from koppel_local.simulators.shopify.mutations import cancel_order, cancel_problems
from koppel_local.simulators.shopify.nodes import fulfilled_quantity, move_stock
from koppel_local.simulators.shopify.resolvers import MUTATION_ROOT, QUERY_ROOT

SOURCE = "/".join(SCHEMA_FILE)
ROUTES = (Route("POST", PATH, "graphql", "_graphql"),)  # answered by `answer`, not a handler


def load_schema(path: Path | None = None) -> GraphQLSchema | None:
    """The Admin API schema, built once per process (about 3 MB of SDL); None without the reference."""
    path = path or reference_file(*SCHEMA_FILE)
    return load_sdl(path) if path is not None else None


@dataclass(eq=False)
class ShopifySimulator(WsgiSimulator):
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
    # One entry per GraphQL request: its operation, status, and whether it was refused or throttled.
    calls: list[dict[str, Any]] = field(default_factory=list)
    throttled: int = 0
    last_cost: dict[str, Any] = field(default_factory=dict)

    system = "Shopify simulator"
    routes = ROUTES

    def __post_init__(self) -> None:
        if self.validate and self.schema is None:
            self.schema = load_schema()
        if not self.validate:
            self.schema = None
        self.setup_kit(clock=self.clock, sleep=self.sleep)
        self.contract = GraphQLContract(self.schema, SOURCE)
        self.bucket = LeakyBucket(self.bucket_size, self.restore_rate, self.bucket_size, self.clock())
        self._ids = itertools.count(1)
        self._searchable_at: dict[str, float] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self._location_ids = itertools.count(70_001)
        # product gid -> its media, oldest first: {"id", "url", "mediaContentType", "alt"}
        self.media: dict[str, list[dict[str, Any]]] = {}
        if not self.locations:
            self.add_location("Shop location")

    @property
    def violations(self) -> list[dict[str, Any]]:
        """Documents the schema refuses ({"operation", "errors"}); reading them is how a test claims them."""
        return self.request_violations_log.read()

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
        self.faults.add(n, status, target=operation, after_execution=after_execution)

    def set_available(self, points: float) -> None:
        """Set what the cost bucket holds now, e.g. nearly empty as after a burst of other calls."""
        with self._lock:
            self.bucket.refill(self.clock())
            self.bucket.available = min(self.bucket.maximum, points)

    # --- the kit's hooks, in Shopify's words ----------------------------------------------------
    def latency_for(self, request: Request) -> float:
        return self.latency

    def handle(self, request: Request) -> Response:
        """One request answered, without WSGI (what `__call__` does, minus the request log)."""
        found, params = self.match(request)
        return self.answer(request, found, params, found.group if found else "unknown")

    def answer(self, request: Request, found: Route | None, params: dict[str, str], group: str) -> Response:
        if found is None:
            return answer({"errors": "Not Found"}, 404)
        if HeaderKey("X-Shopify-Access-Token", self.access_token).check(request) is not None:
            return answer({"errors": "Invalid API key or access token"}, 401)
        fault = self.take_fault(request, group) if self.faults.pending else None
        if fault is not None and not fault.after_execution:
            self.calls.append({"operation": operation_name(request), "status": fault.status})
            return answer({"errors": "simulated outage"}, fault.status)
        response = self._graphql(request)
        if fault is not None:
            self.calls[-1]["status"] = fault.status
            return answer({"errors": "simulated outage after execution"}, fault.status)
        return response

    def fault_targets(self, request: Request, group: str) -> set[str]:
        """A fault aims at an operation name or a root field ("orderCreate")."""
        return operation_names(request)

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
        try:
            prepared = self.contract.prepare(
                payload["query"], payload.get("operationName"), plain.get("variables") or {}
            )
        except ContractViolation as refused:
            # Shopify answers a document its schema refuses with 200 and GraphQL `errors`.
            errors = list(refused.details)
            self.request_violations_log.record(
                {"operation": payload.get("operationName"), "errors": errors, "at": str(refused)}
            )
            self.calls.append({"operation": payload.get("operationName"), "status": 200, "refused": True})
            return answer({"errors": errors}, 200)
        document = Document(
            prepared.operation,
            {
                node.name.value: node
                for node in prepared.document.definitions
                if isinstance(node, FragmentDefinitionNode)
            },
            payload.get("variables") or {},
        )
        body = self._run(document)
        requested = body["extensions"]["cost"]["requestedQueryCost"]
        self.calls.append(
            {"operation": document.name, "status": 200, "throttled": "data" not in body, "cost": requested}
        )
        return answer(body, 200)

    def _run(self, document: Document) -> dict[str, Any]:
        requested = self._cost(document, document.operation.selection_set, None, root=True)
        self.bucket.refill(self.clock())
        if requested > SINGLE_QUERY_MAX:
            return self._with_cost(
                {"errors": [error(f"Query cost {requested} exceeds the single query limit", "MAX_COST_EXCEEDED")]},
                requested,
                None,
            )
        if not self.bucket.try_take(requested, self.clock()):
            self.throttled += 1
            return self._with_cost({"errors": [error("Throttled", "THROTTLED")]}, requested, None)
        data, errors = self._execute(document)
        actual = self._cost(document, document.operation.selection_set, data, root=True)
        self.bucket.give_back(requested - actual)
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
