"""Shopify's webhooks: their signature, and the stock an `inventory_levels/update` reports.

`X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(app secret, raw body)). The signature covers the body
only: the topic, triggered-at and event id headers are anyone's to change. So:
- the de-duplication key is a digest of the body alone (Shopify's retries carry the original body;
  a capture replayed under another event id or topic is the same body);
- a topic the declaration does not list is acknowledged and queued nowhere, and a listed one must
  carry the fields its flow reads (`inventory_levels/update`: item, location and updated_at);
- staleness is judged from the body's signed `updated_at` where it has one: a capture replayed
  after the de-duplication record expired is older than the stale window by then, whatever
  triggered-at it is sent with. A stock level is the exception: the stock flow orders levels by that
  same signed `updated_at`, so an old one never overwrites a newer one and is accepted for it to
  judge. Only a body without `updated_at` falls back to the (required) `X-Shopify-Triggered-At`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from koppel.config import Account
from koppel.connectors.base import InventoryItems
from koppel.errors import BadRequest, Unauthorized
from koppel.models import WarehouseStock
from koppel.ports.stock import IncomingLevel
from koppel.queue import Envelope
from koppel.webhooks import (
    Delivery,
    Ignored,
    VerifyContext,
    accepts,
    body_signed_delivery,
    header,
    parse_moment,
    parse_object,
    parse_time,
    require,
    require_body_signature,
)

# What each topic's flow reads of the body; a delivery without it is refused rather than queued to fail.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "inventory_levels/update": ("inventory_item_id", "location_id", "updated_at"),
    "refunds/create": ("id", "order_id"),
}
STOCK_TOPICS = frozenset({"inventory_levels/update"})  # ordered by their signed updated_at downstream


def verify(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, ctx: VerifyContext
) -> Delivery | Ignored:
    require_body_signature(headers, "X-Shopify-Hmac-Sha256", secrets, body)
    topic = header(headers, "X-Shopify-Topic")
    if not topic:
        raise BadRequest("X-Shopify-Topic is required")
    triggered_at = parse_time(header(headers, "X-Shopify-Triggered-At"))
    if triggered_at is None:
        raise Unauthorized("X-Shopify-Triggered-At is required to tell a fresh delivery from a replay")
    if not accepts(account, topic):
        return Ignored(account_id=account.account_id, topic=topic)
    payload = parse_object(body)
    require(payload, topic, REQUIRED_FIELDS.get(topic, ("id",)))
    updated_at = parse_time(str(payload.get("updated_at") or ""))
    if updated_at is not None and topic not in STOCK_TOPICS:
        if ctx.now - updated_at > ctx.stale_after:
            raise Unauthorized("stale delivery: the body's updated_at is outside the accepted window")
    elif ctx.now - triggered_at > ctx.stale_after or triggered_at - ctx.now > ctx.tolerance:
        raise Unauthorized("stale delivery: triggered outside the accepted window")
    event_id = header(headers, "X-Shopify-Event-Id") or header(headers, "X-Shopify-Webhook-Id")
    return body_signed_delivery(account, topic, event_id, body, payload, triggered_at)


def stock_levels(
    envelope: Envelope, payload: dict[str, Any], inventory_items: Callable[[], InventoryItems]
) -> list[IncomingLevel]:
    """`inventory_levels/update`: one location's available quantity of an inventory item, which names no SKU."""
    sku, on_hand = inventory_items().inventory_item_at(str(payload["inventory_item_id"]), str(payload["location_id"]))
    if not sku:
        return []
    observed_at = parse_moment(payload.get("updated_at"), naive_is_utc=False) or envelope.sent_at
    if observed_at is None:
        raise ValueError("inventory level without updated_at")
    # Shopify's "available" is free stock (on hand less committed and reserved); the rest of on hand
    # is what open orders hold, so both bases work. None: the item is no longer stocked at that
    # location, so nothing can be sold from it any more.
    available = payload.get("available")
    free = 0 if available is None else int(available)
    held = free if on_hand is None or available is None else max(on_hand, free)
    stock = WarehouseStock(
        sku=sku,
        warehouse=str(payload["location_id"]),
        on_hand=held,
        backorders=held - free,
        observed_at=observed_at,
    )
    # updated_at is whole seconds; Shopify's triggered-at (milliseconds) orders two of one second.
    return [IncomingLevel.of(stock, tiebreak=envelope.sent_at or envelope.received_at)]
