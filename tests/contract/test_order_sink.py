"""OrderSink: finds before it creates, creates once when the answer is lost, maps SKUs and barcodes to variants."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from contract.harnesses import SeedLine, ean13, koppel_order

from koppel.connectors.declaration import Capability
from koppel.errors import TransientConnectorError

CAPABILITY = Capability.ORDER_SINK

SHIRT = SeedLine("TSHIRT-RED-M", ean13(1), "T-shirt red M", 2, Decimal("19.95"))
CHANNEL = "bol"


def test_find_order_returns_the_order_created_for_that_channel_reference(harness: Any, connector: Any) -> None:
    variant = harness.add_product(SHIRT.sku, SHIRT.ean, SHIRT.title, SHIRT.unit_price)
    order = koppel_order(CHANNEL, "5000000001", [(SHIRT, variant)])
    # GIVEN nothing was created for this reference yet
    assert connector.find_order(CHANNEL, "5000000001") is None

    created = connector.create_order(order, tag="koppel")

    # THEN the backoffice holds it with its line, and the reference finds exactly that order
    assert harness.orders_for(CHANNEL, "5000000001") == [created.backoffice_order_id]
    assert harness.order_lines(created.backoffice_order_id) == [(SHIRT.sku, 2)]
    found = connector.find_order(CHANNEL, "5000000001")
    assert found is not None and found.backoffice_order_id == created.backoffice_order_id
    # a neighbouring reference, or the same number from another channel, is another order
    assert connector.find_order(CHANNEL, "500000000") is None
    assert connector.find_order("amazon", "5000000001") is None


def test_an_order_whose_answer_is_lost_is_created_once(harness: Any, connector: Any) -> None:
    variant = harness.add_product(SHIRT.sku, SHIRT.ean, SHIRT.title, SHIRT.unit_price)
    order = koppel_order(CHANNEL, "5000000002", [(SHIRT, variant)])
    # GIVEN the backoffice will commit the next order and then lose its answer
    harness.lose_next_order_answer()

    try:
        created = connector.create_order(order, tag="koppel")
    except TransientConnectorError:
        created = None  # "outcome unknown": the next run looks before it creates

    # THEN the answer was indeed lost, the next look finds the order, and the backoffice holds one
    assert harness.faults_pending() == 0
    found = connector.find_order(CHANNEL, "5000000002")
    assert found is not None
    assert harness.orders_for(CHANNEL, "5000000002") == [found.backoffice_order_id]
    if created is not None:
        assert created.backoffice_order_id == found.backoffice_order_id


def test_an_unknown_sku_has_no_variant(harness: Any, connector: Any) -> None:
    harness.add_product(SHIRT.sku, SHIRT.ean, SHIRT.title, SHIRT.unit_price)

    assert connector.find_variant("NO-SUCH-SKU") is None
    assert connector.find_variant("NO-SUCH-SKU", ean13(999)) is None


@pytest.mark.parametrize(("sku", "ean"), [(SHIRT.sku, ""), ("CHANNEL-OWN-REF", SHIRT.ean)], ids=["sku", "barcode"])
def test_a_known_sku_or_barcode_finds_its_variant(harness: Any, connector: Any, sku: str, ean: str) -> None:
    variant_id = harness.add_product(SHIRT.sku, SHIRT.ean, SHIRT.title, SHIRT.unit_price)

    variant = connector.find_variant(sku, ean)

    assert variant is not None
    assert (variant.variant_id, variant.sku, variant.barcode) == (variant_id, SHIRT.sku, SHIRT.ean)
