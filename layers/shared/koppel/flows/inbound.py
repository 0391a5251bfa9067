"""Flow: process one queued webhook delivery for every link it concerns.

The topic decides which flow a delivery feeds; each link that involves the sending account and
has that flow switched on gets it. Every delivery leaves a trace in the activity log, including
the ones no link wants, so an operator can always see what arrived and what became of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from pydantic import ValidationError

from koppel.config import Flow, Link
from koppel.errors import BadRequest
from koppel.flows.stock import accept_levels
from koppel.ports.config import ActivityLog, ConfigStore, ParkedDeliveries
from koppel.ports.stock import IncomingLevel, PushRequests, StockStore
from koppel.queue import Envelope

# Resource part of a topic → flow, whether the sender writes "orders/create", "order.created" or
# koppel's own "stock.changed".
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


# A product change carries its stock too (some webshops send no separate stock webhook).
_ALSO_STOCK = frozenset({Flow.PRODUCTS})


def flow_for_topic(topic: str) -> Flow | None:
    resource = topic.replace(".", "/").split("/", 1)[0].strip().lower()
    return _RESOURCE_FLOWS.get(resource)


def flows_for_topic(topic: str) -> tuple[Flow, ...]:
    flow = flow_for_topic(topic)
    if flow is None:
        return ()
    return (Flow.STOCK, flow) if flow in _ALSO_STOCK else (flow,)


class Unhandled(Exception):
    """The flow's handler has nothing to read this delivery with (its sender's system declares no
    parser for it): the delivery is parked, kept whole and replayable, rather than dropped."""


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
    try:
        summary = handler(link, envelope, payload)
    except Unhandled as exc:
        parked.park(link.link_id, envelope, str(exc))
        activity.record(link.link_id, "webhook.parked", str(exc), event_id=envelope.event_id)
        return 0
    activity.record(link.link_id, f"{flow.value}.webhook", summary, event_id=envelope.event_id)
    return 1


# --- stock ---------------------------------------------------------------------------------------
class StockReader(Protocol):
    """The stock levels a delivery reports, read by the sending system's own parser (its declaration)."""

    def __call__(self, link: Link, envelope: Envelope, payload: dict[str, Any]) -> list[IncomingLevel]: ...


def stock_handler(store: StockStore, pushes: PushRequests, read_levels: StockReader) -> InboundHandler:
    """Stock mutations from the backoffice: merged only if newer, then pushed to the link's channel."""

    def handle(link: Link, envelope: Envelope, payload: dict[str, Any]) -> str:
        try:
            levels = read_levels(link, envelope, payload)
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            raise BadRequest(f"stock payload: {type(exc).__name__}: {exc}") from exc
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
