"""Flow: marketplace orders into the backoffice (seed 004, flow 1).

For one link: page through the channel's open orders, and for each order not yet handled
claim it (a conditional write with a lease), map its lines to backoffice variants, create it in
the backoffice and record the backoffice id. An order with an unmapped line waits as
"needs attention" with the reason and is retried on every run until the mapping exists.

No duplicates, whatever happens:
- two runs at once: only one wins the claim; the other skips the order;
- a run delivered twice: the order is already "created", so the claim is refused;
- a crash between "created in the backoffice" and "recorded here": the claim's lease expires,
  the next run takes it over and first looks the order up by its channel reference.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from koppel.config import Link
from koppel.connectors.base import BackofficeOrder, ChannelCancellations, OrderPage, OrderSink, OrderSource
from koppel.errors import (
    ConnectorError,
    NeedsAttention,
    PermanentConnectorError,
    RateLimited,
    StateConflict,
    TransientConnectorError,
)
from koppel.flows.customers import CustomerGate
from koppel.flows.pauses import AccountPauses
from koppel.models import CancelReason, Order, OrderLine, OrderStatus
from koppel.observability import logger
from koppel.ports.orders import Cursors, OrderLinks, OrderRecord, OrderState, SkuMapping, SkuMappings


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)  # found already in the backoffice after a crash
    cancelled: list[str] = field(default_factory=list)  # cancelled on the channel before it was imported
    waiting: dict[str, str] = field(default_factory=dict)  # order id → reason, newly waiting this run
    still_waiting: int = 0  # waiting for the same reason as last run
    would_create: list[str] = field(default_factory=list)  # test mode
    skipped: int = 0  # handled before, or held by another run
    retry_later: dict[str, str] = field(default_factory=dict)
    handed_over: bool = False  # out of time or rate-limited: the next run continues from the cursor
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, counter: str) -> None:
        with self._lock:  # workers report concurrently
            vars(self)[counter] += 1

    def summary(self) -> str:
        parts = [
            f"{len(self.created)} created",
            f"{len(self.recovered)} recovered",
            f"{len(self.waiting) + self.still_waiting} waiting",
            f"{self.skipped} already handled",
        ]
        if self.would_create:
            parts.insert(0, f"test mode: would create {len(self.would_create)}")
        if self.cancelled:
            parts.append(f"{len(self.cancelled)} cancelled on the channel")
        if self.retry_later:
            parts.append(f"{len(self.retry_later)} to retry")
        if self.handed_over:
            parts.append("rest handed over to the next run")
        return ", ".join(parts)


CURSOR = "orders.page"
LEASE_SECONDS = 16 * 60  # longer than a Lambda can run (15 min), so a live run is never overtaken


@dataclass
class Attempt:
    may_exist: bool  # the create may have reached the backoffice (now or in an earlier run)
    accepted: bool = False  # a person accepted the order (links without `orders.auto_accept`)


def may_exist_unseen(link_id: str, order_id: str) -> str:
    return (
        "may already be in the backoffice (its answer was lost) and the backoffice cannot be searched for it: "
        f"check there; if it is missing, `koppel orders {link_id} accept {order_id}` books it"
    )


def awaiting_acceptance(link_id: str, order_id: str) -> str:
    return f"awaiting acceptance: accept it with `koppel orders {link_id} accept {order_id}`"


def hold_or_release(
    orders: OrderLinks, link_id: str, key: str, run_id: str, attempt: Attempt, exc: TransientConnectorError
) -> None:
    """After a transient failure: a create that may have reached the backoffice keeps its claim (when the
    lease runs out the next run takes over and looks it up first, by then visible in search); one
    that never went out is given back at once."""
    if attempt.may_exist:
        orders.note(link_id, key, f"may exist in the backoffice, checked again later: {exc.message}")
    else:
        orders.release(link_id, key, run_id)
        orders.note(link_id, key, f"to retry: {exc.message}")


def refusal(exc: ConnectorError) -> str:
    """A backoffice's lasting refusal as an order's reason to wait."""
    return f"{type(exc).__name__}: {exc.message}"


@dataclass
class OrderImport:
    link: Link
    source: OrderSource
    sink: OrderSink
    orders: OrderLinks
    mappings: SkuMappings
    cursors: Cursors
    run_id: str
    # The channel's name in the backoffice's references (`Account.reference`, else its system), for look-ups.
    channel: str
    # The channel's cancellations, when it has them: lines the buyer asked to cancel before import
    # are cancelled there rather than imported.
    cancellations: ChannelCancellations | None = None
    out_of_time: Callable[[], bool] = lambda: False
    # The backoffice account's pause (a daily quota spent): while it lasts, orders wait unsent.
    pauses: AccountPauses | None = None
    # With `orders.create_customers`: one order at a time may create a given buyer (`flows.customers`).
    customers: CustomerGate | None = None
    # The backoffice can find an order it took by the channel's reference. Off, an order that may be
    # there already is not sent again until a person has checked and accepted it.
    sink_finds_orders: bool = True
    report: ImportReport = field(default_factory=ImportReport)

    def run(self) -> ImportReport:
        """Import every open order, `link.orders.concurrency` at a time, page by page.

        The next page is listed, and its orders queued behind this page's, while this page's orders
        are imported: the workers never stand idle between two pages, so a channel's rate limit, not
        the paging, sets the pace. The cursor still moves a whole page at a time: a run that hands
        over names the first page not finished, and the next run skips what was done on it and after it.
        """
        page = self.cursors.get(self.link.link_id, CURSOR) or 1
        stop = threading.Event()  # set when the run must hand over: the orders queued after it return at once
        with ThreadPoolExecutor(max_workers=self.link.orders.concurrency, thread_name_prefix="order") as pool:
            try:
                listing = self.source.list_open_orders(page)
            except RateLimited:
                return self._hand_over(page)
            running = self._queue_page(pool, stop, listing.order_ids)
            while True:
                following: OrderPage | None = None
                if listing.next_page is not None and not stop.is_set():
                    # Rate-limited: this page's orders still finish, and the next run lists the next page again.
                    with suppress(RateLimited):
                        following = self.source.list_open_orders(listing.next_page)
                queued = self._queue_page(pool, stop, following.order_ids) if following is not None else []
                try:
                    finished = all([future.result() for future in running])
                except BaseException:
                    stop.set()  # a failing run starts no more orders
                    raise
                if not finished:
                    stop.set()
                    return self._hand_over(page)
                if listing.next_page is None:
                    self.cursors.put(self.link.link_id, CURSOR, None)
                    return self.report
                if following is None:
                    return self._hand_over(listing.next_page)
                page, listing, running = listing.next_page, following, queued

    def _queue_page(
        self, pool: ThreadPoolExecutor, stop: threading.Event, order_ids: tuple[str, ...]
    ) -> list[Future[bool]]:
        """One future per order of the page: True when the order was dealt with, False when the run hands over."""

        def one(order_id: str) -> bool:
            if stop.is_set() or self.out_of_time():
                stop.set()
                return False
            try:
                self.import_one(order_id)
            except RateLimited:
                stop.set()  # the channel or backoffice wants a pause longer than this run can wait
                return False
            return True

        return [pool.submit(one, order_id) for order_id in order_ids]

    def _hand_over(self, page: int) -> ImportReport:
        # Orders before this point on the page are done; the next run repeats the page and skips them.
        self.cursors.put(self.link.link_id, CURSOR, page)
        self.report.handed_over = True
        return self.report

    def import_one(self, order_id: str) -> None:
        link_id = self.link.link_id
        record = self.orders.get(link_id, order_id)
        if record is not None and record.state not in (OrderState.CLAIMED, OrderState.NEEDS_ATTENTION):
            self.report.count("skipped")
            return
        if self.link.dry_run:
            self._rehearse(order_id)
            return
        claim = self.orders.claim(link_id, order_id, self.run_id, LEASE_SECONDS)
        if claim is None:
            self.report.count("skipped")
            return
        attempt = Attempt(may_exist=claim.may_exist, accepted=record is not None and record.accepted)
        try:
            if self.pauses is not None:
                self.pauses.check()
            self._create(order_id, attempt)
        except NeedsAttention as exc:
            self.orders.mark_needs_attention(link_id, order_id, self.run_id, exc.message)
            if record is not None and record.reason == exc.message:
                self.report.count("still_waiting")
            else:
                self.report.waiting[order_id] = exc.message
        except TransientConnectorError as exc:
            self.report.retry_later[order_id] = exc.message
            hold_or_release(self.orders, link_id, order_id, self.run_id, attempt, exc)
            if isinstance(exc, RateLimited):
                if self.pauses is not None:
                    self.pauses.after(exc)
                raise
        except ConnectorError as exc:
            reason = refusal(exc)
            self.orders.mark_needs_attention(link_id, order_id, self.run_id, reason)
            self.report.waiting[order_id] = reason

    def _create(self, order_id: str, attempt: Attempt) -> None:
        if attempt.may_exist:
            # Looked up before anything else can fail: a known order must never wait or be made twice.
            existing = self.sink.find_order(self.channel, order_id)
            if existing is not None:
                self._record_created(order_id, existing, recovered=True)
                return
            if not self.sink_finds_orders and not attempt.accepted:
                raise NeedsAttention(may_exist_unseen(self.link.link_id, order_id), order_id=order_id)
        order = self.source.get_order(order_id)
        if order.status is not OrderStatus.CANCELLED:
            order = self._honour_cancellation_requests(order)
        if order.status is OrderStatus.CANCELLED:
            self.orders.mark_cancelled(self.link.link_id, order_id, self.run_id, "cancelled on the channel")
            self.report.cancelled.append(order_id)
            return
        if not self.link.orders.auto_accept and not attempt.accepted:
            raise NeedsAttention(awaiting_acceptance(self.link.link_id, order_id), order_id=order_id)
        mapped = self.for_backoffice(order)
        create_customer = self.link.orders.create_customers
        with self._customer(mapped, create_customer):
            self.orders.mark_create_sent(self.link.link_id, order_id, self.run_id)
            attempt.may_exist = True  # from here on, whatever happens, the order may exist
            created = self.sink.create_order(mapped, tag=self.link.orders.tag, create_customer=create_customer)
        self._record_created(order_id, created, recovered=False)

    def _customer(self, order: Order, create_customer: bool) -> AbstractContextManager[None]:
        if self.customers is None or not create_customer:
            return nullcontext()
        return self.customers.creating(order, holder=f"{self.link.link_id}/{order.channel_order_id}/{self.run_id}")

    def _honour_cancellation_requests(self, order: Order) -> Order:
        """Lines the buyer asked to cancel before import are cancelled on the channel, not imported."""
        requested = set(order.cancel_requested_lines)
        if self.cancellations is None or not requested:
            return order
        channel = self.cancellations
        process = channel.follow(channel.cancel(order, tuple(sorted(requested)), CancelReason.BUYER_REQUEST))
        if not process.status.accepted:
            raise PermanentConnectorError(f"the buyer asked to cancel, but the channel refused: {process.error}")
        remaining = tuple(line for line in order.lines if line.line_id not in requested)
        if not remaining:
            return order.model_copy(update={"status": OrderStatus.CANCELLED})
        return order.model_copy(update={"lines": remaining})

    def _record_created(self, order_id: str, created: BackofficeOrder, *, recovered: bool) -> None:
        try:
            self.orders.mark_created(self.link.link_id, order_id, self.run_id, created)
        except StateConflict:
            # Our lease ran out mid-way and another run took over; it looks this order up first.
            logger.warning("order claim lost while creating", link_id=self.link.link_id, order_id=order_id)
            self.report.retry_later[order_id] = "claim lost while creating; the next run confirms it"
            return
        (self.report.recovered if recovered else self.report.created).append(order_id)
        logger.info(
            "order imported",
            link_id=self.link.link_id,
            order_id=order_id,
            backoffice_order_id=created.backoffice_order_id,
            recovered=recovered,
        )

    def for_backoffice(self, order: Order, *, store: bool = True) -> Order:
        """The order as the backoffice books it: lines mapped, the link's payment method and place filled in.

        NeedsAttention when a line has no backoffice product, or when the order's lines and shipping do
        not come to the total the channel charged (koppel books no order for another amount)."""
        if order.channel_total is not None and order.channel_total.amount != order.total.amount:
            raise NeedsAttention(
                f"the order's lines and shipping come to {order.total.amount}, the channel charged "
                f"{order.channel_total.amount}: koppel books no order at another amount"
            )
        settings = self.link.orders
        methods = {name.casefold(): method for name, method in settings.payment_methods.items()}
        method = methods.get(order.payment_method.casefold(), settings.default_payment_method)
        mapped = self.map_lines(order, store=store)
        # The order goes under the name the backoffice's references know this channel by (`Account.reference`).
        return mapped.model_copy(
            update={"backoffice_payment_method": method, "book_at": settings.point_of_sale, "channel": self.channel}
        )

    def _rehearse(self, order_id: str) -> None:
        order = self.source.get_order(order_id)
        try:
            self.for_backoffice(order, store=False)
        except NeedsAttention as exc:
            self.report.waiting[order_id] = exc.message
            return
        self.report.would_create.append(order_id)

    def map_lines(self, order: Order, *, store: bool) -> Order:
        """The order with every line's backoffice variant filled in, or NeedsAttention naming what is missing."""
        lines: list[OrderLine] = []
        missing: list[str] = []
        for line in order.lines:
            variant_id = self._variant_for(line, store=store)
            if variant_id is None:
                missing.append(
                    line.channel_sku + (f" (EAN {line.ean})" if line.ean and line.ean != line.channel_sku else "")
                )
                continue
            vat = line.vat_rate if line.vat_rate is not None else self.link.orders.default_vat_rate
            lines.append(line.model_copy(update={"backoffice_variant_id": variant_id, "vat_rate": vat}))
        if missing:
            raise NeedsAttention(f"no backoffice product for {', '.join(missing)}; add a mapping to import it")
        return order.model_copy(update={"lines": tuple(lines)})

    def _variant_for(self, line: OrderLine, *, store: bool) -> str | None:
        link_id = self.link.link_id
        for key in dict.fromkeys(k for k in (line.channel_sku, line.ean) if k):
            mapping = self.mappings.get(link_id, key)
            if mapping is not None:
                return mapping.variant_id
        if not self.link.orders.auto_map_by_sku:
            return None
        variant = self.sink.find_variant(line.channel_sku, line.ean)
        if variant is None:
            return None
        if store:
            self.mappings.put(
                link_id, SkuMapping(channel_sku=line.channel_sku, variant_id=variant.variant_id, source="auto")
            )
        return variant.variant_id


def waiting_too_long(orders: OrderLinks, link: Link, now: datetime) -> list[OrderRecord]:
    """The link's orders that have waited (needs attention) longer than its `orders.alert_after_minutes`,
    counted from when each first waited, however often it was tried since."""
    limit = timedelta(minutes=link.orders.alert_after_minutes)
    late = []
    for record in orders.in_state(link.link_id, OrderState.NEEDS_ATTENTION):
        if not record.waiting_since:
            continue
        since = datetime.fromisoformat(record.waiting_since)
        if now - (since if since.tzinfo else since.replace(tzinfo=UTC)) > limit:
            late.append(record)
    return late
