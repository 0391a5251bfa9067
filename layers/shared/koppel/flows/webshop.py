"""Flow: a webshop's own orders into the backoffice (flow 7), its refunds and cancellations back into
the backoffice's stock (flow 3), from the webshop's webhooks.

A webshop's order webhook carries the whole order as it is now, so nothing is polled: the order is
kept (a newer state is never replaced by an older one, whatever order the deliveries come in) and
handed to the same import as marketplace orders (`flows.orders.OrderImport`) with the kept copy as
its source: one claim per order, a sticky "create sent" mark, a look-up before every create after a
lost answer. An unknown SKU waits as "needs attention" and the order poller tries it again on every
run, so it goes through by itself once the mapping exists.

Units coming back are booked once per key on the same machine: `{order}/refund/{refund id}` for a
refund's restocked lines, `{order}/cancel` for the rest of a booked order that is cancelled. What
one booking put back is never put back again by another (a cancellation with restock also comes as
a refund of the same units). A refund for an order not booked yet waits and is tried again; a refund
that restocks nothing books nothing and says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from koppel.config import Link
from koppel.connectors.base import BackofficeOrder, OrderLookup, OrderPage, ReturnSink
from koppel.errors import (
    ConnectorError,
    NeedsAttention,
    NotFound,
    RateLimited,
    StateConflict,
    TransientConnectorError,
)
from koppel.flows.orders import LEASE_SECONDS, Attempt, OrderImport, hold_or_release, refusal
from koppel.models import Money, Order, OrderLine, OrderStatus, Return
from koppel.observability import logger
from koppel.ports.orders import OrderLinks, OrderRecord, OrderState

BOOKED = frozenset({OrderState.CREATED, OrderState.SHIPPED, OrderState.CLOSED})
WAITING = (OrderState.NEEDS_ATTENTION, OrderState.CLAIMED)  # what `retry_waiting` tries again
CENT = Decimal("0.01")
CANCEL = "cancel"


def refund_key(order_id: str, refund_id: str) -> str:
    return f"{order_id}/refund/{refund_id}"


def cancel_key(order_id: str) -> str:
    return f"{order_id}/{CANCEL}"


class KeptOrders:
    """`OrderSource` over the orders a webshop delivered: nothing to list, each order as last kept."""

    def __init__(self, orders: OrderLinks, link_id: str) -> None:
        self.orders = orders
        self.link_id = link_id

    def list_open_orders(self, page: int) -> OrderPage:
        return OrderPage(order_ids=(), next_page=None)

    def get_order(self, channel_order_id: str) -> Order:
        kept = self.orders.kept(self.link_id, channel_order_id)
        if not kept:
            raise NotFound(f"koppel holds no delivery of order {channel_order_id}", order_id=channel_order_id)
        return Order.model_validate_json(kept)


@dataclass
class WebshopOrders:
    link: Link
    importer: OrderImport  # its source is `KeptOrders`
    returns: ReturnSink | None  # None: the backoffice books nothing back (the flow says so)
    orders: OrderLinks
    run_id: str
    limited: bool = False  # the backoffice asked to wait longer than a run can: the rest waits too

    @property
    def link_id(self) -> str:
        return self.link.link_id

    # --- orders -----------------------------------------------------------------------------------
    def order_delivered(self, order: Order) -> str:
        """The webshop says this is the order now: keep it, then book it or its cancellation."""
        order_id = order.channel_order_id
        version = (order.updated_at or order.placed_at).isoformat()
        if not self.orders.keep(self.link_id, order_id, order.model_dump_json(), version):
            return f"order {_named(order)}: koppel holds a newer state of it; this older one changes nothing"
        return self.book_order(order_id)

    def orders_named(self, order_ids: Iterable[str], lookup: OrderLookup) -> str:
        """A webhook that only names the orders that changed: each read from the webshop as it is now,
        then kept and booked as if delivered whole. Nothing of the webhook's body but the ids is used."""
        outcomes = []
        for order_id in order_ids:
            try:
                order = lookup.order(order_id)
            except NotFound:
                outcomes.append(f"order {order_id}: the webshop has no such order; nothing booked")
                continue
            if order is None:
                outcomes.append(f"order {order_id} is in a state koppel does not import; it comes when it changes")
                continue
            outcomes.append(self.order_delivered(order))
            if self.limited:
                break
        return "; ".join(outcomes) or "the webhook named no order"

    def book_order(self, order_id: str) -> str:
        order = self.importer.source.get_order(order_id)
        record = self.orders.get(self.link_id, order_id)
        if record is not None and record.state in BOOKED:
            if order.status is OrderStatus.CANCELLED:
                return self._cancel(order, record)
            return f"order {_named(order)} is booked as {_booked_as(record)}; nothing to change"
        if record is not None and record.state is OrderState.CANCELLED:
            return f"order {_named(order)} was cancelled before it was booked; nothing booked"
        report = self.importer.report
        try:
            self.importer.import_one(order_id)
        except RateLimited as exc:
            # Held or released with the reason; the order poller tries it again (a daily quota:
            # until it renews). The delivery itself is done.
            self.limited = True
            return f"order {_named(order)} waits for the backoffice's rate limit: {exc.message}"
        if order_id in report.created or order_id in report.recovered:
            record = self.orders.get(self.link_id, order_id)
            if order.status is OrderStatus.CANCELLED and record is not None and record.state in BOOKED:
                # Found booked after a lost answer, and cancelled since: the cancellation follows at once.
                return self._cancel(order, record)
            return f"order {_named(order)} booked as {_booked_as(record)}"
        if order_id in report.cancelled:
            return f"order {_named(order)} was cancelled before it was booked; nothing booked"
        if order_id in report.waiting:
            return f"order {_named(order)} waits: {report.waiting[order_id]}"
        if order_id in report.retry_later:
            return f"order {_named(order)} to retry: {report.retry_later[order_id]}"
        if order_id in report.would_create:
            return f"test mode: order {_named(order)} would be booked"
        record = self.orders.get(self.link_id, order_id)
        state = record.state.value if record is not None else "unknown"
        return f"order {_named(order)} is {state}" + (f": {record.reason}" if record and record.reason else "")

    def _cancel(self, order: Order, record: OrderRecord) -> str:
        """A booked order cancelled on the webshop: the units not put back yet go back, once."""
        order_id = order.channel_order_id
        back = self._put_back(order_id, but=cancel_key(order_id))
        lines = tuple(
            _share(line, line.quantity - back[line.line_id])
            for line in order.lines
            if line.quantity > back[line.line_id]
        )
        whole = not back
        returned = order.model_copy(
            update={"lines": lines, "shipping_cost": order.shipping_cost if whole else None, "channel_total": None}
        )
        return self._book_back(order, record, cancel_key(order_id), CANCEL, returned, whole=whole, what="cancellation")

    # --- returns ----------------------------------------------------------------------------------
    def return_delivered(self, refund: Return) -> str:
        key = refund_key(refund.order_reference, refund.source_id)
        self.orders.keep(self.link_id, key, refund.model_dump_json(), "0")  # a refund never changes
        return self.book_return(key)

    def book_return(self, key: str) -> str:
        kept = self.orders.kept(self.link_id, key)
        if not kept:
            return f"koppel holds no refund {key}"
        refund = Return.model_validate_json(kept)
        order_id = refund.order_reference
        what = f"refund {refund.source_id} of order {order_id}"
        restocked = refund.restocked
        if not restocked:
            return f"{what}: no line goes back to stock, so nothing is booked in the backoffice"
        record = self.orders.get(self.link_id, order_id)
        order_copy = self.orders.kept(self.link_id, order_id)
        if record is None or record.state not in BOOKED or not order_copy:
            if record is not None and record.state is OrderState.CANCELLED:
                return f"{what}: the order was never booked (cancelled first), so nothing goes back"
            return self._wait(key, f"{what} waits until the order is booked in the backoffice")
        order = Order.model_validate_json(order_copy)
        lines, unknown = self._returned_lines(order, restocked, but=key)
        if unknown:
            return self._wait(key, f"{what}: the order has no line {', '.join(unknown)}")
        if not lines:
            return f"{what}: its units are already back in stock (booked earlier); nothing more booked"
        returned = order.model_copy(update={"lines": tuple(lines), "shipping_cost": None, "channel_total": None})
        return self._book_back(order, record, key, refund.source_id, returned, whole=False, what=what)

    def _returned_lines(self, order: Order, restocked: Iterable, *, but: str) -> tuple[list[OrderLine], list[str]]:
        by_id = {line.line_id: line for line in order.lines}
        by_sku = {line.channel_sku: line for line in order.lines if line.channel_sku}
        back = self._put_back(order.channel_order_id, but=but)
        wanted: Counter[str] = Counter()
        unknown: list[str] = []
        for entry in restocked:
            line = by_id.get(entry.line_id) or by_sku.get(entry.sku)
            if line is None:
                unknown.append(entry.line_id or entry.sku)
                continue
            wanted[line.line_id] += entry.quantity
        lines = []
        for line_id, quantity in wanted.items():
            line = by_id[line_id]
            left = min(quantity, line.quantity - back[line_id])
            if left > 0:
                lines.append(_share(line, left))
        return lines, unknown

    def _put_back(self, order_id: str, *, but: str) -> Counter[str]:
        """Units per order line that other bookings (refunds, the cancellation) have put back or may have."""
        back: Counter[str] = Counter()
        for record, units in self.orders.booked_back(self.link_id, f"{order_id}/"):
            if record.channel_order_id == but or record.state not in BOOKED | {OrderState.CLAIMED}:
                continue
            back.update(units)
        return back

    def _book_back(
        self,
        order: Order,
        record: OrderRecord,
        key: str,
        return_id: str,
        returned: Order,
        *,
        whole: bool,
        what: str,
    ) -> str:
        if not returned.lines:
            return f"{what} of order {_named(order)}: every unit is back in stock already; nothing more booked"
        if self.returns is None:
            return f"{what}: the backoffice books no returns, so nothing goes back to its stock"
        if self.link.dry_run:
            return f"test mode: {what} would put back {_units(returned.lines)}"
        existing = self.orders.get(self.link_id, key)
        if existing is not None and existing.state in BOOKED:
            return f"{what} is booked already as {_booked_as(existing)}"
        claim = self.orders.claim(self.link_id, key, self.run_id, LEASE_SECONDS)
        if claim is None:
            return f"{what} is being booked by another run"
        booked = BackofficeOrder(record.backoffice_order_id, record.backoffice_name)
        attempt = Attempt(may_exist=claim.may_exist)
        try:
            if self.importer.pauses is not None:
                self.importer.pauses.check()
            mapped = self.importer.for_backoffice(returned)
            made = (
                self.returns.find_return(order.channel, order.channel_order_id, return_id)
                if attempt.may_exist
                else None
            )
            if made is None:
                # What this booking puts back, remembered before it goes out, so no other booking repeats it.
                units = Counter({line.line_id: line.quantity for line in returned.lines})
                self.orders.note_booked_back(self.link_id, key, dict(units))
                self.orders.mark_create_sent(self.link_id, key, self.run_id)
                attempt.may_exist = True
                made = self.returns.book_return(booked, mapped, return_id=return_id, whole=whole)
        except NeedsAttention as exc:
            self.orders.mark_needs_attention(self.link_id, key, self.run_id, exc.message)
            return f"{what} waits: {exc.message}"
        except TransientConnectorError as exc:
            hold_or_release(self.orders, self.link_id, key, self.run_id, attempt, exc)
            if isinstance(exc, RateLimited):
                if self.importer.pauses is not None:
                    self.importer.pauses.after(exc)
                raise
            return f"{what} to retry: {exc.message}"
        except ConnectorError as exc:
            reason = refusal(exc)
            self.orders.mark_needs_attention(self.link_id, key, self.run_id, reason)
            return f"{what} waits: {reason}"
        try:
            self.orders.mark_created(self.link_id, key, self.run_id, made)
        except StateConflict:
            return f"{what}: claim lost while booking; the next run confirms it"
        logger.info("returned units booked", link_id=self.link_id, key=key, backoffice_id=made.backoffice_order_id)
        return f"{what} put back {_units(returned.lines)}, booked as {made.name or made.backoffice_order_id}"

    def _wait(self, key: str, reason: str) -> str:
        claim = self.orders.claim(self.link_id, key, self.run_id, LEASE_SECONDS)
        if claim is not None:
            self.orders.mark_needs_attention(self.link_id, key, self.run_id, reason)
        return reason

    # --- the poller's part ------------------------------------------------------------------------
    def retry_one(self, key: str) -> str:
        """One waiting order or refund tried again (the poller's retries, a person's retry): what became of it."""
        if "/refund/" in key:
            return self.book_return(key)  # a refund's record always holds its delivery
        return self.book_order(key.removesuffix(f"/{CANCEL}"))

    def retry_waiting(self, out_of_time: Callable[[], bool] = lambda: False) -> str:
        """Orders and refunds that wait (an unknown SKU, an order not booked yet, a lost answer):
        tried again, orders first so their refunds find them booked."""
        waiting = [record for state in WAITING for record in self.orders.in_state(self.link_id, state)]
        waiting.sort(key=lambda record: "/" in record.channel_order_id)
        outcomes: Counter[str] = Counter()
        for record in waiting:
            if out_of_time():
                outcomes["handed over"] += 1
                continue
            key = record.channel_order_id
            try:
                self.retry_one(key)
            except NotFound:
                continue  # a marketplace order of an earlier set-up, never delivered here
            except RateLimited:
                self.limited = True
            if self.limited:
                outcomes["handed over (rate-limited)"] += 1
                break
            now = self.orders.get(self.link_id, key)
            outcomes[now.state.value if now else "unknown"] += 1
        if not waiting:
            return "nothing waiting"
        return "retried " + ", ".join(f"{count} {state}" for state, count in sorted(outcomes.items()))


def _share(line: OrderLine, quantity: int) -> OrderLine:
    """`quantity` of the line's units with their share of what the line cost, to the cent."""
    if quantity == line.quantity:
        return line
    share = (line.total.amount * quantity / line.quantity).quantize(CENT)
    unit = (share / quantity).quantize(CENT, rounding=ROUND_CEILING)
    rest = unit * quantity - share
    currency = line.unit_price.currency
    return line.model_copy(
        update={
            "quantity": quantity,
            "unit_price": Money(amount=unit, currency=currency),
            "discount": Money(amount=rest, currency=currency) if rest else None,
        }
    )


def _named(order: Order) -> str:
    return f"{order.name} ({order.channel_order_id})" if order.name else order.channel_order_id


def _booked_as(record: OrderRecord | None) -> str:
    if record is None:
        return "unknown"
    return record.backoffice_name or record.backoffice_order_id


def _units(lines: Iterable[OrderLine]) -> str:
    return ", ".join(f"{line.quantity} x {line.channel_sku or line.line_id}" for line in lines)
