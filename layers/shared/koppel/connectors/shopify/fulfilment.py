"""Shopify as a backoffice that reports back (`ProgressSource`): fulfilments with their tracking, and
cancellation, in either direction.

Each fulfilment names the channel lines it shipped through the line item property `orders.py`
puts on every line. Shopify's cancel reasons map to koppel's `CancelReason` and back; Shopify's own
word stays on the progress as its note.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from koppel.connectors.base import Parcel, Progress
from koppel.connectors.shopify.client import (
    Operation,
    ShopifyOrderNotFound,
    ShopifyPart,
    ShopifyUserError,
)
from koppel.connectors.shopify.orders import LINE_ID_PROPERTY
from koppel.connectors.shopify.values import gid, parse_time
from koppel.errors import RateLimited, TransientConnectorError
from koppel.models import CancelReason
from koppel.observability import logger

# Per order, per fulfilment: what one progress query reads. More is fetched only when Shopify has it.
FULFILLMENTS_PER_QUERY = 10
LINES_PER_FULFILLMENT = 10
MAX_FULFILLMENTS = 100


class ShopifyCancelReason(StrEnum):
    """Shopify's `OrderCancelReason`."""

    CUSTOMER = "CUSTOMER"
    DECLINED = "DECLINED"
    FRAUD = "FRAUD"
    INVENTORY = "INVENTORY"
    OTHER = "OTHER"
    STAFF = "STAFF"


# Why the merchant (or koppel) cancelled, in koppel's words; STAFF (a staff error) is none of koppel's.
KOPPEL_REASONS: dict[str, CancelReason] = {
    ShopifyCancelReason.CUSTOMER: CancelReason.BUYER_REQUEST,
    ShopifyCancelReason.INVENTORY: CancelReason.OUT_OF_STOCK,
    ShopifyCancelReason.FRAUD: CancelReason.FRAUD,
    ShopifyCancelReason.DECLINED: CancelReason.PAYMENT_DECLINED,
    ShopifyCancelReason.STAFF: CancelReason.OTHER,
    ShopifyCancelReason.OTHER: CancelReason.OTHER,
}
SHOPIFY_REASONS: dict[CancelReason, ShopifyCancelReason] = {
    CancelReason.BUYER_REQUEST: ShopifyCancelReason.CUSTOMER,
    CancelReason.OUT_OF_STOCK: ShopifyCancelReason.INVENTORY,
    CancelReason.FRAUD: ShopifyCancelReason.FRAUD,
    CancelReason.PAYMENT_DECLINED: ShopifyCancelReason.DECLINED,
    CancelReason.OTHER: ShopifyCancelReason.OTHER,
}

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


class ShopifyProgressSource(ShopifyPart):
    """`ProgressSource`: what happened to an order koppel created, and cancelling it."""

    def order_progress(self, backoffice_order_id: str) -> Progress:
        """Fulfilled, cancelled, and every parcel shipped so far, with the channel lines in it."""
        order_id = gid("Order", backoffice_order_id)
        variables = {"id": order_id, "fulfillments": FULFILLMENTS_PER_QUERY, "lines": LINES_PER_FULFILLMENT}
        order = self.graphql.execute(ORDER_PROGRESS, variables)["order"]
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
            order = self.graphql.execute(ORDER_PROGRESS, variables)["order"] or order
            fulfillments = order.get("fulfillments") or []
        parcels = [parcel for node in fulfillments if (parcel := self._parcel(backoffice_order_id, node)) is not None]
        cancelled = order.get("cancelledAt") is not None
        shopify_reason = str(order.get("cancelReason") or "") if cancelled else ""
        return Progress(
            # FULFILLED: every line shipped. A cancelled order is finished, but nothing was delivered.
            completed=order.get("displayFulfillmentStatus") == "FULFILLED" and not cancelled,
            cancelled=cancelled,
            cancel_reason=KOPPEL_REASONS.get(shopify_reason.upper(), CancelReason.OTHER) if cancelled else None,
            cancel_note=shopify_reason.lower(),
            parcels=tuple(parcels),
        )

    def cancel_order(self, backoffice_order_id: str, reason: CancelReason, *, refund: bool = True) -> None:
        """Cancel the order in Shopify and put its stock back; done already counts as done.

        `reason` becomes Shopify's cancel reason, and its word (lower case) the staff note's; a
        reason Shopify has no word for is OTHER. `refund` records the channel's refund on the
        order: the marketplace took and returns the buyer's money, koppel's payment is a manual one
        under the channel's name, so Shopify moves no money but stops counting the order as paid.
        """
        order_id = gid("Order", backoffice_order_id)
        shopify_reason = SHOPIFY_REASONS.get(reason, ShopifyCancelReason.OTHER)
        variables = {
            "orderId": order_id,
            "reason": shopify_reason.value,
            "refund": refund,
            "restock": True,
            "staffNote": f"cancelled by koppel: {shopify_reason.value.lower()}",
        }
        try:
            payload = self.graphql.execute(CANCEL_ORDER, variables)["orderCancel"]
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
        return Parcel(
            line_ids=line_ids,
            tracking_codes=codes,
            company=company,
            shipped_at=parse_time(fulfillment.get("createdAt")),
        )

    def _fulfilled_lines(self, fulfillment: dict[str, Any]) -> list[dict[str, Any]]:
        page = fulfillment.get("fulfillmentLineItems") or {}
        items = list(page.get("nodes") or [])
        while (page.get("pageInfo") or {}).get("hasNextPage"):
            after = page["pageInfo"].get("endCursor")
            found = self.graphql.execute(FULFILLMENT_LINES, {"id": fulfillment["id"], "after": after})["fulfillment"]
            page = (found or {}).get("fulfillmentLineItems") or {}
            items.extend(page.get("nodes") or [])
        return items


def channel_line_id(fulfilled: dict[str, Any]) -> str:
    attributes = (fulfilled.get("lineItem") or {}).get("customAttributes") or []
    return next((str(a.get("value") or "") for a in attributes if a.get("key") == LINE_ID_PROPERTY), "")
