"""ProgressSource: an order koppel created reports not done, shipped with its code, or cancelled with why."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from contract.harnesses import SeedLine, ean13

from koppel.connectors.declaration import Capability
from koppel.models import CancelReason

CAPABILITY = Capability.PROGRESS_SOURCE

LINES = (
    SeedLine("TSHIRT-RED-M", ean13(1), "T-shirt red M", 2, Decimal("19.95")),
    SeedLine("MUG-BLUE", ean13(2), "Mug blue", 1, Decimal("8.50")),
)
POSTNL_CODE = "3SKAAA0001234"


def test_an_unfulfilled_order_is_not_completed(harness: Any, connector: Any) -> None:
    order_id, _ = harness.add_imported_order(LINES)

    progress = connector.order_progress(order_id)

    assert (progress.completed, progress.cancelled, progress.parcels) == (False, False, ())


def test_a_fulfilled_order_reports_its_parcel_with_the_code(harness: Any, connector: Any) -> None:
    order_id, line_ids = harness.add_imported_order(LINES)
    harness.fulfil(order_id, POSTNL_CODE, "PostNL")

    progress = connector.order_progress(order_id)

    assert progress.completed and not progress.cancelled
    assert len(progress.parcels) == 1
    (parcel,) = progress.parcels
    assert sorted(parcel.line_ids) == sorted(line_ids)
    assert parcel.tracking_codes == (POSTNL_CODE,)
    assert parcel.company == "PostNL"


@pytest.mark.parametrize("reason", list(CancelReason))
def test_a_cancelled_order_reports_why_in_koppels_words(harness: Any, connector: Any, reason: CancelReason) -> None:
    order_id, _ = harness.add_imported_order(LINES)
    harness.cancel_as_merchant(order_id, reason)

    progress = connector.order_progress(order_id)

    assert progress.cancelled and not progress.completed
    assert isinstance(progress.cancel_reason, CancelReason)
    assert progress.cancel_reason is reason


def test_cancelling_through_koppel_cancels_in_the_backoffice(harness: Any, connector: Any) -> None:
    order_id, _ = harness.add_imported_order(LINES)

    connector.cancel_order(order_id, CancelReason.OUT_OF_STOCK)

    assert harness.is_cancelled(order_id)
    progress = connector.order_progress(order_id)
    assert progress.cancelled and progress.cancel_reason is CancelReason.OUT_OF_STOCK
