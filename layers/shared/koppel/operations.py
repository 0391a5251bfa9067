"""What the merchant's staff look at and do, for the CLI and the console alike: one implementation of
each listing and each action, so a page and a command can never tell two stories.

Nothing here knows a system by name; the order retry goes through `wiring.retry_order`, the same
flows, claims and look-ups as the order poller's own runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from koppel.config import Flow, Link
from koppel.ports.orders import OrderRecord, OrderState

if TYPE_CHECKING:
    from koppel.ports.config import ConfigStore, RunOutcome, RunStamps
    from koppel.ports.orders import OrderLinks
    from koppel.ports.stock import StockRecord

# Each dead-letter queue of the stack (template.yaml): its logical id, the queue whose failures it keeps
# ("" for the failure destination of the scheduled functions, whose runs repeat by their schedule), and what.
DEAD_LETTER_QUEUES: dict[str, tuple[str, str, str]] = {
    "events": ("EventDeadLetterQueue", "EventQueue", "webhook deliveries the queue worker failed 5 times"),
    "stock-pushes": ("StockPushDeadLetterQueue", "StockPushQueue", "stock pushes that failed 3 times"),
    "failed-runs": ("FailedRunQueue", "", "scheduled runs that failed after their retries"),
}


# --- links ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinkOverview:
    link: Link
    flows: dict[Flow, bool]
    runs: dict[str, RunOutcome] = field(default_factory=dict)  # job → how its last run ended


def links_overview(config: ConfigStore, runs: RunStamps) -> list[LinkOverview]:
    """Every link with its flows on or off and how each of its scheduled jobs last ended."""
    return [
        LinkOverview(
            link=link, flows={flow: link.flows.enabled(flow) for flow in Flow}, runs=runs.outcomes(link.link_id)
        )
        for link in config.list_links()
    ]


# --- orders -----------------------------------------------------------------------------------------
def needing_attention(config: ConfigStore, orders: OrderLinks, link_id: str = "") -> list[OrderRecord]:
    """Orders that wait for a person or a change (an unknown SKU, a refusal, acceptance), every link or one."""
    links = [config.get_link(link_id)] if link_id else config.list_links()
    return [record for link in links for record in orders.in_state(link.link_id, OrderState.NEEDS_ATTENTION)]


def retry_outcome(before: OrderRecord, after: OrderRecord) -> str:
    """What became of an order a person retried, in words."""
    if before.state not in (OrderState.NEEDS_ATTENTION, OrderState.CLAIMED):
        return f"not waiting ({before.state.value}); nothing retried"
    if after.state in (OrderState.CREATED, OrderState.SHIPPED, OrderState.CLOSED):
        return f"created in the backoffice as {after.backoffice_name or after.backoffice_order_id}"
    if after.state is OrderState.CANCELLED:
        return "cancelled before it was booked; nothing booked"
    if after.state is OrderState.NEEDS_ATTENTION:
        return f"still waiting: {after.reason}"
    return f"{after.state.value}: {after.reason or 'the next order poller run tries it again'}"


# --- stock ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StockLine:
    """One SKU as koppel holds it for a link: what the channel may sell, what it last accepted, per warehouse."""

    sku: str
    sell: int
    on_channel: int | None  # None: never accepted there ("not on the channel")
    warehouses: list[tuple[str, int | None, int | None]]  # (name, on hand, backorders); "" = all warehouses
    as_of: str
    push: str  # pushed / pending / refused: why


def stock_lines(link: Link, records: list[StockRecord]) -> list[StockLine]:
    from koppel.flows.stock import held_quantity, sellable

    lines = []
    for record in records:
        push = "pending" if record.pending else (f"refused: {record.push_error}" if record.push_error else "pushed")
        levels = sorted(record.levels.items())
        lines.append(
            StockLine(
                sku=record.sku,
                sell=sellable(link.stock, held_quantity(link.stock, record)),
                on_channel=record.pushed,
                warehouses=[(name, level.on_hand, level.backorders) for name, level in levels] or [("", None, None)],
                as_of=record.observed_at[:19].replace("T", " ") + (" UTC" if record.observed_at else ""),
                push=push,
            )
        )
    return lines
