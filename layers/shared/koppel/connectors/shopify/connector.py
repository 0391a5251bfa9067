"""Shopify as a backoffice: marketplace orders go in through the Admin GraphQL API.

REST is legacy at Shopify, so every call is one GraphQL document POSTed to
`/admin/api/{version}/graphql.json`. Transport retries (429, 5xx, timeouts) are `HttpApi`'s; this
module adds what only Shopify has: the calculated-query-cost bucket reported in
`extensions.cost`. It waits before a query the bucket cannot pay for, and on a `THROTTLED` answer
waits until the bucket holds the requested cost and asks again.

Mutations are never re-sent blindly: an order or customer created by Shopify whose answer was lost
would be created twice. A mutation goes out once; when its outcome is unknown the connector looks
for what it tried to create and otherwise hands the decision to a later run.

As a sales channel it takes stock: `push_stock` sets each inventory item's `available` quantity at
one location with `inventorySetQuantities`; and product data: `push_products` keeps price, barcode,
tracking, weight, title and image current on the variants the store already has, one
`productVariantsBulkUpdate` per product. It never creates a product. As a backoffice it gives
stock (`stock_page`: on hand and committed per location) and products (`product_page`: variants
with their prices, from the shop or from one price list).

Back from Shopify come the order's fulfilments (with their tracking numbers) and its cancellation.
Each Shopify line carries the channel's line id as a line item property (`_koppel_line_id`, read
back as the line's `customAttributes`), so a fulfilment names the channel lines it shipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, TypeAlias

import httpx

from koppel.config import Account
from koppel.connectors.shopify.settings import ShopifySettings
from koppel.connectors.base import (
    BackofficeOrder,
    Parcel,
    ProductPage,
    ProductPushResult,
    ProductUpdate,
    Progress,
    StockPage,
    StockPushResult,
    StockUpdate,
    Variant,
)
from koppel.connectors.http import Clock, HttpApi, RetryPolicy
from koppel.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectorError,
    NeedsAttention,
    PermanentConnectorError,
    RateLimited,
    TransientConnectorError,
)
from koppel.models import Address, Customer, Money, Order, OrderLine, Product, WarehouseStock
from koppel.observability import logger

SYSTEM = "shopify"
# What a SKU lookup links to, read from one `productVariants` node.
RefOf: TypeAlias = Callable[[dict[str, Any]], str]
THROTTLED = "THROTTLED"
CENT = Decimal("0.01")
# Waits are rounded up to this step: the bucket refills in fractions, and a wait that is exact on
# paper can end a hair too early and be throttled again for a rounding error.
WAIT_STEP = 0.01
# The line item property that carries the channel's line id. The leading underscore is Shopify's
# convention for a property the buyer is not shown (checkout, order and shipping e-mails).
LINE_ID_PROPERTY = "_koppel_line_id"
# Per order, per fulfilment: what one progress query reads. More is fetched only when Shopify has it.
FULFILLMENTS_PER_QUERY = 10
LINES_PER_FULFILLMENT = 10
MAX_FULFILLMENTS = 100


# Stock: inventorySetQuantities takes at most 250 quantities per call (shopify.dev); koppel is the
# source of truth for the number it sends, so no compare-and-set. The reference names koppel in the
# shop's inventory history.
STOCK_BATCH = 250
STOCK_QUANTITY = "available"
STOCK_REASON = "correction"
STOCK_REFERENCE = "koppel://stock-sync"
MAX_STOCK = 1_000_000_000  # Shopify refuses a higher quantity
# SKUs per search: one query with `sku:A OR sku:B ...`, well inside Shopify's query length.
SKUS_PER_SEARCH = 50
# Page sizes that keep a page's requested cost near half the 1000-point single-query maximum.
STOCK_ITEMS_PER_PAGE = 30
LEVELS_PER_ITEM = 5
PRODUCTS_PER_PAGE = 50
GRAMS_PER = {
    "GRAMS": Decimal(1),
    "KILOGRAMS": Decimal(1000),
    "OUNCES": Decimal("28.349523125"),
    "POUNDS": Decimal("453.59237"),
}


class CancelReason(StrEnum):
    """Shopify's `OrderCancelReason`; koppel names them in lower case ("customer", "inventory")."""

    CUSTOMER = "CUSTOMER"
    DECLINED = "DECLINED"
    FRAUD = "FRAUD"
    INVENTORY = "INVENTORY"
    OTHER = "OTHER"
    STAFF = "STAFF"


class ShopifyUserError(PermanentConnectorError):
    """Shopify refused the input (`userErrors`): sending it again fails the same way."""

    def __init__(self, operation: str, errors: list[dict[str, Any]]) -> None:
        self.messages = tuple(str(error.get("message", "")) for error in errors)
        self.fields = tuple(tuple(error.get("field") or ()) for error in errors)
        self.codes = tuple(str(error.get("code") or "") for error in errors)
        super().__init__(
            f"shopify {operation} refused: {'; '.join(self.messages)}",
            operation=operation,
            fields=self.fields,
            codes=self.codes,
        )


class ShopifyQueryError(PermanentConnectorError):
    """A top-level GraphQL error: the document or its variables do not fit the API version."""

    def __init__(self, operation: str, errors: list[dict[str, Any]]) -> None:
        self.messages = tuple(str(error.get("message", "")) for error in errors)
        super().__init__(f"shopify rejected {operation}: {'; '.join(self.messages)}", operation=operation)


class ShopifyOrderNotFound(PermanentConnectorError):
    """The order koppel created is not in the shop (any more): the merchant may have deleted it."""

    def __init__(self, backoffice_order_id: str) -> None:
        super().__init__("shopify has no order with this id", backoffice_order_id=backoffice_order_id)


@dataclass(frozen=True)
class Operation:
    name: str
    document: str
    mutation: bool
    # Requested cost assumed until Shopify has reported the real one for this document.
    estimated_cost: int


FIND_ORDERS = Operation(
    name="KoppelFindOrders",
    document="""
query KoppelFindOrders($query: String!) {
  orders(first: 25, query: $query, sortKey: CREATED_AT, reverse: true) {
    nodes { id name sourceIdentifier tags }
  }
}""",
    mutation=False,
    estimated_cost=27,
)

FIND_CUSTOMERS = Operation(
    name="KoppelFindCustomers",
    document="""
query KoppelFindCustomers($query: String!) {
  customers(first: 10, query: $query) {
    nodes { id defaultEmailAddress { emailAddress } }
  }
}""",
    mutation=False,
    estimated_cost=22,
)

FIND_VARIANTS = Operation(
    name="KoppelFindVariants",
    document="""
query KoppelFindVariants($query: String!) {
  productVariants(first: 10, query: $query) {
    nodes { id sku barcode }
  }
}""",
    mutation=False,
    estimated_cost=12,
)

CREATE_CUSTOMER = Operation(
    name="KoppelCreateCustomer",
    document="""
mutation KoppelCreateCustomer($input: CustomerInput!) {
  customerCreate(input: $input) {
    customer { id }
    userErrors { field message }
  }
}""",
    mutation=True,
    estimated_cost=10,
)

CREATE_ORDER = Operation(
    name="KoppelCreateOrder",
    document="""
mutation KoppelCreateOrder($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order { id name displayFulfillmentStatus }
    userErrors { field message code }
  }
}""",
    mutation=True,
    estimated_cost=10,
)

# One query for what happened to an order: fulfilled, cancelled, and each fulfilment with its tracking
# and the lines it shipped (each line's properties name the channel line).
FULFILLMENT_FIELDS = """
      id status createdAt
      trackingInfo(first: 10) { company number }
      fulfillmentLineItems(first: $lines) {
        nodes { quantity lineItem { id customAttributes { key value } } }
        pageInfo { hasNextPage endCursor }
      }"""

ORDER_PROGRESS = Operation(
    name="KoppelOrderProgress",
    document=f"""
query KoppelOrderProgress($id: ID!, $fulfillments: Int!, $lines: Int!) {{
  order(id: $id) {{
    displayFulfillmentStatus cancelledAt cancelReason
    fulfillmentsCount {{ count }}
    fulfillments(first: $fulfillments) {{{FULFILLMENT_FIELDS}
    }}
  }}
}}""",
    mutation=False,
    estimated_cost=425,
)

# Only when a fulfilment shipped more lines than the progress query reads: the rest, page by page.
FULFILLMENT_LINES = Operation(
    name="KoppelFulfillmentLines",
    document="""
query KoppelFulfillmentLines($id: ID!, $after: String) {
  fulfillment(id: $id) {
    fulfillmentLineItems(first: 50, after: $after) {
      nodes { quantity lineItem { id customAttributes { key value } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}""",
    mutation=False,
    estimated_cost=152,
)

CANCEL_ORDER = Operation(
    name="KoppelCancelOrder",
    document="""
mutation KoppelCancelOrder(
  $orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!, $restock: Boolean!, $staffNote: String
) {
  orderCancel(
    orderId: $orderId, reason: $reason, refund: $refund, restock: $restock, staffNote: $staffNote,
    notifyCustomer: false
  ) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}""",
    mutation=True,
    estimated_cost=12,
)


# --- stock and products -------------------------------------------------------------------------
# `isPrimary` is deprecated: the shop's oldest active location that fulfils online orders stands in.
LOCATIONS = Operation(
    name="KoppelLocations",
    document="""
query KoppelLocations {
  locations(first: 50, sortKey: ID) {
    nodes { id fulfillsOnlineOrders }
  }
}""",
    mutation=False,
    estimated_cost=52,
)

SET_STOCK = Operation(
    name="KoppelSetStock",
    document="""
mutation KoppelSetStock($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}""",
    mutation=True,
    estimated_cost=12,
)

VARIANTS_BY = Operation(
    name="KoppelVariantsBy",
    document="""
query KoppelVariantsBy($query: String!, $after: String) {
  productVariants(first: 100, query: $query, after: $after) {
    nodes { id sku barcode inventoryItem { id } }
    pageInfo { hasNextPage endCursor }
  }
}""",
    mutation=False,
    estimated_cost=302,
)

INVENTORY_ITEM_SKU = Operation(
    name="KoppelInventoryItemSku",
    document="""
query KoppelInventoryItemSku($id: ID!) {
  inventoryItem(id: $id) { sku }
}""",
    mutation=False,
    estimated_cost=1,
)

# An inventory webhook says what is available at a location; on hand comes with the SKU, in one call.
INVENTORY_ITEM_AT = Operation(
    name="KoppelInventoryItemAt",
    document="""
query KoppelInventoryItemAt($id: ID!, $locationId: ID!) {
  inventoryItem(id: $id) {
    sku
    inventoryLevel(locationId: $locationId) { quantities(names: ["available", "on_hand"]) { name quantity } }
  }
}""",
    mutation=False,
    estimated_cost=3,
)

LEVEL_FIELDS = """
        nodes { updatedAt location { id } quantities(names: ["available", "on_hand"]) { name quantity } }
        pageInfo { hasNextPage endCursor }"""

STOCK_PAGE = Operation(
    name="KoppelStockPage",
    document=f"""
query KoppelStockPage($after: String) {{
  inventoryItems(first: {STOCK_ITEMS_PER_PAGE}, after: $after) {{
    nodes {{
      id sku tracked
      inventoryLevels(first: {LEVELS_PER_ITEM}) {{{LEVEL_FIELDS}
      }}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}""",
    mutation=False,
    estimated_cost=800,
)

# Only for an item stocked at more locations than a stock page reads: the rest of its levels.
ITEM_LEVELS = Operation(
    name="KoppelItemLevels",
    document=f"""
query KoppelItemLevels($id: ID!, $after: String) {{
  inventoryItem(id: $id) {{
    inventoryLevels(first: 50, after: $after) {{{LEVEL_FIELDS}
    }}
  }}
}}""",
    mutation=False,
    estimated_cost=202,
)

VARIANT_FRAGMENT = """
fragment KoppelProductVariant on ProductVariant {
  sku barcode title price compareAtPrice inventoryQuantity
  image { url }
  inventoryItem { tracked measurement { weight { unit value } } }
  product { title productType vendor category { name } featuredMedia { preview { image { url } } } }
}"""

PRODUCT_PAGE = Operation(
    name="KoppelProductPage",
    document=f"""
query KoppelProductPage($after: String) {{
  shop {{ currencyCode }}
  productVariants(first: {PRODUCTS_PER_PAGE}, after: $after) {{
    nodes {{ ...KoppelProductVariant }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}{VARIANT_FRAGMENT}""",
    mutation=False,
    estimated_cost=650,
)

PRICE_LIST_PAGE = Operation(
    name="KoppelPriceListPage",
    document=f"""
query KoppelPriceListPage($id: ID!, $after: String) {{
  priceList(id: $id) {{
    currency
    prices(first: {PRODUCTS_PER_PAGE}, after: $after) {{
      nodes {{
        price {{ amount currencyCode }}
        compareAtPrice {{ amount currencyCode }}
        variant {{ ...KoppelProductVariant }}
      }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}{VARIANT_FRAGMENT}""",
    mutation=False,
    estimated_cost=800,
)


# --- products on a channel store ---------------------------------------------------------------
# `nodes` takes at most 250 ids per query.
VARIANTS_PER_LOOKUP = 250

VARIANT_OWNERS = Operation(
    name="KoppelVariantOwners",
    document="""
query KoppelVariantOwners($ids: [ID!]!) {
  shop { currencyCode }
  nodes(ids: $ids) {
    ... on ProductVariant { id product { id title variantsCount { count } } }
  }
}""",
    mutation=False,
    estimated_cost=3 * VARIANTS_PER_LOOKUP + 2,
)

# Partial updates: one refused variant (a negative price) must not hold back its siblings. `media`
# adds new images to the product; a variant's `mediaSrc` names the one it shows.
UPDATE_VARIANTS = Operation(
    name="KoppelUpdateVariants",
    document="""
mutation KoppelUpdateVariants($productId: ID!, $variants: [ProductVariantsBulkInput!]!, $media: [CreateMediaInput!]) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, media: $media, allowPartialUpdates: true) {
    productVariants { id }
    userErrors { field message code }
  }
}""",
    mutation=True,
    estimated_cost=12,
)

# 2025-04: `productUpdate(product: ProductUpdateInput)`; the older `input: ProductInput` is gone.
UPDATE_PRODUCT = Operation(
    name="KoppelUpdateProduct",
    document="""
mutation KoppelUpdateProduct($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id title }
    userErrors { field message }
  }
}""",
    mutation=True,
    estimated_cost=11,
)


@dataclass(frozen=True)
class VariantOwner:
    """The product a variant belongs to, as the channel store has it now."""

    product_id: str
    title: str
    variants: int


@dataclass
class CostBucket:
    """Shopify's last word on the app's cost bucket, projected forward at its restore rate."""

    maximum: float
    available: float
    restore_rate: float
    observed_at: float

    def available_at(self, now: float) -> float:
        return min(self.maximum, self.available + self.restore_rate * max(0.0, now - self.observed_at))

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until the bucket holds `cost` (capped at its size, or it would never fit)."""
        missing = min(cost, self.maximum) - self.available_at(now)
        if missing <= 1e-6 or self.restore_rate <= 0:  # a float crumb is not worth a wait
            return 0.0
        return round_up(missing / self.restore_rate)


class ShopifyConnector:
    """A Shopify store through the Admin GraphQL API.

    `OrderSink` and `ProgressSource` (orders in, fulfilments back), `StockTarget` and
    `ProductTarget` (Shopify as a sales channel), `StockSource` and `ProductSource` (Shopify as the
    backoffice).
    """

    system = SYSTEM
    # One attribute serves StockTarget and ProductTarget: 250 quantities fill one stock mutation;
    # products go out one mutation per product whatever the batch, so the size only bounds a call.
    max_batch = STOCK_BATCH

    def __init__(
        self,
        client: httpx.Client,
        access_token: str,
        settings: ShopifySettings,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.api = HttpApi(client, system=SYSTEM, policy=policy, clock=clock)
        # Same clock and limits, but one attempt: a lost answer to a mutation must not cause a resend.
        self.single_shot = HttpApi(
            client, system=SYSTEM, policy=replace(self.api.policy, max_attempts=1), clock=self.api.clock
        )
        base = (settings.base_url or f"https://{settings.shop_domain}").rstrip("/")
        self.endpoint = f"{base}/admin/api/{settings.api_version}/graphql.json"
        self._headers = {"X-Shopify-Access-Token": access_token, "Accept": "application/json"}
        self.bucket: CostBucket | None = None
        self.throttled = 0
        self._known_costs: dict[str, float] = {}
        self._stock_location: str | None = location_gid(settings.location_id) if settings.location_id.strip() else None

    # --- OrderSink ------------------------------------------------------------------------------
    def find_order(self, channel: str, channel_order_id: str) -> BackofficeOrder | None:
        tag = reference_tag(channel, channel_order_id)
        # Shopify's search matches words, not whole values (tag "bol-123" also finds "bol-123-2"), so
        # it only narrows the candidates; the exact comparison below decides.
        query = f"tag:{search_value(tag)} OR source_identifier:{search_value(channel_order_id)}"
        nodes = self._execute(FIND_ORDERS, {"query": query})["orders"]["nodes"]
        matches = [node for node in nodes if is_order_for(node, tag, channel_order_id)]
        if not matches:
            return None
        if len(matches) > 1:
            logger.warning("several shopify orders carry one channel reference", channel=channel, count=len(matches))
        original = matches[-1]  # newest first: the last one is the order created first
        return BackofficeOrder(backoffice_order_id=original["id"], name=original.get("name") or "")

    def create_order(self, order: Order, *, tag: str) -> BackofficeOrder:
        unmapped = [line.channel_sku for line in order.lines if not line.backoffice_variant_id]
        if unmapped:
            raise NeedsAttention("order lines without a Shopify variant", skus=tuple(unmapped))
        # Without an e-mail there is nothing to match a customer on: a guest order, as in a webshop.
        customer = self._customer_choice(order.customer, tag) if order.customer.email else None
        variables = {"order": order_input(order, tag, customer), "options": ORDER_OPTIONS}
        try:
            data = self._execute(CREATE_ORDER, variables)
        except RateLimited:
            raise  # refused before execution: nothing was created
        except TransientConnectorError as exc:
            return self._recover_order(order, exc)
        payload = data["orderCreate"]
        if payload["userErrors"]:
            raise ShopifyUserError("orderCreate", payload["userErrors"])
        created = payload["order"]
        logger.info("order created in shopify", channel=order.channel, shopify_order=created["name"])
        return BackofficeOrder(backoffice_order_id=created["id"], name=created["name"])

    def find_variant(self, sku: str, ean: str = "") -> Variant | None:
        variant = self._variant_by("sku", sku) if sku.strip() else None
        if variant is None and ean.strip():
            variant = self._variant_by("barcode", ean)
        return variant

    # --- ProgressSource -------------------------------------------------------------------------
    def order_progress(self, backoffice_order_id: str) -> Progress:
        """Fulfilled, cancelled, and every parcel shipped so far, with the channel lines in it."""
        order_id = order_gid(backoffice_order_id)
        variables = {"id": order_id, "fulfillments": FULFILLMENTS_PER_QUERY, "lines": LINES_PER_FULFILLMENT}
        order = self._execute(ORDER_PROGRESS, variables)["order"]
        if order is None:
            raise ShopifyOrderNotFound(backoffice_order_id)
        fulfillments = order.get("fulfillments") or []
        total = int((order.get("fulfillmentsCount") or {}).get("count") or 0)
        if total > len(fulfillments):
            # `fulfillments` is a plain list, not a connection: ask once more for all of them, one
            # line each to keep the query within Shopify's cost limit; the lines follow page by page.
            if total > MAX_FULFILLMENTS:
                logger.warning("shopify order has more fulfilments than koppel reads", count=total)
            variables |= {"fulfillments": min(total, MAX_FULFILLMENTS), "lines": 1}
            order = self._execute(ORDER_PROGRESS, variables)["order"] or order
            fulfillments = order.get("fulfillments") or []
        parcels = [parcel for node in fulfillments if (parcel := self._parcel(backoffice_order_id, node)) is not None]
        cancelled = order.get("cancelledAt") is not None
        return Progress(
            # FULFILLED: every line shipped. A cancelled order is finished, but nothing was delivered.
            completed=order.get("displayFulfillmentStatus") == "FULFILLED" and not cancelled,
            cancelled=cancelled,
            cancel_reason=str(order.get("cancelReason") or "").lower() if cancelled else "",
            parcels=tuple(parcels),
        )

    def cancel_order(self, backoffice_order_id: str, reason: str, *, refund: bool = True) -> None:
        """Cancel the order in Shopify and put its stock back; done already counts as done.

        `reason` is one of Shopify's cancel reasons in any case ("customer", "INVENTORY"); another
        word becomes OTHER, kept in the staff note. `refund` records the channel's refund on the
        order: the marketplace took and returns the buyer's money, koppel's payment is a manual one
        under the channel's name, so Shopify moves no money but stops counting the order as paid.
        """
        order_id = order_gid(backoffice_order_id)
        shopify_reason = cancel_reason(reason)
        variables = {
            "orderId": order_id,
            "reason": shopify_reason.value,
            "refund": refund,
            "restock": True,
            "staffNote": f"cancelled by koppel: {reason}",
        }
        try:
            payload = self._execute(CANCEL_ORDER, variables)["orderCancel"]
        except RateLimited:
            raise  # refused before execution: nothing was cancelled
        except TransientConnectorError as exc:
            # Cancelling twice cannot do harm (Shopify refuses the second one), so an unknown
            # outcome only needs a look: done, or left for the next run to send again.
            if self._is_cancelled(order_id):
                return
            raise TransientConnectorError("shopify orderCancel outcome unknown", reason=shopify_reason.value) from exc
        if payload is None:
            raise TransientConnectorError("shopify answered orderCancel without a result")
        errors = payload.get("orderCancelUserErrors") or []
        if errors:
            if any(error.get("code") == "NOT_FOUND" for error in errors):
                raise ShopifyOrderNotFound(backoffice_order_id)
            # Shopify refuses to cancel a cancelled order; an earlier run (or the merchant) did it.
            if self._is_cancelled(order_id):
                logger.info("shopify order was cancelled already", reason=shopify_reason.value)
                return
            raise ShopifyUserError("orderCancel", errors)
        job = payload.get("job") or {}
        # Shopify cancels in a background job; the next progress query shows the outcome.
        logger.info("shopify order cancel requested", reason=shopify_reason.value, job_done=bool(job.get("done")))

    # --- progress -------------------------------------------------------------------------------
    def _is_cancelled(self, order_id: str) -> bool:
        try:
            return self.order_progress(order_id).cancelled
        except ShopifyOrderNotFound:
            return False

    def _parcel(self, backoffice_order_id: str, fulfillment: dict[str, Any]) -> Parcel | None:
        """What one fulfilment shipped, in channel line ids; None for one that shipped nothing."""
        if fulfillment.get("status") != "SUCCESS":
            return None  # cancelled, failed, or still with a fulfilment service: nothing left the door
        items = self._fulfilled_lines(fulfillment)
        line_ids = tuple(dict.fromkeys(line_id for item in items if (line_id := channel_line_id(item))))
        unmarked = sum(1 for item in items if not channel_line_id(item))
        if unmarked:
            # Lines koppel did not create (added by the merchant, or orders from before the line
            # property): the channel has no line for them, so they stay out of the parcel.
            logger.warning(
                "shopify fulfilment has lines without a channel line id",
                backoffice_order_id=backoffice_order_id,
                lines=unmarked,
                parcel_dropped=not line_ids,
            )
        if not line_ids:
            return None
        tracking = fulfillment.get("trackingInfo") or []
        codes = tuple(dict.fromkeys(code for info in tracking if (code := str(info.get("number") or "").strip())))
        company = next((str(info["company"]).strip() for info in tracking if info.get("company")), "")
        return Parcel(line_ids=line_ids, tracking_codes=codes, company=company, shipped_at=timestamp(fulfillment))

    def _fulfilled_lines(self, fulfillment: dict[str, Any]) -> list[dict[str, Any]]:
        page = fulfillment.get("fulfillmentLineItems") or {}
        items = list(page.get("nodes") or [])
        while (page.get("pageInfo") or {}).get("hasNextPage"):
            after = page["pageInfo"].get("endCursor")
            found = self._execute(FULFILLMENT_LINES, {"id": fulfillment["id"], "after": after})["fulfillment"]
            page = (found or {}).get("fulfillmentLineItems") or {}
            items.extend(page.get("nodes") or [])
        return items

    # --- customers ------------------------------------------------------------------------------
    def _customer_choice(self, customer: Customer, tag: str) -> dict[str, Any]:
        """How orderCreate gets its customer: the shop's customer with this e-mail, found or made."""
        customer_id = self._find_customer(customer.email) or self._create_customer(customer, tag)
        if customer_id:
            return {"toAssociate": {"id": customer_id}}
        # Shopify would not create it, yet search does not show it (its index trails new customers):
        # let orderCreate match or create the customer by e-mail itself.
        return {"toUpsert": customer_input(customer, tag)}

    def _find_customer(self, email: str) -> str | None:
        query = f"email:{search_value(email)}"
        nodes = self._execute(FIND_CUSTOMERS, {"query": query})["customers"]["nodes"]
        wanted = email.strip().casefold()
        for node in nodes:
            address = (node.get("defaultEmailAddress") or {}).get("emailAddress") or ""
            if address.strip().casefold() == wanted:
                return str(node["id"])
        return None

    def _create_customer(self, customer: Customer, tag: str) -> str | None:
        """The new customer's id; None when Shopify refused or its answer was lost and search misses it."""
        try:
            payload = self._execute(CREATE_CUSTOMER, {"input": customer_input(customer, tag)})["customerCreate"]
        except RateLimited:
            raise
        except TransientConnectorError:
            # The answer was lost, maybe not the customer: look again rather than create a second one.
            return self._find_customer(customer.email)
        if payload["userErrors"]:
            # Usually another run created this customer a moment ago ("taken"); that one will do.
            # Field paths only: the messages may quote the e-mail address.
            logger.info(
                "shopify refused to create the customer", fields=[e.get("field") for e in payload["userErrors"]]
            )
            return self._find_customer(customer.email)
        return str(payload["customer"]["id"])

    # --- orders ---------------------------------------------------------------------------------
    def _recover_order(self, order: Order, cause: TransientConnectorError) -> BackofficeOrder:
        """orderCreate's outcome is unknown: find the order, or leave the retry to a later run."""
        existing = self.find_order(order.channel, order.channel_order_id)
        if existing is not None:
            logger.info("shopify created the order although its answer was lost", channel=order.channel)
            return existing
        # Shopify's search index can lag a few seconds behind a create, so "not found" is no proof:
        # sending again now could duplicate the order. The next run looks again first.
        raise TransientConnectorError(
            "shopify orderCreate outcome unknown; not re-sent to avoid a duplicate",
            channel=order.channel,
        ) from cause

    # --- variants -------------------------------------------------------------------------------
    def _variant_by(self, field: str, value: str) -> Variant | None:
        wanted = value.strip()
        query = f"{field}:{search_value(wanted)}"
        nodes = self._execute(FIND_VARIANTS, {"query": query})["productVariants"]["nodes"]
        exact = [node for node in nodes if (node.get(field) or "").strip() == wanted]
        if len(exact) > 1:
            # Picking one would sell a product chosen at random; a person has to make the SKU unique.
            raise NeedsAttention(f"{len(exact)} Shopify variants share this {field}", field=field, value=wanted)
        if not exact:
            return None
        node = exact[0]
        return Variant(variant_id=node["id"], sku=node.get("sku") or "", barcode=node.get("barcode") or "")

    # --- StockTarget: Shopify as a sales channel --------------------------------------------------
    def channel_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        """(sku, ean) -> the inventory item gid of the one variant with that SKU, else that barcode.

        A SKU (or barcode) that several variants share is left out: stock pushed to one chosen at
        random would be wrong for the other.
        """
        return self._refs(skus, "inventory item", lambda node: str((node.get("inventoryItem") or {}).get("id") or ""))

    def _refs(self, skus: Sequence[tuple[str, str]], kind: str, ref_of: RefOf) -> dict[str, str]:
        """(sku, ean) -> `ref_of` the one variant with that SKU, else with that barcode; shared ones left out."""
        wanted = list(dict.fromkeys((sku.strip(), ean.strip()) for sku, ean in skus if sku.strip()))
        by_sku = self._variants_by("sku", [sku for sku, _ in wanted], ref_of)
        refs: dict[str, str] = {}
        for sku, _ in wanted:
            if len(by_sku.get(sku, ())) == 1:
                refs[sku] = by_sku[sku][0]
        ambiguous = {sku for sku, _ in wanted if len(by_sku.get(sku, ())) > 1}
        fallback = [(sku, ean) for sku, ean in wanted if ean and sku not in refs and sku not in ambiguous]
        by_barcode = self._variants_by("barcode", [ean for _, ean in fallback], ref_of)
        for sku, ean in fallback:
            if len(by_barcode.get(ean, ())) == 1:
                refs[sku] = by_barcode[ean][0]
            elif len(by_barcode.get(ean, ())) > 1:
                ambiguous.add(sku)
        if ambiguous:
            logger.warning("shopify variants share a sku or barcode; left unlinked", kind=kind, count=len(ambiguous))
        return refs

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[StockPushResult]:
        """Set each inventory item's available quantity at the account's location, 250 per mutation."""
        results: list[StockPushResult | None] = [None] * len(updates)
        sendable: list[int] = []
        for index, update in enumerate(updates):
            if update.channel_ref.strip():
                sendable.append(index)
            else:
                results[index] = StockPushResult(
                    update.sku, accepted=False, error="no Shopify inventory item for this SKU"
                )
        if not sendable:
            return [result for result in results if result is not None]
        try:
            location = self._location()
        except AuthenticationFailed:
            raise  # the account's token, not a SKU, is the problem
        except (ConnectorError, ConfigurationError) as exc:
            retryable = isinstance(exc, TransientConnectorError)
            for index in sendable:
                results[index] = StockPushResult(updates[index].sku, False, str(exc), retryable=retryable)
            return [result for result in results if result is not None]
        for start in range(0, len(sendable), STOCK_BATCH):
            self._push_batch(updates, sendable[start : start + STOCK_BATCH], location, results)
        return [result for result in results if result is not None]

    def _push_batch(
        self,
        updates: Sequence[StockUpdate],
        indexes: list[int],
        location: str,
        results: list[StockPushResult | None],
    ) -> None:
        # One quantity per inventory item (Shopify refuses the same item twice); the last update wins.
        by_item: dict[str, list[int]] = {}
        for index in indexes:
            by_item.setdefault(inventory_item_gid(updates[index].channel_ref), []).append(index)
        pending = {item: group[-1] for item, group in by_item.items()}

        def settle(item: str, result: StockPushResult) -> None:
            for index in by_item[item]:
                results[index] = replace(result, sku=updates[index].sku)

        # Each round either sets everything or drops at least one refused quantity, so this ends.
        while pending:
            items = list(pending)
            quantities = [
                {"inventoryItemId": item, "locationId": location, "quantity": stock_quantity(updates[pending[item]])}
                for item in items
            ]
            try:
                payload = self._execute(SET_STOCK, {"input": stock_input(quantities)})["inventorySetQuantities"]
            except AuthenticationFailed:
                raise
            except TransientConnectorError as exc:
                # Setting an absolute quantity twice does no harm: whatever happened, a retry is safe.
                for item in items:
                    settle(item, StockPushResult("", False, str(exc), retryable=True))
                return
            except PermanentConnectorError as exc:
                for item in items:
                    settle(item, StockPushResult("", False, str(exc)))
                return
            if payload is None:
                for item in items:
                    settle(item, StockPushResult("", False, "shopify answered without a result", retryable=True))
                return
            errors = payload.get("userErrors") or []
            if not errors:
                for item in items:
                    settle(item, StockPushResult("", True))
                logger.info("stock set in shopify", items=len(items))
                return
            refused = {
                position: str(error.get("message") or "")
                for error in errors
                if (position := quantity_index(error)) is not None and position < len(items)
            }
            general = [str(error.get("message") or "") for error in errors if quantity_index(error) is None]
            if general or not refused:
                message = "; ".join(general) or "; ".join(refused.values()) or "refused by shopify"
                for item in items:
                    settle(item, StockPushResult("", False, f"shopify refused the stock update: {message}"))
                return
            for position, message in refused.items():
                settle(items[position], StockPushResult("", False, message))
                del pending[items[position]]
            if payload.get("inventoryAdjustmentGroup") is not None:
                # Shopify set the others already; sending them again is not needed.
                for item in pending:
                    settle(item, StockPushResult("", True))
                return
            # All or nothing at Shopify: one refused quantity and none was set, so the rest go again.
            logger.info("shopify refused some stock updates; sending the rest again", refused=len(refused))

    def sku_for_inventory_item(self, inventory_item_id: str | int) -> str:
        """The SKU of an inventory item (numeric id, as in `inventory_levels/update`, or gid); "" if none."""
        item = self._execute(INVENTORY_ITEM_SKU, {"id": inventory_item_gid(str(inventory_item_id))})["inventoryItem"]
        return str((item or {}).get("sku") or "").strip()

    def inventory_item_at(self, inventory_item_id: str | int, location_id: str | int) -> tuple[str, int | None]:
        """An inventory item's SKU ("" if none) and its on-hand units at a location (None if not stocked there)."""
        variables = {"id": inventory_item_gid(str(inventory_item_id)), "locationId": location_gid(str(location_id))}
        item = self._execute(INVENTORY_ITEM_AT, variables)["inventoryItem"] or {}
        level = item.get("inventoryLevel") or {}
        counts = {entry["name"]: int(entry["quantity"]) for entry in level.get("quantities") or []}
        return str(item.get("sku") or "").strip(), counts.get("on_hand")

    def _location(self) -> str:
        """The location koppel sets stock at: the account's `location_id`, else the shop's default."""
        if self._stock_location is None:
            nodes = self._execute(LOCATIONS, {})["locations"]["nodes"]
            chosen = next((node for node in nodes if node.get("fulfillsOnlineOrders")), nodes[0] if nodes else None)
            if chosen is None:
                raise ConfigurationError("the Shopify shop has no active location", field="location_id")
            self._stock_location = str(chosen["id"])
        return self._stock_location

    def _variants_by(self, field: str, values: Sequence[str], ref_of: RefOf) -> dict[str, list[str]]:
        """value -> `ref_of` each variant whose `field` is exactly that value."""
        found: dict[str, list[str]] = {}
        unique = list(dict.fromkeys(value for value in values if value))
        for start in range(0, len(unique), SKUS_PER_SEARCH):
            chunk = unique[start : start + SKUS_PER_SEARCH]
            wanted = set(chunk)
            # Search matches words, so it narrows; the exact comparison below decides.
            query = " OR ".join(f"{field}:{search_value(value)}" for value in chunk)
            after: str | None = None
            while True:
                page = self._execute(VARIANTS_BY, {"query": query, "after": after})["productVariants"]
                for node in page.get("nodes") or []:
                    value = str(node.get(field) or "").strip()
                    ref = ref_of(node)
                    if value in wanted and ref and ref not in found.setdefault(value, []):
                        found[value].append(ref)
                info = page.get("pageInfo") or {}
                if not info.get("hasNextPage"):
                    break
                after = info.get("endCursor")
        return found

    # --- ProductTarget: product data on a channel store ------------------------------------------
    def product_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        """(sku, ean) -> the variant gid of the one variant with that SKU, else that barcode.

        Only products the store already has: koppel never creates one. A SKU (or barcode) several
        variants share is left out, as for stock.
        """
        return self._refs(skus, "variant", lambda node: str(node.get("id") or ""))

    def push_products(self, updates: Sequence[ProductUpdate]) -> list[ProductPushResult]:
        """Bring each variant's price, barcode, tracking, weight, title and image up to koppel's product.

        One `productVariantsBulkUpdate` per product carries all of its variants (and a changed image,
        uploaded as new media; the old image stays, as the merchant may use it elsewhere). The title
        is the product's, so it changes only on a product with this one variant: a multi-variant
        product's title is not one SKU's to change. Stock is `push_stock`'s; category and brand stay
        the merchant's. One result per update, in the same order.
        """
        results: list[ProductPushResult | None] = [None] * len(updates)
        by_variant: dict[str, list[int]] = {}
        for index, update in enumerate(updates):
            if update.channel_ref.strip():
                by_variant.setdefault(variant_gid(update.channel_ref.strip()), []).append(index)
            else:
                results[index] = ProductPushResult(
                    update.product.sku, accepted=False, error="no Shopify variant for this SKU"
                )

        def settle(variant: str, result: ProductPushResult) -> None:
            for index in by_variant[variant]:
                results[index] = replace(result, sku=updates[index].product.sku)

        try:
            currency, owners = self._variant_owners(list(by_variant))
        except AuthenticationFailed:
            raise
        except ConnectorError as exc:
            retryable = isinstance(exc, TransientConnectorError)
            for variant in by_variant:
                settle(variant, ProductPushResult("", False, str(exc), retryable=retryable))
            return [result for result in results if result is not None]
        products: dict[str, list[tuple[str, ProductUpdate]]] = {}
        for variant, indexes in by_variant.items():
            owner = owners.get(variant)
            if owner is None:
                settle(variant, ProductPushResult("", False, "the Shopify store has no such variant (any more)"))
                continue
            # The same variant twice: the last product wins, and an image changed in any of them is sent.
            last = updates[indexes[-1]]
            chosen = replace(last, image_changed=any(updates[index].image_changed for index in indexes))
            products.setdefault(owner.product_id, []).append((variant, chosen))
        for product_id, changes in products.items():
            owner = owners[changes[0][0]]
            for variant, result in self._push_product(product_id, owner, changes, currency).items():
                settle(variant, result)
        return [result for result in results if result is not None]

    def _variant_owners(self, variants: Sequence[str]) -> tuple[str, dict[str, VariantOwner]]:
        """The shop's currency, and variant gid -> its product for the variants the store has."""
        currency = ""
        owners: dict[str, VariantOwner] = {}
        for start in range(0, len(variants), VARIANTS_PER_LOOKUP):
            data = self._execute(VARIANT_OWNERS, {"ids": list(variants[start : start + VARIANTS_PER_LOOKUP])})
            currency = str(data["shop"]["currencyCode"])
            for node in data.get("nodes") or []:
                product = (node or {}).get("product") or {}
                if not product.get("id"):
                    continue  # deleted, or the gid of something that is not a variant
                owners[str(node["id"])] = VariantOwner(
                    product_id=str(product["id"]),
                    title=str(product.get("title") or ""),
                    variants=int((product.get("variantsCount") or {}).get("count") or 0),
                )
        return currency, owners

    def _push_product(
        self, product_id: str, owner: VariantOwner, changes: list[tuple[str, ProductUpdate]], currency: str
    ) -> dict[str, ProductPushResult]:
        results: dict[str, ProductPushResult] = {}
        sent: list[tuple[str, dict[str, Any]]] = []
        for variant, update in changes:
            problem = currency_problem(update.product, currency)
            if problem:
                results[variant] = ProductPushResult("", False, problem)
                continue
            sent.append((variant, variant_input(variant, update)))
        if sent:
            results |= self._update_variants(product_id, sent)
        if owner.variants == 1 and len(changes) == 1:
            variant, update = changes[0]
            title = update.product.title.strip()
            if results[variant].accepted and title and title != owner.title:
                results[variant] = self._retitle(product_id, title)
        return results

    def _update_variants(self, product_id: str, sent: list[tuple[str, dict[str, Any]]]) -> dict[str, ProductPushResult]:
        variants = [fields for _, fields in sent]
        urls = list(dict.fromkeys(url for fields in variants for url in fields.get("mediaSrc") or ()))
        variables = {
            "productId": product_id,
            "variants": variants,
            "media": [{"mediaContentType": "IMAGE", "originalSource": url} for url in urls] or None,
        }

        def everyone(result: ProductPushResult) -> dict[str, ProductPushResult]:
            return {variant: result for variant, _ in sent}

        try:
            payload = self._execute(UPDATE_VARIANTS, variables)["productVariantsBulkUpdate"]
        except AuthenticationFailed:
            raise
        except TransientConnectorError as exc:
            # Prices and barcodes can be set twice without harm; an image sent again could be
            # uploaded twice, which the merchant can delete, while a lost price cannot be seen.
            return everyone(ProductPushResult("", False, str(exc), retryable=True))
        except PermanentConnectorError as exc:
            return everyone(ProductPushResult("", False, str(exc)))
        if payload is None:
            return everyone(ProductPushResult("", False, "shopify answered without a result", retryable=True))
        refused: dict[int, list[str]] = {}
        general: list[str] = []
        for error in payload.get("userErrors") or []:
            message = str(error.get("message") or "refused by shopify")
            positions = variant_positions(error, variants, urls)
            if positions is None:
                general.append(message)
            for position in positions or ():
                refused.setdefault(position, []).append(message)
        if general:
            return everyone(ProductPushResult("", False, f"shopify refused the product update: {'; '.join(general)}"))
        if refused:
            logger.info("shopify refused some variant updates", refused=len(refused), variants=len(sent))
        return {
            variant: ProductPushResult("", False, "; ".join(refused[position]))
            if position in refused
            else ProductPushResult("", True)
            for position, (variant, _) in enumerate(sent)
        }

    def _retitle(self, product_id: str, title: str) -> ProductPushResult:
        """The product's title; the variant's own data has landed already, whatever this answers."""
        try:
            payload = self._execute(UPDATE_PRODUCT, {"product": {"id": product_id, "title": title}})["productUpdate"]
        except AuthenticationFailed:
            raise
        except ConnectorError as exc:
            retryable = isinstance(exc, TransientConnectorError)
            return ProductPushResult("", False, f"title not updated: {exc}", retryable=retryable)
        if payload is None:
            return ProductPushResult("", False, "title not updated: shopify answered without a result", retryable=True)
        errors = payload.get("userErrors") or []
        if errors:
            messages = "; ".join(str(error.get("message") or "") for error in errors)
            return ProductPushResult("", False, f"title not updated: {messages}")
        return ProductPushResult("", True)

    # --- StockSource: Shopify as the backoffice -----------------------------------------------
    def stock_page(self, cursor: str | None) -> StockPage:
        """Tracked inventory items with a SKU, one `WarehouseStock` per location they are stocked at.

        `on_hand` is Shopify's on hand; `backorders` what of it is not available (committed to
        orders, reserved, damaged, ...); the warehouse is the numeric location id, as in webhooks.
        """
        page = self._execute(STOCK_PAGE, {"after": cursor})["inventoryItems"]
        levels: list[WarehouseStock] = []
        for item in page.get("nodes") or []:
            sku = str(item.get("sku") or "").strip()
            if not sku or not item.get("tracked"):
                continue  # nothing koppel could match, or a quantity Shopify does not keep
            for level in self._levels(item):
                levels.append(warehouse_stock(sku, level))
        info = page.get("pageInfo") or {}
        return StockPage(levels=tuple(levels), cursor=info.get("endCursor") if info.get("hasNextPage") else None)

    def _levels(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        page = item.get("inventoryLevels") or {}
        levels = list(page.get("nodes") or [])
        while (page.get("pageInfo") or {}).get("hasNextPage"):
            after = page["pageInfo"].get("endCursor")
            found = self._execute(ITEM_LEVELS, {"id": item["id"], "after": after})["inventoryItem"]
            page = (found or {}).get("inventoryLevels") or {}
            levels.extend(page.get("nodes") or [])
        return levels

    # --- ProductSource --------------------------------------------------------------------------
    def product_page(self, cursor: str | None, *, price_list: str = "") -> ProductPage:
        """Variants with a SKU as products; with `price_list`, only those it prices, at its prices."""
        if price_list.strip():
            price_list_id = price_list_gid(price_list.strip())
            found = self._execute(PRICE_LIST_PAGE, {"id": price_list_id, "after": cursor})["priceList"]
            if found is None:
                raise ConfigurationError(
                    "the Shopify shop has no such price list", field="price_list", id=price_list_id
                )
            page = found["prices"]
            products = [
                variant_product(
                    price["variant"], price_money(price.get("price")), price_money(price.get("compareAtPrice"))
                )
                for price in page.get("nodes") or []
                if price.get("variant")
            ]
        else:
            data = self._execute(PRODUCT_PAGE, {"after": cursor})
            currency = data["shop"]["currencyCode"]
            page = data["productVariants"]
            products = [
                variant_product(
                    node, shop_money(node.get("price"), currency), shop_money(node.get("compareAtPrice"), currency)
                )
                for node in page.get("nodes") or []
            ]
        info = page.get("pageInfo") or {}
        return ProductPage(
            products=tuple(product for product in products if product is not None),
            cursor=info.get("endCursor") if info.get("hasNextPage") else None,
        )

    # --- GraphQL transport with Shopify's cost bucket -----------------------------------------
    def _execute(self, operation: Operation, variables: dict[str, Any]) -> dict[str, Any]:
        """Run one document and return its `data`; waits for the cost bucket, never for transport."""
        attempts = self.api.policy.max_attempts
        for attempt in range(1, attempts + 1):
            self._wait_for_budget(operation)
            try:
                body = self._post(operation, variables)
            except RateLimited as exc:
                if not operation.mutation:
                    raise  # HttpApi already waited and retried what it could
                # A 429 means the mutation never ran, so asking again cannot duplicate anything.
                self.api.wait(exc.retry_after if exc.retry_after is not None else self.api.backoff(attempt), "429")
                continue
            cost = self._observe_cost(operation, body)
            if not is_throttled(body):
                return self._data(operation, body)
            self.throttled += 1
            self.api.wait(self._throttle_delay(cost, attempt), THROTTLED)
        raise RateLimited(f"shopify still throttling {operation.name} after {attempts} tries")

    def _post(self, operation: Operation, variables: dict[str, Any]) -> dict[str, Any]:
        api = self.single_shot if operation.mutation else self.api
        response = api.request(
            "POST",
            self.endpoint,
            json={"query": operation.document, "variables": variables, "operationName": operation.name},
            headers=self._headers,
        )
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientConnectorError("shopify answered without JSON", operation=operation.name) from exc
        if not isinstance(body, dict):
            raise TransientConnectorError("shopify answered with an unexpected body", operation=operation.name)
        return body

    def _wait_for_budget(self, operation: Operation) -> None:
        if self.bucket is None:
            return
        cost = self._known_costs.get(operation.name, operation.estimated_cost)
        self.api.wait(self.bucket.wait_for(cost, self.api.clock.now()), "query cost")

    def _observe_cost(self, operation: Operation, body: dict[str, Any]) -> dict[str, Any]:
        cost = (body.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        try:
            self.bucket = CostBucket(
                maximum=float(status["maximumAvailable"]),
                available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
                observed_at=self.api.clock.now(),
            )
        except (KeyError, TypeError, ValueError):
            return cost  # no (readable) cost report: keep the last known bucket
        if cost.get("requestedQueryCost") is not None:
            self._known_costs[operation.name] = float(cost["requestedQueryCost"])
        return cost

    def _throttle_delay(self, cost: dict[str, Any], attempt: int) -> float:
        try:
            requested = float(cost["requestedQueryCost"])
            status = cost["throttleStatus"]
            available = float(status["currentlyAvailable"])
            restore_rate = float(status["restoreRate"])
        except (KeyError, TypeError, ValueError):
            return self.api.backoff(attempt)
        if restore_rate <= 0:
            return self.api.backoff(attempt)
        # At least one step, even if the report says the cost fits: Shopify just said it did not.
        return max(WAIT_STEP, round_up((requested - available) / restore_rate))

    def _data(self, operation: Operation, body: dict[str, Any]) -> dict[str, Any]:
        errors = body.get("errors")
        if errors:
            raise query_error(operation, errors if isinstance(errors, list) else [{"message": str(errors)}])
        data = body.get("data")
        if not isinstance(data, dict):
            raise TransientConnectorError("shopify answered without data", operation=operation.name)
        return data


def from_account(
    account: Account,
    credentials: dict[str, Any],
    client: httpx.Client,
    *,
    clock: Clock | None = None,
) -> ShopifyConnector:
    """The connector for a configured Shopify account; `credentials` is its Secrets Manager secret."""
    settings = account.typed_settings()
    if not isinstance(settings, ShopifySettings):
        raise ConfigurationError(f"account {account.account_id} is not a Shopify account", field="system")
    token = str(credentials.get("access_token") or "").strip()
    if not token:
        raise ConfigurationError("Shopify credentials need an access_token", field="access_token")
    return ShopifyConnector(client, token, settings, clock=clock)


# --- translation: koppel model -> Shopify input -------------------------------------------------
# Claim stock for what the marketplace already sold, even past zero: the sale happened, refusing
# it here would only lose the order. No e-mails: the marketplace talks to its buyer.
ORDER_OPTIONS: dict[str, Any] = {
    "inventoryBehaviour": "DECREMENT_IGNORING_POLICY",
    "sendReceipt": False,
    "sendFulfillmentReceipt": False,
}


def reference_tag(channel: str, channel_order_id: str) -> str:
    return f"{channel}-{channel_order_id}"


def is_order_for(node: dict[str, Any], tag: str, channel_order_id: str) -> bool:
    """Exact: the whole reference tag (tags compare case-insensitively in Shopify) and the same id."""
    tags = {str(value).strip().casefold() for value in node.get("tags") or ()}
    return tag.casefold() in tags and node.get("sourceIdentifier") == channel_order_id


def search_value(value: str) -> str:
    """A value quoted for Shopify's search syntax, so spaces, colons and dashes stay part of it."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def order_input(order: Order, tag: str, customer: dict[str, Any] | None) -> dict[str, Any]:
    reference = f"{order.channel} order {order.channel_order_id}"
    result: dict[str, Any] = {
        "currency": order.currency,
        "processedAt": iso(order.placed_at),
        "financialStatus": "PAID",  # marketplaces collect the payment before releasing an order
        # fulfillmentStatus left out on purpose: Shopify's default is unfulfilled, which is "not shipped".
        "taxesIncluded": True,
        "lineItems": [line_input(line) for line in order.lines],
        "billingAddress": address_input(order.billing_address),
        "shippingAddress": address_input(order.shipping_address),
        "sourceName": order.channel,
        "sourceIdentifier": order.channel_order_id,
        "tags": list(
            dict.fromkeys(value for value in (tag, reference_tag(order.channel, order.channel_order_id)) if value)
        ),
        "note": f"{reference}\n{order.note}" if order.note else reference,
        "customAttributes": [
            {"key": "channel", "value": order.channel},
            {"key": "channel_order_id", "value": order.channel_order_id},
        ],
        "transactions": [
            {
                "kind": "SALE",
                "status": "SUCCESS",
                "gateway": order.channel,
                "amountSet": money_bag(order.total),
                "processedAt": iso(order.placed_at),
            }
        ],
    }
    discount = discount_code(order)
    if discount:
        result["discountCode"] = discount
    if order.shipping_cost is not None:
        result["shippingLines"] = [
            {"title": f"{order.channel} shipping", "source": order.channel, "priceSet": money_bag(order.shipping_cost)}
        ]
    if customer:
        result["customer"] = customer
    return result


def discount_code(order: Order) -> dict[str, Any] | None:
    """The channel's line discounts as the one discount orderCreate takes, or None without any.

    orderCreate has no discount per line item, only one discount code per order. A fixed-amount
    item code for the sum of the line discounts makes Shopify's total what the buyer paid, and the
    line prices stay the list prices, so the merchant sees the price and the discount apart.
    Shopify spreads that amount over the lines itself, which can differ from the channel's split
    between lines; the order's totals are exact either way.
    """
    discounts = [line.discount.amount for line in order.lines if line.discount is not None and line.discount.amount]
    if not discounts:
        return None
    amount = Money(amount=sum(discounts, Decimal(0)), currency=order.currency)
    return {"itemFixedDiscountCode": {"code": f"{order.channel} discount", "amountSet": money_bag(amount)}}


def line_input(line: OrderLine) -> dict[str, Any]:
    item: dict[str, Any] = {
        "variantId": variant_gid(line.backoffice_variant_id),
        "quantity": line.quantity,
        # Before discounts, as Shopify's input defines it; the discount goes on the order.
        "priceSet": money_bag(line.unit_price),
        # Without it Shopify's input default (false) would leave marketplace parcels out of shipping.
        "requiresShipping": True,
        # Read back from each fulfilment, to tell the channel which of its lines shipped.
        "properties": [{"name": LINE_ID_PROPERTY, "value": line.line_id}],
    }
    if line.vat_rate is not None:
        # VAT is owed on what the buyer paid: the line less its discount (a price reduction lowers
        # the taxable amount). Shopify records tax lines given to orderCreate as they are, without
        # recomputing them for the discount, so they must already be on the discounted amount.
        item["taxLines"] = [tax_line(line.total, line.vat_rate)]
    return item


def tax_line(gross: Money, vat_rate: Decimal) -> dict[str, Any]:
    """The VAT inside a VAT-included amount, rounded to cents as on an invoice."""
    tax = (gross.amount * vat_rate / (100 + vat_rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    return {
        "title": f"VAT {decimal_text(vat_rate)}%",
        "rate": decimal_text(vat_rate / 100),
        "priceSet": money_bag(Money(amount=tax, currency=gross.currency)),
    }


def address_input(address: Address) -> dict[str, Any]:
    house = " ".join(part for part in (address.house_number, address.house_number_extension) if part)
    fields = {
        "firstName": address.first_name,
        "lastName": address.last_name,
        "company": address.company,
        "address1": " ".join(part for part in (address.street, house) if part),
        "address2": address.address_line_2,
        "zip": address.postal_code,
        "city": address.city,
        "countryCode": address.country_code,
        "phone": address.phone,
    }
    return {key: value for key, value in fields.items() if value}


def customer_input(customer: Customer, tag: str) -> dict[str, Any]:
    # No phone: Shopify wants it unique per customer and strictly formatted, and marketplaces hand
    # out shared relay numbers; it stays on the order's addresses instead.
    fields: dict[str, Any] = {"email": customer.email, "firstName": customer.first_name, "lastName": customer.last_name}
    result = {key: value for key, value in fields.items() if value}
    if tag:
        result["tags"] = [tag]
    return result


def money_bag(money: Money) -> dict[str, Any]:
    return {"shopMoney": {"amount": decimal_text(money.amount), "currencyCode": money.currency}}


def decimal_text(value: Decimal) -> str:
    """A Decimal as plain digits: str() could give '1E+1', which Shopify's Decimal scalar refuses."""
    return format(value, "f")


def variant_gid(variant_id: str) -> str:
    return f"gid://shopify/ProductVariant/{variant_id}" if variant_id.isdigit() else variant_id


def order_gid(order_id: str) -> str:
    return f"gid://shopify/Order/{order_id}" if order_id.isdigit() else order_id


def cancel_reason(reason: str) -> CancelReason:
    try:
        return CancelReason(reason.strip().upper())
    except ValueError:
        return CancelReason.OTHER


# --- translation: Shopify -> koppel model -------------------------------------------------------


def channel_line_id(fulfilled: dict[str, Any]) -> str:
    attributes = (fulfilled.get("lineItem") or {}).get("customAttributes") or []
    return next((str(a.get("value") or "") for a in attributes if a.get("key") == LINE_ID_PROPERTY), "")


def timestamp(fulfillment: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(fulfillment["createdAt"]))
    except (KeyError, ValueError):
        return None


def iso(moment: datetime) -> str:
    # Channels that send local times without an offset are read as UTC rather than the server's zone.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def round_up(seconds: float) -> float:
    if seconds <= 0:
        return 0.0
    return max(1, math.ceil(round(seconds / WAIT_STEP, 6))) * WAIT_STEP


def is_throttled(body: dict[str, Any]) -> bool:
    errors = body.get("errors")
    return isinstance(errors, list) and any(error_code(error) == THROTTLED for error in errors)


def error_code(error: object) -> str:
    if not isinstance(error, dict):
        return ""
    return str((error.get("extensions") or {}).get("code") or "")


def query_error(operation: Operation, errors: list[Any]) -> Exception:
    codes = {error_code(error) for error in errors}
    listed = [error if isinstance(error, dict) else {"message": str(error)} for error in errors]
    if "ACCESS_DENIED" in codes:
        return AuthenticationFailed(f"shopify denied {operation.name}: the app lacks an access scope")
    if "INTERNAL_SERVER_ERROR" in codes:
        return TransientConnectorError(f"shopify failed internally on {operation.name}", operation=operation.name)
    return ShopifyQueryError(operation.name, listed)


# --- stock and products ----------------------------------------------------------------------------
def location_gid(location_id: str) -> str:
    value = location_id.strip()
    return f"gid://shopify/Location/{value}" if value.isdigit() else value


def inventory_item_gid(item_id: str) -> str:
    value = item_id.strip()
    return f"gid://shopify/InventoryItem/{value}" if value.isdigit() else value


def price_list_gid(price_list_id: str) -> str:
    return f"gid://shopify/PriceList/{price_list_id}" if price_list_id.isdigit() else price_list_id


def numeric_id(gid: str) -> str:
    """`gid://shopify/Location/123` -> `123`: the id webhooks and the admin's URLs show."""
    return gid.rsplit("/", 1)[-1].split("?", 1)[0]


def stock_quantity(update: StockUpdate) -> int:
    return max(0, min(update.quantity, MAX_STOCK))


def stock_input(quantities: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": STOCK_QUANTITY,
        "reason": STOCK_REASON,
        "referenceDocumentUri": STOCK_REFERENCE,
        # koppel's number is the truth to set, whatever Shopify held a moment ago.
        "ignoreCompareQuantity": True,
        "quantities": quantities,
    }


def quantity_index(error: dict[str, Any]) -> int | None:
    """The quantity a user error points at (`["input", "quantities", "3", "quantity"]` -> 3), if any."""
    path = [str(part) for part in error.get("field") or ()]
    if "quantities" in path:
        position = path.index("quantities") + 1
        if position < len(path) and path[position].isdigit():
            return int(path[position])
    return None


def warehouse_stock(sku: str, level: dict[str, Any]) -> WarehouseStock:
    counts = {str(q.get("name")): int(q.get("quantity") or 0) for q in level.get("quantities") or ()}
    on_hand = counts.get("on_hand", 0)
    return WarehouseStock(
        sku=sku,
        warehouse=numeric_id(str((level.get("location") or {}).get("id") or "")),
        on_hand=on_hand,
        backorders=max(0, on_hand - counts.get("available", 0)),
        observed_at=parse_time(level.get("updatedAt")) or datetime.now(UTC),
    )


def parse_time(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def shop_money(amount: Any, currency: str) -> Money | None:
    return Money(amount=Decimal(str(amount)), currency=currency) if amount is not None else None


def price_money(money: dict[str, Any] | None) -> Money | None:
    if not money or money.get("amount") is None:
        return None
    return Money(amount=Decimal(str(money["amount"])), currency=str(money["currencyCode"]))


def shelf_prices(price: Money | None, compare_at: Money | None) -> tuple[Money | None, Money | None]:
    """(regular price, sale price): Shopify's compare-at price above the price marks a sale."""
    if price is not None and compare_at is not None and compare_at.amount > price.amount:
        return compare_at, price
    return price, None


def weight_grams(weight: dict[str, Any] | None) -> int | None:
    """Whole grams; None when unknown (Shopify shows an unset weight as 0)."""
    if not weight or weight.get("value") is None:
        return None
    factor = GRAMS_PER.get(str(weight.get("unit")))
    # Weight.value is a JSON float: its repr is what the merchant typed, its binary value is not.
    grams = Decimal(str(weight["value"])) * factor if factor is not None else None
    if not grams:
        return None
    return int(grams.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def variant_product(node: dict[str, Any], price: Money | None, compare_at: Money | None) -> Product | None:
    """A variant as koppel's Product; None without a SKU, which nothing in koppel could match.

    category: the product type (the merchant's own word), else Shopify's taxonomy category.
    group: the vendor, i.e. the brand; tags are free-form and unordered, so no tag is "the" group.
    """
    sku = str(node.get("sku") or "").strip()
    if not sku:
        return None
    product = node.get("product") or {}
    item = node.get("inventoryItem") or {}
    variant_title = str(node.get("title") or "").strip()
    title = str(product.get("title") or "").strip()
    if variant_title and variant_title != "Default Title":
        title = f"{title} - {variant_title}" if title else variant_title
    featured = ((product.get("featuredMedia") or {}).get("preview") or {}).get("image") or {}
    regular, sale = shelf_prices(price, compare_at)
    return Product(
        sku=sku,
        title=title or sku,
        ean=str(node.get("barcode") or "").strip(),
        price=regular,
        sale_price=sale,
        stock_managed=bool(item.get("tracked")),
        quantity=int(node.get("inventoryQuantity") or 0),
        image_url=str((node.get("image") or {}).get("url") or featured.get("url") or ""),
        weight_grams=weight_grams((item.get("measurement") or {}).get("weight")),
        category=str(product.get("productType") or "").strip()
        or str((product.get("category") or {}).get("name") or ""),
        group=str(product.get("vendor") or "").strip(),
    )


# --- products on a channel store -------------------------------------------------------------------
def shopify_prices(product: Product) -> tuple[Money | None, Money | None]:
    """(price, compare-at price) for Shopify from koppel's (regular price, sale price).

    A sale is a lower sale price: Shopify shows it as the price, struck through against the
    regular price as compare-at. Without a sale the compare-at price is cleared.
    """
    regular, sale = product.price, product.sale_price
    if regular is not None and sale is not None and sale.amount < regular.amount:
        return sale, regular
    if regular is not None:
        return regular, None
    return sale, None


def currency_problem(product: Product, currency: str) -> str:
    """Why the price cannot go to a shop selling in `currency`; "" when it can."""
    price, compare_at = shopify_prices(product)
    for money in (price, compare_at):
        if money is not None and currency and money.currency != currency:
            return f"the price is in {money.currency}, the Shopify shop sells in {currency}"
    return ""


def variant_input(variant: str, update: ProductUpdate) -> dict[str, Any]:
    """One `ProductVariantsBulkInput`: what koppel's product says about this variant."""
    product = update.product
    fields: dict[str, Any] = {"id": variant}
    price, compare_at = shopify_prices(product)
    if price is not None:
        fields["price"] = decimal_text(price.amount)
        fields["compareAtPrice"] = decimal_text(compare_at.amount) if compare_at is not None else None
    if product.ean.strip():
        fields["barcode"] = product.ean.strip()
    item: dict[str, Any] = {"tracked": product.stock_managed}
    if product.weight_grams is not None:
        item["measurement"] = {"weight": {"value": product.weight_grams, "unit": "GRAMS"}}
    fields["inventoryItem"] = item
    if update.image_changed and product.image_url.strip():
        fields["mediaSrc"] = [product.image_url.strip()]
    return fields


def variant_positions(error: dict[str, Any], variants: list[dict[str, Any]], urls: list[str]) -> list[int] | None:
    """The variants a user error of productVariantsBulkUpdate is about; None: the whole product.

    `["variants", "2", "price"]` is the third variant; `["media", "0", ...]` every variant showing
    the first new image.
    """
    path = [str(part) for part in error.get("field") or ()]
    for name, size in (("variants", len(variants)), ("media", len(urls))):
        if name in path:
            position = path.index(name) + 1
            if position < len(path) and path[position].isdigit() and int(path[position]) < size:
                index = int(path[position])
                if name == "variants":
                    return [index]
                return [i for i, fields in enumerate(variants) if urls[index] in (fields.get("mediaSrc") or ())]
    return None
