"""What happened to an order in Shopify (fulfilments, tracking, cancellation), and cancelling it there."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from koppel.connectors.base import Parcel, ProgressSource
from koppel.connectors.shopify.client import ShopifyOrderNotFound, ShopifyUserError
from koppel.connectors.shopify.connector import ShopifyConnector
from koppel.errors import TransientConnectorError
from koppel.models import CancelReason, Money, Order, OrderLine
from koppel_local.reference import MISSING_REASON, reference_file
from koppel_local.simulators.shopify import ShopifySimulator

needs_schema = pytest.mark.skipif(
    reference_file("shopify", "admin_2025-04.schema.graphql") is None, reason=MISSING_REASON
)

MONDAY = datetime(2025, 5, 5, 14, 0, tzinfo=UTC)
TUESDAY = datetime(2025, 5, 6, 9, 30, tzinfo=UTC)


@pytest.fixture
def shopify_order(connector: ShopifyConnector, make_order: Callable[..., Order]) -> str:
    """bol.com order 123 (lines L1: 2 T-shirts, L2: 1 mug) as koppel created it in Shopify."""
    return connector.create_order(make_order("123"), tag="koppel").backoffice_order_id


def shopify_line(simulator: ShopifySimulator, order_gid: str, sku: str) -> str:
    """The Shopify line item the merchant picks in the admin, by its SKU."""
    return next(line["id"] for line in simulator.order(order_gid)["lines"] if line["sku"] == sku)


def test_the_connector_is_a_progress_source(connector: ShopifyConnector) -> None:
    assert isinstance(connector, ProgressSource)


# --- carrying the channel's line ids -----------------------------------------------------------------
def test_each_shopify_line_carries_the_channel_line_id(shopify_order: str, simulator: ShopifySimulator) -> None:
    # WHEN koppel created bol order 123 in Shopify
    # THEN each Shopify line holds the bol line it came from, as a property hidden from the buyer
    lines = simulator.order(shopify_order)["lines"]
    assert [(line["sku"], line["customAttributes"]) for line in lines] == [
        ("TSHIRT-RED-M", [{"key": "_koppel_line_id", "value": "L1"}]),
        ("MUG-BLUE", [{"key": "_koppel_line_id", "value": "L2"}]),
    ]


# --- order_progress ---------------------------------------------------------------------------------
def test_a_new_order_has_no_progress(connector: ShopifyConnector, shopify_order: str) -> None:
    progress = connector.order_progress(shopify_order)

    assert (progress.completed, progress.cancelled, progress.cancel_reason, progress.cancel_note, progress.parcels) == (
        False,
        False,
        None,
        "",
        (),
    )


def test_a_fulfilment_with_a_postnl_code_is_a_parcel_of_the_channel_lines(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    # GIVEN the merchant fulfilled the T-shirts with PostNL code 3SABCD1234567 on Monday
    tshirts = shopify_line(simulator, shopify_order, "TSHIRT-RED-M")
    simulator.fulfill(shopify_order, [tshirts], tracking_numbers=["3SABCD1234567"], company="PostNL", at=MONDAY)

    # WHEN koppel reads the order's progress
    progress = connector.order_progress(shopify_order)

    # THEN it sees one parcel: bol line L1, the code, the carrier and the moment; the mug is still open
    assert progress.parcels == (
        Parcel(line_ids=("L1",), tracking_codes=("3SABCD1234567",), company="PostNL", shipped_at=MONDAY),
    )
    assert progress.completed is False
    assert progress.cancelled is False


def test_two_fulfilments_are_two_parcels_and_the_order_is_complete(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    # GIVEN the T-shirts went with PostNL on Monday and the mug with DHL on Tuesday
    simulator.fulfill(shopify_order, [shopify_line(simulator, shopify_order, "TSHIRT-RED-M")], ["3SABCD1"], at=MONDAY)
    simulator.fulfill(
        shopify_order, [shopify_line(simulator, shopify_order, "MUG-BLUE")], ["JVGL0612"], company="DHL", at=TUESDAY
    )

    progress = connector.order_progress(shopify_order)

    assert progress.parcels == (
        Parcel(("L1",), ("3SABCD1",), "PostNL", MONDAY),
        Parcel(("L2",), ("JVGL0612",), "DHL", TUESDAY),
    )
    assert progress.completed is True


def test_a_line_shipped_in_two_parts_is_in_both_parcels(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    # GIVEN one of the two T-shirts shipped on Monday
    tshirts = shopify_line(simulator, shopify_order, "TSHIRT-RED-M")
    simulator.fulfill(shopify_order, [tshirts], ["3SABCD1"], quantities={tshirts: 1}, at=MONDAY)

    # THEN line L1 has shipped in part, and the order is not complete
    first = connector.order_progress(shopify_order)
    assert [parcel.line_ids for parcel in first.parcels] == [("L1",)]
    assert first.completed is False

    # AND after the rest goes on Tuesday, L1 is in both parcels and the order is complete
    simulator.fulfill(shopify_order, None, ["3SABCD2"], at=TUESDAY)
    second = connector.order_progress(shopify_order)
    assert [(parcel.line_ids, parcel.tracking_codes) for parcel in second.parcels] == [
        (("L1",), ("3SABCD1",)),
        (("L1", "L2"), ("3SABCD2",)),
    ]
    assert second.completed is True


def test_completed_without_tracking_is_complete_with_a_parcel_without_codes(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    # GIVEN the merchant clicked "Mark as fulfilled" without typing a tracking number
    simulator.complete(shopify_order, at=MONDAY)

    progress = connector.order_progress(shopify_order)

    assert progress.completed is True
    assert progress.parcels == (Parcel(line_ids=("L1", "L2"), tracking_codes=(), company="", shipped_at=MONDAY),)


def test_several_tracking_numbers_on_one_fulfilment_stay_together(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    # GIVEN one fulfilment of everything, sent as two PostNL boxes
    simulator.fulfill(shopify_order, None, ["3SBOX0001", "3SBOX0002"], company="PostNL")

    [parcel] = connector.order_progress(shopify_order).parcels

    assert (parcel.line_ids, parcel.tracking_codes, parcel.company) == (
        ("L1", "L2"),
        ("3SBOX0001", "3SBOX0002"),
        "PostNL",
    )


def test_a_cancelled_fulfilment_is_no_parcel(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    # GIVEN a fulfilment the merchant cancelled again (wrong box), then the right one
    wrong = simulator.fulfill(shopify_order, None, ["3SWRONG"])
    simulator.cancel_fulfillment(wrong["id"])
    simulator.fulfill(shopify_order, None, ["3SRIGHT"])

    progress = connector.order_progress(shopify_order)

    assert [parcel.tracking_codes for parcel in progress.parcels] == [("3SRIGHT",)]
    assert progress.completed is True


def test_cancelled_by_the_merchant_says_cancelled_with_the_reason(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    # GIVEN the merchant cancelled the order in the admin: out of stock
    simulator.cancel(shopify_order, "INVENTORY")

    progress = connector.order_progress(shopify_order)

    assert (progress.cancelled, progress.cancel_reason, progress.cancel_note, progress.completed, progress.parcels) == (
        True,
        CancelReason.OUT_OF_STOCK,
        "inventory",
        False,
        (),
    )


def test_lines_koppel_did_not_create_are_left_out(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    # GIVEN the mug's line has no channel line id (as on orders created before koppel stored them)
    mug = shopify_line(simulator, shopify_order, "MUG-BLUE")
    simulator.record_by_id(simulator.order(shopify_order)["lines"], mug)["customAttributes"] = []
    simulator.fulfill(shopify_order, [mug], ["3SMUG"], at=MONDAY)
    simulator.fulfill(shopify_order, None, ["3STSHIRT"], at=TUESDAY)

    progress = connector.order_progress(shopify_order)

    # THEN only the T-shirt parcel can be told to the channel; the mug-only parcel names no bol line
    assert [(parcel.line_ids, parcel.tracking_codes) for parcel in progress.parcels] == [(("L1",), ("3STSHIRT",))]


def test_a_fulfilment_of_many_lines_is_read_in_full(
    connector: ShopifyConnector,
    simulator: ShopifySimulator,
    make_order: Callable[..., Order],
    variant_id: Callable[[str], str],
) -> None:
    # GIVEN an order of 25 lines, all shipped in one fulfilment (more lines than one query reads)
    lines = tuple(
        OrderLine(
            line_id=f"L{number}",
            channel_sku="TSHIRT-RED-M",
            quantity=1,
            unit_price=Money(amount=Decimal("19.95")),
            backoffice_variant_id=variant_id("TSHIRT-RED-M"),
        )
        for number in range(1, 26)
    )
    order_gid = connector.create_order(make_order("123", lines=lines), tag="koppel").backoffice_order_id
    simulator.fulfill(order_gid, None, ["3SBIG"])

    [parcel] = connector.order_progress(order_gid).parcels

    assert parcel.line_ids == tuple(f"L{number}" for number in range(1, 26))
    assert simulator.violations == []


def test_many_fulfilments_are_all_read(
    connector: ShopifyConnector,
    simulator: ShopifySimulator,
    make_order: Callable[..., Order],
    variant_id: Callable[[str], str],
) -> None:
    # GIVEN 12 lines shipped one by one (more fulfilments than the first query asks for)
    lines = tuple(
        OrderLine(
            line_id=f"L{number}",
            channel_sku="MUG-BLUE",
            quantity=1,
            unit_price=Money(amount=Decimal("8.50")),
            backoffice_variant_id=variant_id("MUG-BLUE"),
        )
        for number in range(1, 13)
    )
    order_gid = connector.create_order(make_order("123", lines=lines), tag="koppel").backoffice_order_id
    for line in simulator.order(order_gid)["lines"]:
        simulator.fulfill(order_gid, [line["id"]], [f"3S{line['id'].rsplit('/', 1)[-1]}"])

    progress = connector.order_progress(order_gid)

    assert [parcel.line_ids for parcel in progress.parcels] == [(f"L{number}",) for number in range(1, 13)]
    assert progress.completed is True
    assert simulator.violations == []


def test_an_order_the_merchant_deleted_is_not_found(connector: ShopifyConnector) -> None:
    with pytest.raises(ShopifyOrderNotFound):
        connector.order_progress("gid://shopify/Order/999999")


def test_a_numeric_order_id_is_read_as_the_order_gid(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    simulator.complete(shopify_order)

    assert connector.order_progress(shopify_order.rsplit("/", 1)[-1]).completed is True


# --- cancel_order -------------------------------------------------------------------------------------
def test_cancel_order_cancels_restocks_and_records_the_refund(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    # GIVEN the order claimed 2 T-shirts (10 -> 8) and 1 mug (3 -> 2)
    assert (simulator.inventory("TSHIRT-RED-M"), simulator.inventory("MUG-BLUE")) == (8, 2)

    # WHEN koppel cancels it because the buyer asked bol.com to
    connector.cancel_order(shopify_order, CancelReason.BUYER_REQUEST)

    # THEN the merchant sees it cancelled for the customer, the stock back, the payment refunded
    order = simulator.order(shopify_order)
    assert (order["cancelReason"], order["closed"], order["financialStatus"]) == ("CUSTOMER", True, "REFUNDED")
    assert order["staffNote"] == "cancelled by koppel: customer"
    assert (simulator.inventory("TSHIRT-RED-M"), simulator.inventory("MUG-BLUE")) == (10, 3)
    # AND the next progress read says so
    progress = connector.order_progress(shopify_order)
    assert (progress.cancelled, progress.cancel_reason) == (True, CancelReason.BUYER_REQUEST)
    assert progress.cancel_note == "customer"


def test_cancel_order_without_refund_leaves_the_payment(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    connector.cancel_order(shopify_order, CancelReason.OUT_OF_STOCK, refund=False)

    order = simulator.order(shopify_order)
    assert (order["cancelReason"], order["financialStatus"]) == ("INVENTORY", "PAID")


def test_a_reason_of_no_kind_shopify_names_is_other(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    connector.cancel_order(shopify_order, CancelReason.OTHER)

    order = simulator.order(shopify_order)
    assert (order["cancelReason"], order["staffNote"]) == ("OTHER", "cancelled by koppel: other")


@pytest.mark.parametrize(
    ("reason", "shopify_reason"),
    [
        (CancelReason.BUYER_REQUEST, "CUSTOMER"),
        (CancelReason.OUT_OF_STOCK, "INVENTORY"),
        (CancelReason.FRAUD, "FRAUD"),
        (CancelReason.PAYMENT_DECLINED, "DECLINED"),
        (CancelReason.OTHER, "OTHER"),
    ],
)
def test_each_reason_goes_to_shopify_in_its_words_and_comes_back_in_koppels(
    connector: ShopifyConnector,
    simulator: ShopifySimulator,
    shopify_order: str,
    reason: CancelReason,
    shopify_reason: str,
) -> None:
    connector.cancel_order(shopify_order, reason)

    order = simulator.order(shopify_order)
    assert (order["cancelReason"], order["staffNote"]) == (
        shopify_reason,
        f"cancelled by koppel: {shopify_reason.lower()}",
    )
    progress = connector.order_progress(shopify_order)
    assert (progress.cancelled, progress.cancel_reason, progress.cancel_note) == (True, reason, shopify_reason.lower())


def test_a_staff_cancellation_is_other_with_shopifys_word_as_the_note(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    # GIVEN the merchant cancelled it as a staff error, a reason koppel has no word for
    simulator.cancel(shopify_order, "STAFF")

    progress = connector.order_progress(shopify_order)

    assert (progress.cancelled, progress.cancel_reason, progress.cancel_note) == (True, CancelReason.OTHER, "staff")


def test_cancelling_a_cancelled_order_is_done_already(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    # GIVEN the merchant cancelled it first
    simulator.cancel(shopify_order, "STAFF")

    # WHEN koppel cancels it too THEN that is no error, and the merchant's reason stands
    connector.cancel_order(shopify_order, CancelReason.BUYER_REQUEST)

    assert simulator.order(shopify_order)["cancelReason"] == "STAFF"


def test_a_shipped_order_cannot_be_cancelled(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    simulator.fulfill(shopify_order, None, ["3SABCD1"])

    with pytest.raises(ShopifyUserError) as refused:
        connector.cancel_order(shopify_order, CancelReason.BUYER_REQUEST)

    assert refused.value.codes == ("INVALID",)
    assert simulator.order(shopify_order)["cancelledAt"] is None


def test_cancelling_an_order_that_is_gone_is_not_found(connector: ShopifyConnector) -> None:
    with pytest.raises(ShopifyOrderNotFound):
        connector.cancel_order("gid://shopify/Order/999999", CancelReason.BUYER_REQUEST)


def test_a_lost_answer_to_cancel_is_checked_not_guessed(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    # GIVEN Shopify cancels the order but the answer is lost on the way back
    simulator.fail_next(1, status=504, after_execution=True, operation="orderCancel")

    # WHEN koppel cancels it THEN it sees the order cancelled, and sends nothing twice
    connector.cancel_order(shopify_order, CancelReason.BUYER_REQUEST)

    assert simulator.order(shopify_order)["cancelReason"] == "CUSTOMER"
    assert [call["operation"] for call in simulator.calls[-2:]] == ["KoppelCancelOrder", "KoppelOrderProgress"]


def test_an_outage_before_cancel_is_retryable(
    connector: ShopifyConnector, simulator: ShopifySimulator, shopify_order: str
) -> None:
    # GIVEN Shopify is down when koppel sends the cancellation
    simulator.fail_next(1, status=503, operation="orderCancel")

    # WHEN koppel cancels THEN the run is told to try again, and the order is untouched
    with pytest.raises(TransientConnectorError):
        connector.cancel_order(shopify_order, CancelReason.BUYER_REQUEST)
    assert simulator.order(shopify_order)["cancelledAt"] is None

    # AND the next run cancels it
    connector.cancel_order(shopify_order, CancelReason.BUYER_REQUEST)
    assert simulator.order(shopify_order)["cancelReason"] == "CUSTOMER"


# --- the documents ------------------------------------------------------------------------------------
@needs_schema
def test_progress_and_cancel_documents_fit_the_2025_04_schema(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    shipped = connector.create_order(make_order("123"), tag="koppel").backoffice_order_id
    cancelled = connector.create_order(make_order("124"), tag="koppel").backoffice_order_id
    simulator.fulfill(shipped, None, ["3SABCD1"])

    connector.order_progress(shipped)
    connector.cancel_order(cancelled, CancelReason.OUT_OF_STOCK)
    connector.order_progress(cancelled)

    assert simulator.validating is True
    assert simulator.violations == []
    assert {"KoppelOrderProgress", "KoppelCancelOrder"} <= {call["operation"] for call in simulator.calls}
