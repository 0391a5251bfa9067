"""ReturnSink: units coming back from a booked order go back to stock, once per return, found after a lost answer."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

from contract.harnesses import SeedLine, ean13, koppel_order

from koppel.connectors.declaration import Capability
from koppel.errors import TransientConnectorError

CAPABILITY = Capability.RETURN_SINK

MUG = SeedLine("MUG-BLUE", ean13(11), "Mug blue", 3, Decimal("8.50"))
CHANNEL = "shopify"


def booked(harness: Any, connector: Any, order_id: str) -> tuple[Any, Any]:
    variant = harness.add_product(MUG.sku, MUG.ean, MUG.title, MUG.unit_price)
    harness.set_stock(MUG.sku, 10)
    order = koppel_order(CHANNEL, order_id, [(MUG, variant)])
    return order, connector.create_order(order, tag="koppel")


def test_returned_units_go_back_into_stock(harness: Any, connector: Any) -> None:
    order, receipt = booked(harness, connector, "9001")
    assert harness.stock_of(MUG.sku) == 7  # the sale took three out
    line = order.lines[0]
    returned = order.model_copy(update={"lines": (line.model_copy(update={"quantity": 2}),), "shipping_cost": None})
    assert connector.find_return(CHANNEL, "9001", "refund-1") is None

    made = connector.book_return(receipt, returned, return_id="refund-1", whole=False)

    assert harness.stock_of(MUG.sku) == 9
    found = connector.find_return(CHANNEL, "9001", "refund-1")
    assert found is not None and found.backoffice_order_id == made.backoffice_order_id
    assert connector.find_return(CHANNEL, "9001", "refund-2") is None
    # the sale itself is still what the order's reference finds
    sale = connector.find_order(CHANNEL, "9001")
    assert sale is not None and sale.backoffice_order_id == receipt.backoffice_order_id


def test_a_whole_order_cancelled_puts_every_unit_back(harness: Any, connector: Any) -> None:
    order, receipt = booked(harness, connector, "9002")

    connector.book_return(receipt, order, return_id="cancel", whole=True)

    assert harness.stock_of(MUG.sku) == 10
    assert connector.find_return(CHANNEL, "9002", "cancel") is not None


def test_a_return_whose_answer_is_lost_is_found_again(harness: Any, connector: Any) -> None:
    order, receipt = booked(harness, connector, "9003")
    harness.lose_next_order_answer()

    with contextlib.suppress(TransientConnectorError):  # outcome unknown: the flow looks it up first
        connector.book_return(receipt, order, return_id="refund-7", whole=False)

    assert harness.faults_pending() == 0
    assert connector.find_return(CHANNEL, "9003", "refund-7") is not None
    assert harness.stock_of(MUG.sku) == 10
