"""ChannelCancellations: lines cancelled and followed are cancelled on the channel; a buyer's request confirmed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from contract.harnesses import SeedLine, ean13

from koppel.connectors.declaration import Capability
from koppel.models import CancelReason, ProcessState

CAPABILITY = Capability.CHANNEL_CANCELLATIONS

LINES = (
    SeedLine("TSHIRT-RED-M", ean13(1), "T-shirt red M", 2, Decimal("19.95")),
    SeedLine("MUG-BLUE", ean13(2), "Mug blue", 1, Decimal("8.50")),
)


def test_a_cancelled_line_is_cancelled_on_the_channel(harness: Any, connector: Any) -> None:
    order = harness.open_order(LINES)
    first = order.lines[0].line_id

    done = connector.follow(connector.cancel(order, (first,), CancelReason.OUT_OF_STOCK))

    assert done.status is ProcessState.SUCCESS, done.error
    assert harness.cancelled_lines(order.channel_order_id) == {first}


def test_cancelling_without_lines_cancels_every_open_line(harness: Any, connector: Any) -> None:
    order = harness.open_order(LINES)

    done = connector.follow(connector.cancel(order, (), CancelReason.OTHER))

    assert done.status is ProcessState.SUCCESS, done.error
    assert harness.cancelled_lines(order.channel_order_id) == {line.line_id for line in order.lines}


def test_a_buyers_request_is_confirmed(harness: Any, connector: Any) -> None:
    # GIVEN the buyer asked to cancel the mug
    order = harness.open_order(LINES)
    mug = order.lines[1].line_id
    harness.request_cancellation(order.channel_order_id, mug)
    requested = harness.current_order(order.channel_order_id)
    assert requested.cancel_requested_lines == (mug,)

    done = connector.follow(connector.cancel(requested, requested.cancel_requested_lines, CancelReason.BUYER_REQUEST))

    assert done.status is ProcessState.SUCCESS, done.error
    assert harness.cancelled_lines(order.channel_order_id) == {mug}
    assert harness.current_order(order.channel_order_id).cancel_requested_lines == ()
