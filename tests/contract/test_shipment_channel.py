"""ShipmentChannel: a parcel shipped and followed is a shipment on the channel, with the channel's carrier code."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from contract.harnesses import SeedLine, ean13

from koppel.connectors.base import Parcel
from koppel.connectors.declaration import Capability
from koppel.models import ProcessState

CAPABILITY = Capability.SHIPMENT_CHANNEL

LINES = (
    SeedLine("TSHIRT-RED-M", ean13(1), "T-shirt red M", 2, Decimal("19.95")),
    SeedLine("MUG-BLUE", ean13(2), "Mug blue", 1, Decimal("8.50")),
)
CODES = {"postnl": "3SKAAA0001234", "dpd": "05212345678901", None: "XY123456789"}


@pytest.mark.parametrize("carrier", list(CODES), ids=lambda carrier: carrier or "unknown-carrier")
def test_a_shipped_parcel_is_on_the_channel_with_its_carrier(harness: Any, connector: Any, carrier: str | None) -> None:
    # GIVEN an open order, of which the backoffice shipped the first line
    order = harness.open_order(LINES)
    first = order.lines[0].line_id
    parcel = Parcel(line_ids=(first,), tracking_codes=(CODES[carrier],))

    process = connector.ship(order, parcel, carrier)
    done = connector.follow(process)

    # THEN the channel took it, and shows that line shipped with its code for the carrier
    assert done.status is ProcessState.SUCCESS, done.error
    assert harness.shipments_of(order.channel_order_id) == [((first,), harness.carrier_code(carrier), CODES[carrier])]
