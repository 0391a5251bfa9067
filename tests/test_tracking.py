"""Shipments, track & trace and cancellations: from Shopify (backoffice) back to bol.com (channel)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from scenarios import MUG, TEA, World

from koppel import wiring
from koppel.config import LinkMode
from koppel.ports.orders import OrderState
from koppel_local.simulators.bol import SimItem

POSTNL_CODE = "3SKPNL123456789"  # a PostNL 3S barcode: 3S, a 4-letter customer code, 9 digits


@pytest.fixture
def imported(world: World) -> World:
    """bol.com orders 1100000001 (2 mugs) and 1100000002 (tea) imported into Shopify; the teapot waits."""
    report = world.flow("import").run()
    assert sorted(report.created) == ["1100000001", "1100000002"]
    return world


def shopify_order(world: World, bol_order_id: str) -> dict:
    [order] = world.shopify_orders_for(bol_order_id)
    return order


def bol_shipments(world: World, bol_order_id: str) -> list:
    return [shipment for shipment in world.bol.shipments if shipment.order_id == bol_order_id]


def state_of(bol_order_id: str) -> OrderState:
    return wiring.order_links().get("bol-to-shop", bol_order_id).state


def test_a_parcel_with_a_postnl_code_is_shipped_on_bol_with_transporter_tnt(imported):
    imported.shop.fulfill(shopify_order(imported, "1100000001")["id"], tracking_numbers=[POSTNL_CODE], company="PostNL")
    report = imported.tracking().run()
    [shipment] = bol_shipments(imported, "1100000001")
    assert (shipment.transporter_code, shipment.track_and_trace) == ("TNT", POSTNL_CODE)
    assert report.closed == ["1100000001"]
    assert state_of("1100000001") is OrderState.SHIPPED
    assert state_of("1100000002") is OrderState.CREATED  # not fulfilled yet: nothing sent
    assert bol_shipments(imported, "1100000002") == []


def test_the_carrier_comes_from_the_code_when_the_backoffice_names_none(imported):
    imported.shop.fulfill(shopify_order(imported, "1100000001")["id"], tracking_numbers=[POSTNL_CODE], company="")
    imported.tracking().run()
    assert bol_shipments(imported, "1100000001")[0].transporter_code == "TNT"


def test_a_code_several_carriers_print_ships_with_the_code_and_no_guessed_carrier(imported):
    # GIVEN Shopify fulfils with DPD's 14 bare digits and names no carrier
    imported.shop.fulfill(shopify_order(imported, "1100000001")["id"], tracking_numbers=["05221234567890"], company="")
    report = imported.tracking().run()
    # THEN bol gets the code under "another carrier", not DHL eCommerce's or DPD's code
    [shipment] = bol_shipments(imported, "1100000001")
    assert (shipment.transporter_code, shipment.track_and_trace) == ("OTHER", "05221234567890")
    # AND the run and the order say why
    assert "fits dhl_ecommerce, dpd" in report.without_carrier["1100000001"]
    assert "sent without a carrier (code fits several)" in report.summary()
    assert "not a guess" in wiring.order_links().get("bol-to-shop", "1100000001").reason


def test_a_parcel_is_sent_once_however_often_and_however_concurrently_the_updater_runs(imported):
    imported.shop.fulfill(shopify_order(imported, "1100000001")["id"], tracking_numbers=[POSTNL_CODE])
    start = threading.Barrier(2)

    def run() -> None:
        tracking = imported.tracking()
        start.wait()
        tracking.run()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    imported.tracking().run()
    assert len(bol_shipments(imported, "1100000001")) == 1


def test_completed_without_a_code_waits_then_ships_without_track_and_trace(imported):
    imported.shop.complete(shopify_order(imported, "1100000002")["id"])
    first = imported.tracking().run()
    assert first.waiting_for_code == ["1100000002"]
    assert bol_shipments(imported, "1100000002") == []
    # two hours later: still within the 3-hour window
    imported.now[0] += timedelta(hours=2).total_seconds()
    assert imported.tracking().run().waiting_for_code == ["1100000002"]
    # after the window: shipped without T&T
    imported.now[0] += timedelta(hours=1, minutes=1).total_seconds()
    report = imported.tracking().run()
    [shipment] = bol_shipments(imported, "1100000002")
    assert shipment.track_and_trace in ("", None)
    assert report.closed == ["1100000002"]


def test_a_partial_shipment_ships_only_the_shipped_items(world):
    # GIVEN an order of two different products
    from scenarios import MUG, TEA

    from koppel_local.simulators.bol import SimItem

    world.bol.add_dutch_order(
        "1100000009",
        items=[SimItem(ean=MUG, title="mug", unit_price="14.95"), SimItem(ean=TEA, title="tea", unit_price="6.49")],
    )
    world.flow("import").run()
    order = shopify_order(world, "1100000009")
    mug_line = next(line["id"] for line in order["lines"] if line["sku"] == "MUG-BLUE-350")
    tea_line = next(line["id"] for line in order["lines"] if line["sku"] == "TEA-ROOIBOS")
    # WHEN only the mug is shipped
    world.shop.fulfill(order["id"], [mug_line], tracking_numbers=[POSTNL_CODE])
    world.tracking().run()
    [first] = bol_shipments(world, "1100000009")
    assert len(first.order_item_ids) == 1
    assert state_of("1100000009") is OrderState.CREATED
    # AND later the tea, with another code
    world.shop.fulfill(order["id"], [tea_line], tracking_numbers=["3SKPNL987654321"])
    world.tracking().run()
    assert len(bol_shipments(world, "1100000009")) == 2
    assert state_of("1100000009") is OrderState.SHIPPED


def test_a_merchant_cancellation_in_shopify_cancels_the_items_on_bol(imported):
    imported.shop.cancel(shopify_order(imported, "1100000002")["id"], reason="INVENTORY")
    report = imported.tracking().run()
    assert report.cancelled == ["1100000002"]
    assert state_of("1100000002") is OrderState.CANCELLED
    [item] = imported.bol.order("1100000002")["orderItems"]
    assert item["quantityCancelled"] == item["quantity"]


def test_a_buyer_cancellation_request_on_bol_cancels_the_order_in_shopify(imported):
    [item] = imported.bol.order("1100000002")["orderItems"]
    imported.bol.request_cancellation(item["orderItemId"])
    report = imported.tracking().run()
    assert report.cancelled == ["1100000002"]
    assert shopify_order(imported, "1100000002").get("cancelledAt")
    assert state_of("1100000002") is OrderState.CANCELLED


def test_a_buyer_cancellation_bol_refuses_keeps_the_order_open_with_bols_reason(imported):
    # GIVEN the buyer asked to cancel, and bol's process for the confirmation ends FAILURE
    [item] = imported.bol.order("1100000002")["orderItems"]
    imported.bol.request_cancellation(item["orderItemId"])
    imported.bol.refuse_cancellation(item["orderItemId"], "Order item is already being handled by bol.")
    report = imported.tracking().run()
    # THEN nothing is cancelled anywhere, and the order says why
    assert "already being handled" in report.refused["1100000002"]
    assert report.cancelled == []
    assert not shopify_order(imported, "1100000002").get("cancelledAt")
    record = wiring.order_links().get("bol-to-shop", "1100000002")
    assert (record.state, "already being handled" in record.reason) == (OrderState.CREATED, True)
    # AND a later run does not send it again, and still shows the refusal
    again = imported.tracking().run()
    assert len(imported.bol.cancellations) == 0
    assert "already being handled" in again.refused["1100000002"]


def test_a_buyer_cancellation_still_pending_at_bol_is_followed_up_before_anything_is_cancelled(imported):
    [item] = imported.bol.order("1100000002")["orderItems"]
    imported.bol.request_cancellation(item["orderItemId"])
    imported.bol.pending_polls = 2  # bol says PENDING twice before it settles
    channel = imported.bol_connector()
    channel.process_wait_seconds = 0  # this run cannot wait for bol
    first = imported.tracking(channel=channel, source=channel, cancellations=channel).run()
    assert first.pending == ["1100000002:buyer cancellation"]
    assert not shopify_order(imported, "1100000002").get("cancelledAt")
    assert state_of("1100000002") is OrderState.CREATED
    imported.bol.pending_polls = 0
    second = imported.tracking().run()
    assert second.cancelled == ["1100000002"]
    assert shopify_order(imported, "1100000002").get("cancelledAt")
    assert state_of("1100000002") is OrderState.CANCELLED
    assert len(imported.bol.cancellations) == 1  # confirmed once, however many runs looked


def test_an_order_cancelled_whole_on_bol_is_cancelled_in_shopify(imported):
    [item] = imported.bol.order("1100000002")["orderItems"]
    imported.bol.cancel_item(item["orderItemId"], by_customer=True)  # cancelled at bol, not by koppel
    report = imported.tracking().run()
    assert report.cancelled == ["1100000002"]
    assert shopify_order(imported, "1100000002").get("cancelledAt")
    assert state_of("1100000002") is OrderState.CANCELLED


def test_a_buyer_cancellation_after_shipping_is_reported_not_forced(imported):
    order = shopify_order(imported, "1100000002")
    imported.shop.fulfill(order["id"], tracking_numbers=[POSTNL_CODE])
    [item] = imported.bol.order("1100000002")["orderItems"]
    imported.bol.request_cancellation(item["orderItemId"])
    report = imported.tracking().run()
    assert "handle it as a return" in report.reported["1100000002"]
    assert not shopify_order(imported, "1100000002").get("cancelledAt")


def test_test_mode_sends_nothing_to_the_channel(imported):
    link = wiring.config_store().get_link("bol-to-shop")
    wiring.config_store().put_link(link.model_copy(update={"mode": LinkMode.TEST}))
    imported.shop.fulfill(shopify_order(imported, "1100000001")["id"], tracking_numbers=[POSTNL_CODE])
    report = imported.tracking().run()
    assert report.shipped and "would ship with postnl" in report.shipped[0]
    assert imported.bol.shipments == []
    assert state_of("1100000001") is OrderState.CREATED


def test_a_shipment_bol_refuses_stays_visible_with_bols_reason(imported):
    # GIVEN bol.com cancelled the item already (a buyer's cancellation handled there), yet Shopify ships it
    [item] = imported.bol.order("1100000002")["orderItems"]
    imported.bol.cancel_item(item["orderItemId"], by_customer=False)
    imported.shop.fulfill(shopify_order(imported, "1100000002")["id"], tracking_numbers=[POSTNL_CODE])
    report = imported.tracking().run()
    # THEN the refusal is on the order with bol's own words, and it is not sent again blindly
    assert "the channel refused the shipment" in report.refused["1100000002"]
    record = wiring.order_links().get("bol-to-shop", "1100000002")
    assert record.state is OrderState.CREATED and "refused" in record.reason
    calls_before = len(imported.bol.calls("shipments"))
    imported.tracking().run()
    assert len(imported.bol.calls("shipments")) == calls_before


def test_a_shipment_that_timed_out_at_bol_is_sent_again(imported):
    imported.bol.time_out_next(1)
    imported.shop.fulfill(shopify_order(imported, "1100000002")["id"], tracking_numbers=[POSTNL_CODE])
    first = imported.tracking().run()
    assert "1100000002" in first.retry_later
    assert state_of("1100000002") is OrderState.CREATED
    second = imported.tracking().run()
    assert second.closed == ["1100000002"]
    assert len(bol_shipments(imported, "1100000002")) == 1


def test_several_codes_on_one_fulfilment_become_several_shipments(world):
    world.bol.add_dutch_order(
        "1100000010",
        items=[SimItem(ean=MUG, title="mug", unit_price="14.95"), SimItem(ean=TEA, title="tea", unit_price="6.49")],
    )
    world.flow("import").run()
    world.shop.fulfill(shopify_order(world, "1100000010")["id"], tracking_numbers=[POSTNL_CODE, "3SKPNL987654321"])
    world.tracking().run()
    shipments = bol_shipments(world, "1100000010")
    assert sorted(s.track_and_trace for s in shipments) == sorted([POSTNL_CODE, "3SKPNL987654321"])
    assert all(len(s.order_item_ids) == 1 for s in shipments)
    assert state_of("1100000010") is OrderState.SHIPPED
