"""Flow: process one queued webhook delivery for every link it concerns.

The topic decides which flow a delivery feeds; each link that involves the sending account and
has that flow switched on gets it. Every delivery leaves a trace in the activity log, including
the ones no link wants, so an operator can always see what arrived and what became of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from pydantic import ValidationError

from koppel.config import Flow, Link
from koppel.errors import BadRequest
from koppel.flows.stock import IncomingLevel, PushRequests, StockStore, accept_levels
from koppel.models import WarehouseStock
from koppel.queue import Envelope
from koppel.store.base import ActivityLog, ConfigStore

# Resource part of a topic → flow. Shopify says "orders/create", WooCommerce "order.created",
# koppel's own scheme "stock.changed".
_RESOURCE_FLOWS: dict[str, Flow] = {
    "order": Flow.ORDERS,
    "orders": Flow.ORDERS,
    "refund": Flow.RETURNS,
    "refunds": Flow.RETURNS,
    "return": Flow.RETURNS,
    "returns": Flow.RETURNS,
    "stock": Flow.STOCK,
    "inventory_levels": Flow.STOCK,
    "product": Flow.PRODUCTS,
    "products": Flow.PRODUCTS,
}


# Which side of a link a flow takes its deliveries from: orders and returns come from the channel
# (a webshop selling for the backoffice), stock and products from the backoffice.
FLOW_SOURCES: dict[Flow, frozenset[str]] = {
    Flow.ORDERS: frozenset({"channel"}),
    Flow.RETURNS: frozenset({"channel"}),
    Flow.STOCK: frozenset({"backoffice"}),
    Flow.PRODUCTS: frozenset({"backoffice"}),
}


# A product change carries its stock too (WooCommerce sends no separate stock webhook).
_ALSO_STOCK = frozenset({Flow.PRODUCTS})


def flow_for_topic(topic: str) -> Flow | None:
    resource = topic.replace(".", "/").split("/", 1)[0].strip().lower()
    return _RESOURCE_FLOWS.get(resource)


def flows_for_topic(topic: str) -> tuple[Flow, ...]:
    flow = flow_for_topic(topic)
    if flow is None:
        return ()
    return (Flow.STOCK, flow) if flow in _ALSO_STOCK else (flow,)


class ParkedDeliveries(Protocol):
    """Deliveries koppel accepted but cannot act on yet, kept whole until a person or a release can."""

    def park(self, link_id: str, envelope: Envelope, reason: str) -> None: ...


class InboundHandler(Protocol):
    def __call__(self, link: Link, envelope: Envelope, payload: dict[str, Any]) -> str:
        """Act on the delivery for this link; return a one-line summary for the activity log."""
        ...


def process(
    envelope: Envelope,
    *,
    config: ConfigStore,
    activity: ActivityLog,
    handlers: Mapping[Flow, InboundHandler],
    parked: ParkedDeliveries,
) -> int:
    """Returns how many links acted on the delivery."""
    payload = json.loads(envelope.body, parse_float=Decimal)
    flow = flow_for_topic(envelope.topic)
    activity.record(
        envelope.account_id,
        "webhook.received",
        f"{envelope.topic} received",
        event_id=envelope.event_id,
        flow=flow.value if flow else None,
    )
    if flow is None:
        activity.record(envelope.account_id, "webhook.ignored", f"topic {envelope.topic} feeds no koppel flow")
        return 0
    acted = 0
    for link in config.list_links():
        if envelope.account_id not in (link.backoffice, link.channel):
            continue
        for each in flows_for_topic(envelope.topic):
            acted += _deliver(envelope, payload, link, each, activity=activity, handlers=handlers, parked=parked)
    return acted


def _deliver(
    envelope: Envelope,
    payload: dict[str, Any],
    link: Link,
    flow: Flow,
    *,
    activity: ActivityLog,
    handlers: Mapping[Flow, InboundHandler],
    parked: ParkedDeliveries,
) -> int:
    role = "channel" if envelope.account_id == link.channel else "backoffice"
    if role not in FLOW_SOURCES[flow]:
        # e.g. a backoffice's own order webhooks: its orders are not this link's to import.
        activity.record(
            link.link_id,
            "webhook.not_for_link",
            f"{envelope.topic} from the {role} feeds no flow of this link",
            event_id=envelope.event_id,
        )
        return 0
    if not link.flows.enabled(flow):
        activity.record(
            link.link_id, "webhook.skipped", f"{flow.value} is switched off for this link", event_id=envelope.event_id
        )
        return 0
    handler = handlers.get(flow)
    if handler is None:
        # Acknowledged to the sender, so it must not vanish: kept whole, listed, replayable.
        reason = f"{envelope.topic} from {envelope.system} has no {flow.value} handler yet"
        parked.park(link.link_id, envelope, reason)
        activity.record(link.link_id, "webhook.parked", reason, event_id=envelope.event_id)
        return 0
    summary = handler(link, envelope, payload)
    activity.record(link.link_id, f"{flow.value}.webhook", summary, event_id=envelope.event_id)
    return 1


# --- stock ---------------------------------------------------------------------------------------
class InventoryItems(Protocol):
    """Shopify's inventory webhooks name an inventory item, not a SKU, and say only what is available."""

    def inventory_item_at(self, inventory_item_id: str, location_id: str) -> tuple[str, int | None]:
        """The item's SKU and its on-hand units at the location (None: not stocked there)."""
        ...


def stock_mutations(
    envelope: Envelope, payload: dict[str, Any], inventory_items: Callable[[], InventoryItems]
) -> list[IncomingLevel]:
    """The stock levels a delivery reports, in any of the shapes koppel takes.

    - koppel scheme: `{"sku", "on_hand" (or "quantity"), "backorders", "warehouse", "observed_at" or
      "sequence", "ean"}`, or `{"levels": [ ... ]}`;
    - Shopify `inventory_levels/update`: one location's available quantity of an inventory item;
    - WooCommerce `product.*`: a stock-managed product's `stock_quantity`.
    A level without its own time counts from the moment the sender signed or triggered the delivery,
    never from when koppel received it: a late replay must not look newer than it is. (WooCommerce
    signs no time and rebuilds the body at each delivery, so its deliveries count from their arrival.)
    """
    try:
        if envelope.system == "shopify":
            return _shopify_level(payload, envelope, inventory_items)
        if envelope.system == "woocommerce":
            return _woocommerce_level(payload, envelope)
        return [_koppel_level(entry, envelope) for entry in payload.get("levels", [payload])]
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise BadRequest(f"stock payload: {type(exc).__name__}: {exc}") from exc


def _koppel_level(entry: dict[str, Any], envelope: Envelope) -> IncomingLevel:
    observed_at = _moment(entry.get("observed_at"), naive_is_utc=False) or envelope.sent_at
    if observed_at is None:
        raise ValueError("a level needs observed_at when the delivery carries no signed time")
    on_hand = entry["on_hand"] if "on_hand" in entry else entry["quantity"]
    sequence = entry.get("sequence")
    stock = WarehouseStock(
        sku=str(entry["sku"]),
        warehouse=str(entry.get("warehouse", "")),
        on_hand=int(on_hand),
        backorders=int(entry.get("backorders", entry.get("reserved", 0))),
        observed_at=observed_at,
    )
    # Two levels of one second (signed times are whole seconds) are told apart by arrival.
    return IncomingLevel.of(
        stock,
        None if sequence is None else int(sequence),
        ean=str(entry.get("ean", "")),
        tiebreak=envelope.received_at,
    )


def _shopify_level(
    payload: dict[str, Any], envelope: Envelope, inventory_items: Callable[[], InventoryItems]
) -> list[IncomingLevel]:
    sku, on_hand = inventory_items().inventory_item_at(str(payload["inventory_item_id"]), str(payload["location_id"]))
    if not sku:
        return []
    observed_at = _moment(payload.get("updated_at"), naive_is_utc=False) or envelope.sent_at
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


def _woocommerce_level(payload: dict[str, Any], envelope: Envelope) -> list[IncomingLevel]:
    if not payload.get("manage_stock") or not payload.get("sku") or payload.get("stock_quantity") is None:
        return []
    # WooCommerce builds the body when it delivers, and leaves date_modified as it was when an order
    # takes stock: the delivery's own time orders its stock, never the product's last edit.
    modified = _moment(payload.get("date_modified_gmt"), naive_is_utc=True)
    observed_at = max(filter(None, (modified, envelope.received_at)))
    stock = WarehouseStock(sku=str(payload["sku"]), on_hand=int(payload["stock_quantity"]), observed_at=observed_at)
    return [IncomingLevel.of(stock)]


def _moment(value: object, *, naive_is_utc: bool) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise ValueError(f"time {value} has no UTC offset; send it as 2026-11-21T13:00:00Z or with +01:00")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def stock_handler(
    store: StockStore, pushes: PushRequests, inventory_items: Callable[[Link], InventoryItems]
) -> InboundHandler:
    """Stock mutations from the backoffice: merged only if newer, then pushed to the link's channel."""

    def handle(link: Link, envelope: Envelope, payload: dict[str, Any]) -> str:
        levels = stock_mutations(envelope, payload, lambda: inventory_items(link))
        if not levels:
            return "no stock-managed level in this delivery"
        merges = accept_levels(link, levels, store)
        # Only the mutation that makes a SKU pending asks; the rest of a burst joins its push.
        waiting = [merge.sku for merge in merges if merge.ask]
        if waiting:
            pushes.request(link.link_id, waiting)
        changes = ", ".join(f"{merge.sku}={merge.quantity}" for merge in merges if merge.accepted) or "none"
        stale = sum(merge.stale for merge in merges)
        return f"stock accepted: {changes}" + (f"; {stale} older level(s) ignored" if stale else "")

    return handle
