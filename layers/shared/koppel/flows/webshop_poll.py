"""Flow: a webshop that sends no order webhooks, polled by when its orders last changed, into the same
booking as a webhook's order (`flows.webshop.WebshopOrders`).

Each order read is kept as the newest state koppel holds and booked, cancelled or left waiting exactly
as if the webshop had sent it, `orders.concurrency` orders of a page side by side: one claim per order,
a create-sent mark, a look-up before any create after a lost answer. The cursor moves only after every
order of a page is kept and handed on, so a run killed mid-page reads the page again (an order kept
already is kept again at the same version and found booked). Reading from a kept cursor overlaps the
last moment read, so an order changed in the cursor's own second is never skipped; reading it again
books nothing twice.

The first poll of a link reads back `orders.look_back_hours`; later ones go on from the cursor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from koppel.connectors.base import OrderChanges
from koppel.errors import RateLimited
from koppel.flows.webshop import WebshopOrders
from koppel.models import Order
from koppel.observability import logger
from koppel.ports.orders import ChangeCursor


def poll_order_changes(
    flow: WebshopOrders,
    source: OrderChanges,
    cursor_store: ChangeCursor,
    *,
    out_of_time: Callable[[], bool] = lambda: False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    max_pages: int = 1000,
) -> str:
    """Read what changed since the link's cursor and hand each order on; the summary, "" when nothing changed."""
    link = flow.link
    cursor = cursor_store.get(link.link_id)
    since = now() - timedelta(hours=link.orders.look_back_hours)
    outcomes: Counter[str] = Counter()
    read = 0
    for _ in range(max_pages):
        if out_of_time():
            outcomes["handed over"] += 1
            break
        try:
            page = source.order_changes(cursor, since=since)
        except RateLimited as exc:
            logger.info("webshop asked to wait while its orders were read", link_id=link.link_id, reason=exc.message)
            outcomes["handed over (the webshop's rate limit)"] += 1
            break
        for state in _hand_on(flow, page.orders):
            read += 1
            outcomes[state] += 1
        if flow.limited:
            # The backoffice asked to wait longer than a run can: the page is read again next time,
            # what was booked of it is found booked then.
            outcomes["handed over (the backoffice's rate limit)"] += 1
            break
        cursor = page.cursor
        cursor_store.set(link.link_id, cursor)
        if not page.more:
            break
    if not read and not outcomes:
        return ""
    states = ", ".join(f"{count} {state}" for state, count in sorted(outcomes.items()))
    return f"{read} changed order(s) read from the webshop: {states}"


def _hand_on(flow: WebshopOrders, orders: Sequence[Order]) -> list[str]:
    """Each order kept and booked, `orders.concurrency` side by side (as marketplace orders are); the
    state each ended in. Once the backoffice asks to wait, the rest of the page is left for the next run."""

    def one(order: Order) -> str | None:
        if flow.limited:
            return None
        flow.order_delivered(order)
        record = flow.orders.get(flow.link.link_id, order.channel_order_id)
        return record.state.value if record is not None else "kept"

    with ThreadPoolExecutor(max_workers=flow.link.orders.concurrency, thread_name_prefix="webshop-order") as pool:
        return [state for state in pool.map(one, orders) if state is not None]
