"""OrderSource: every open order across pages, each as the canonical Order, buyers' cancellation requests shown."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from contract.harnesses import SeedLine, ean13

from koppel.connectors.declaration import Capability
from koppel.models import Money, OrderStatus

CAPABILITY = Capability.ORDER_SOURCE

SHIRT = SeedLine("TSHIRT-RED-M", ean13(1), "T-shirt red M", 2, Decimal("19.95"))
MUG = SeedLine("MUG-BLUE", ean13(2), "Mug blue", 1, Decimal("8.50"))
MAX_PAGES = 100  # a list that never ends is a defect, not a long wait


def test_every_open_order_is_listed_once_across_pages(harness: Any, connector: Any) -> None:
    # GIVEN more open orders than one page of the channel's list holds
    placed = {harness.add_open_order([MUG]) for _ in range(harness.order_page_size + 3)}

    # WHEN koppel reads the list page by page until the channel says it was the last
    listed: list[str] = []
    page: int | None = 1
    pages = 0
    while page is not None and pages < MAX_PAGES:
        found = connector.list_open_orders(page)
        listed.extend(found.order_ids)
        page, pages = found.next_page, pages + 1

    # THEN it took more than one page, and every order came once
    assert page is None
    assert pages >= 2
    assert sorted(listed) == sorted(placed)


def test_an_order_reads_as_the_canonical_order(harness: Any, connector: Any, system: str) -> None:
    order_id = harness.add_open_order([SHIRT, MUG])

    order = connector.get_order(order_id)

    assert (order.channel, order.channel_order_id, order.status) == (system, order_id, OrderStatus.OPEN)
    assert [line.line_id for line in order.lines] == list(harness.line_ids(order_id))
    assert [(line.channel_sku, line.ean, line.quantity, line.unit_price) for line in order.lines] == [
        ("TSHIRT-RED-M", ean13(1), 2, Money(amount=Decimal("19.95"), currency="EUR")),
        ("MUG-BLUE", ean13(2), 1, Money(amount=Decimal("8.50"), currency="EUR")),
    ]
    assert all(type(line.unit_price.amount) is Decimal for line in order.lines)
    assert order.total.amount - (order.shipping_cost.amount if order.shipping_cost else 0) == Decimal("48.40")
    assert order.cancel_requested_lines == ()


def test_a_buyers_cancellation_request_shows_on_its_line(harness: Any, connector: Any) -> None:
    # GIVEN an open order whose buyer asked to cancel the mug
    order_id = harness.add_open_order([SHIRT, MUG])
    shirt, mug = harness.line_ids(order_id)
    harness.request_cancellation(order_id, mug)

    order = connector.get_order(order_id)

    # THEN only that line is flagged, and the order is still open (nothing is settled yet)
    assert {line.line_id: line.cancel_requested for line in order.lines} == {shirt: False, mug: True}
    assert order.cancel_requested_lines == (mug,)
    assert order.status is OrderStatus.OPEN
