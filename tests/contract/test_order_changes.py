"""OrderChanges: a webshop's orders read by when they changed — each once from the beginning, two
changed in one second on both sides of a page boundary both, a later change again with its new
state, one saved late in the cursor's own window not lost, and orders in a state koppel does not
import left out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from contract.harnesses import Harness, SeedLine, ean13

from koppel.connectors.declaration import Capability
from koppel.models import Order, OrderStatus

CAPABILITY = Capability.ORDER_CHANGES

MAX_READS = 100
MUG = SeedLine("MUG-BLUE", ean13(1), "Mug blue", 2, Decimal("12.50"))


class OrderChangesHarness(Harness, Protocol):
    order_page_size: int  # orders per page of the connector's read
    since: datetime  # a first run's look-back, before every order a case adds

    def tick(self, seconds: int = 1) -> None: ...  # the shop's clock moves on; until then changes share a second

    def add_order(self, lines: Sequence[SeedLine]) -> str: ...  # a paid order; its channel order id

    def add_late_order(self, lines: Sequence[SeedLine], seconds_before: int) -> str:
        """An order whose change is stamped `seconds_before` the shop's clock but is seen only now."""
        ...

    def add_unpaid_order(self, lines: Sequence[SeedLine]) -> str: ...  # in a state koppel does not import

    def ship(self, order_id: str) -> None: ...  # the merchant completes it in the shop

    def cancel(self, order_id: str) -> None: ...


def read_on(connector: Any, cursor: str | None, since: datetime) -> tuple[list[Order], str]:
    """Read while the feed says more is waiting: the orders in the order read, and the cursor it ends on."""
    orders: list[Order] = []
    for _ in range(MAX_READS):
        page = connector.order_changes(cursor, since=since)
        orders.extend(page.orders)
        assert page.cursor, "the feed always hands back where to go on"
        cursor = page.cursor
        if not page.more:
            return orders, cursor
    raise AssertionError(f"the feed still had more after {MAX_READS} reads")


def test_from_the_beginning_every_order_comes_once(harness: OrderChangesHarness, connector: Any) -> None:
    placed = []
    for number in range(harness.order_page_size * 2 + 2):
        placed.append(harness.add_order([MUG]))
        if number % 3 == 0:
            harness.tick()

    orders, _ = read_on(connector, None, harness.since)

    ids = [order.channel_order_id for order in orders]
    assert sorted(ids) == sorted(placed)
    assert all(order.updated_at is not None and order.lines for order in orders)


def test_orders_of_one_second_on_both_sides_of_a_page_boundary_both_come(
    harness: OrderChangesHarness, connector: Any
) -> None:
    # GIVEN one more order than a page holds, every one changed in the same second
    placed = [harness.add_order([MUG]) for _ in range(harness.order_page_size + 1)]

    orders, _ = read_on(connector, None, harness.since)

    assert sorted(order.channel_order_id for order in orders) == sorted(placed)


def test_an_order_changed_after_it_was_read_comes_again_with_its_new_state(
    harness: OrderChangesHarness, connector: Any
) -> None:
    shipped, cancelled = harness.add_order([MUG]), harness.add_order([MUG])
    first, cursor = read_on(connector, None, harness.since)
    assert {order.status for order in first} == {OrderStatus.OPEN}

    harness.tick(60)
    harness.ship(shipped)
    harness.cancel(cancelled)
    again, _ = read_on(connector, cursor, harness.since)

    newest = {order.channel_order_id: order for order in again}
    assert newest[shipped].status == OrderStatus.SHIPPED
    assert newest[cancelled].status == OrderStatus.CANCELLED
    assert newest[shipped].updated_at > next(o for o in first if o.channel_order_id == shipped).updated_at


def test_an_order_saved_late_within_the_cursor_s_window_is_not_lost(
    harness: OrderChangesHarness, connector: Any
) -> None:
    harness.add_order([MUG])
    harness.tick(30)
    harness.add_order([MUG])
    _, cursor = read_on(connector, None, harness.since)

    # WHEN an order stamped before the newest one read shows up only now
    late = harness.add_late_order([MUG], seconds_before=20)
    orders, _ = read_on(connector, cursor, harness.since)

    assert late in {order.channel_order_id for order in orders}


def test_orders_in_a_state_not_imported_are_left_out_and_the_feed_moves_on(
    harness: OrderChangesHarness, connector: Any
) -> None:
    unpaid = harness.add_unpaid_order([MUG])
    harness.tick()
    paid = harness.add_order([MUG])

    orders, cursor = read_on(connector, None, harness.since)

    assert [order.channel_order_id for order in orders] == [paid]
    again, _ = read_on(connector, cursor, harness.since)
    assert unpaid not in {order.channel_order_id for order in again}


def test_reading_again_brings_no_order_that_was_not_changed(harness: OrderChangesHarness, connector: Any) -> None:
    placed = {harness.add_order([MUG]) for _ in range(3)}
    _, cursor = read_on(connector, None, harness.since)

    again, kept = read_on(connector, cursor, harness.since)

    # what comes again is the overlap a feed may answer twice, never anything new
    assert {order.channel_order_id for order in again} <= placed
    assert read_on(connector, kept, harness.since)[1] == kept
