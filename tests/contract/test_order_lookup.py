"""OrderLookup: an order a webhook names, read as the webshop has it now — the same order the change
feed answers, its later state after a change, nothing for an order in a state koppel does not import,
NotFound for an id the webshop does not have."""

from __future__ import annotations

from typing import Any

import pytest
from contract.test_order_changes import MUG, OrderChangesHarness, read_on

from koppel.connectors.declaration import Capability
from koppel.errors import NotFound
from koppel.models import OrderStatus

CAPABILITY = Capability.ORDER_LOOKUP


def test_a_named_order_is_the_order_the_feed_answers(harness: OrderChangesHarness, connector: Any) -> None:
    order_id = harness.add_order([MUG])
    looked_up = connector.order(order_id)
    fed = {order.channel_order_id: order for order in read_on(connector, None, harness.since)[0]}
    assert looked_up is not None and looked_up == fed[order_id]
    assert [(line.channel_sku, line.quantity) for line in looked_up.lines] == [(MUG.sku, MUG.quantity)]


def test_a_named_order_comes_in_its_state_now(harness: OrderChangesHarness, connector: Any) -> None:
    order_id = harness.add_order([MUG])
    harness.tick()
    harness.cancel(order_id)
    looked_up = connector.order(order_id)
    assert looked_up is not None and looked_up.status is OrderStatus.CANCELLED


def test_an_order_koppel_does_not_import_is_none(harness: OrderChangesHarness, connector: Any) -> None:
    order_id = harness.add_unpaid_order([MUG])
    assert connector.order(order_id) is None


def test_an_order_the_webshop_does_not_have_is_not_found(harness: OrderChangesHarness, connector: Any) -> None:
    harness.add_order([MUG])
    with pytest.raises(NotFound):
        connector.order("987654")
