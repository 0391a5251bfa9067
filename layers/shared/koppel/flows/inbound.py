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
from koppel.models import StockLevel
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


def flow_for_topic(topic: str) -> Flow | None:
    resource = topic.replace(".", "/").split("/", 1)[0].strip().lower()
    return _RESOURCE_FLOWS.get(resource)


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
        role = "channel" if envelope.account_id == link.channel else "backoffice"
        if role not in FLOW_SOURCES[flow]:
            # e.g. a backoffice's own order webhooks: its orders are not this link's to import.
            activity.record(
                link.link_id,
                "webhook.not_for_link",
                f"{envelope.topic} from the {role} feeds no flow of this link",
                event_id=envelope.event_id,
            )
            continue
        if not link.flows.enabled(flow):
            activity.record(
                link.link_id,
                "webhook.skipped",
                f"{flow.value} is switched off for this link",
                event_id=envelope.event_id,
            )
            continue
        handler = handlers.get(flow)
        if handler is None:
            # Acknowledged to the sender, so it must not vanish: kept whole, listed, replayable.
            reason = f"{envelope.topic} from {envelope.system} has no {flow.value} handler yet"
            parked.park(link.link_id, envelope, reason)
            activity.record(link.link_id, "webhook.parked", reason, event_id=envelope.event_id)
            continue
        summary = handler(link, envelope, payload)
        activity.record(link.link_id, f"{flow.value}.webhook", summary, event_id=envelope.event_id)
        acted += 1
    return acted


# --- stock ---------------------------------------------------------------------------------------
class StockLedger(Protocol):
    def advance(self, link_id: str, sku: str, quantity: int, observed_at: datetime) -> bool: ...


def stock_levels(payload: dict[str, Any], sent_at: datetime) -> list[StockLevel]:
    """koppel's stock payload: {"sku", "quantity", "observed_at"} or {"levels": [ ... ]}.

    Without `observed_at` a level counts as observed when the sender signed the delivery, never
    when koppel received it: a late replay must not look newer than it is.
    """
    entries = payload.get("levels", [payload])
    try:
        return [
            StockLevel(
                sku=str(entry["sku"]),
                quantity=int(entry["quantity"]),
                observed_at=_aware(entry.get("observed_at")) or sent_at,
                warehouse=str(entry.get("warehouse", "")),
            )
            for entry in entries
        ]
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise BadRequest(f"stock payload needs sku, quantity and observed_at: {exc}") from exc


def _aware(value: object) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def stock_handler(ledger: StockLedger) -> Callable[[Link, Envelope, dict[str, Any]], str]:
    """Stock mutations from the backoffice: accepted only if newer than what koppel already has."""

    def handle(link: Link, envelope: Envelope, payload: dict[str, Any]) -> str:
        if envelope.account_id != link.backoffice:
            return "stock reported by the channel is not authoritative; ignored"
        if envelope.sent_at is None and any("observed_at" not in entry for entry in payload.get("levels", [payload])):
            raise BadRequest("stock levels need observed_at when the delivery carries no signed time")
        levels = stock_levels(payload, envelope.sent_at or envelope.received_at)
        advanced = [
            level for level in levels if ledger.advance(link.link_id, level.sku, level.quantity, level.observed_at)
        ]
        stale = len(levels) - len(advanced)
        changes = ", ".join(f"{level.sku}={level.quantity}" for level in advanced) or "none"
        return f"stock accepted: {changes}" + (f"; {stale} older level(s) ignored" if stale else "")

    return handle
