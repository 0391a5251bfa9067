"""Shipments and cancellations from koppel to bol.com, as the retailer's bol account shows them afterwards."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from koppel.connectors.base import ChannelProcess, Parcel, ShipmentChannel
from koppel.connectors.bol.connector import BolConnector, ProcessResult
from koppel.connectors.bol.settings import BolSettings
from koppel.connectors.http import Clock
from koppel.errors import PermanentConnectorError
from koppel.models import CancelReason, OrderStatus, ProcessState
from koppel_local.reference import MISSING_REASON, reference_file
from koppel_local.simulators.bol import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    BolSimulator,
    RecordedCancellation,
    SimItem,
)

needs_spec = pytest.mark.skipif(reference_file("bol", "retailer.json") is None, reason=MISSING_REASON)

POSTNL_CODE = "3SKOPL000123456"


COFFEE = SimItem(ean="8719000000003", title="Koffiebonen Arabica, 1 kg", unit_price="14.95", quantity=3)
LAMP = SimItem(ean="8719000000027", title="Fietslamp LED", unit_price="24.99")


def coffee(**changes: Any) -> SimItem:
    return replace(COFFEE, **changes)


def lamp(**changes: Any) -> SimItem:
    return replace(LAMP, **changes)


def an_order(sim: BolSimulator, *items: SimItem) -> tuple[str, list[str]]:
    """An open order at bol with these items (coffee and a lamp by default): its id and item ids."""
    order_id = sim.add_dutch_order(items=list(items) or [coffee(), lamp()])
    return order_id, [item["orderItemId"] for item in sim.order(order_id)["orderItems"]]


def units(sim: BolSimulator, order_id: str) -> dict[str, tuple[int, int]]:
    """Per item at bol: (units shipped, units cancelled)."""
    return {
        item["orderItemId"]: (item["quantityShipped"], item["quantityCancelled"])
        for item in sim.order(order_id)["orderItems"]
    }


def open_order_ids(connector: BolConnector) -> tuple[str, ...]:
    return connector.list_open_orders(1).order_ids


def sent(sim: BolSimulator, group: str) -> list[dict[str, object]]:
    """The JSON bodies koppel sent to one of bol's endpoint groups."""
    return [json.loads(call.body) for call in sim.calls(group)]


# --- shipping -----------------------------------------------------------------------------------
def test_a_full_shipment_with_a_postnl_code_succeeds_as_tnt(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN an open order of three packs of coffee and a lamp
    order_id, item_ids = an_order(sim)

    # WHEN koppel ships both items with a PostNL code (carrier postnl: bol's transporter TNT) and waits for bol
    accepted = connector.ship(order_id, Parcel(line_ids=tuple(item_ids), tracking_codes=(POSTNL_CODE,)), "postnl")
    outcome = connector.wait_for(accepted.process_id)

    # THEN bol accepted it for processing, and then reports it done
    assert accepted.status == "PENDING"
    assert (outcome.process_id, outcome.status, outcome.event_type) == (
        accepted.process_id,
        "SUCCESS",
        "CREATE_SHIPMENT",
    )
    # AND bol holds one shipment of both items, carried by TNT with the PostNL code
    (shipment,) = sim.shipments
    assert (shipment.order_id, shipment.order_item_ids) == (order_id, tuple(item_ids))
    assert (shipment.transporter_code, shipment.track_and_trace) == ("TNT", POSTNL_CODE)
    assert shipment.process_status_id == accepted.process_id
    # AND the order is no longer open
    assert open_order_ids(connector) == ()
    assert connector.get_order(order_id).status is OrderStatus.SHIPPED
    assert sim.violations == []


def test_a_partial_shipment_ships_only_the_named_items(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN an open order of coffee and a lamp
    order_id, (coffee_id, lamp_id) = an_order(sim)

    # WHEN only the lamp goes out
    process = connector.ship(order_id, Parcel(line_ids=(lamp_id,), tracking_codes=(POSTNL_CODE,)), "postnl")

    # THEN bol shipped the lamp only; the coffee is still to ship, so the order stays open
    assert connector.wait_for(process.process_id).status == "SUCCESS"
    assert sim.shipments[0].order_item_ids == (lamp_id,)
    assert units(sim, order_id) == {coffee_id: (0, 0), lamp_id: (1, 0)}
    assert open_order_ids(connector) == (order_id,)
    assert connector.get_order(order_id).status is OrderStatus.OPEN
    assert sent(sim, "shipments")[0]["orderItems"] == [{"orderItemId": lamp_id}]  # no quantity: all open units
    assert sim.violations == []


def test_a_quantity_ships_some_units_of_an_item(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN an order of three packs of coffee
    order_id, (coffee_id,) = an_order(sim, coffee())

    # WHEN one pack goes out now
    process = connector.ship(
        order_id,
        Parcel(line_ids=(coffee_id,), tracking_codes=(POSTNL_CODE,)),
        "postnl",
        quantities={coffee_id: 1},
    )

    # THEN bol counts one pack shipped and two still open
    assert connector.wait_for(process.process_id).status == "SUCCESS"
    assert sent(sim, "shipments")[0]["orderItems"] == [{"orderItemId": coffee_id, "quantity": 1}]
    assert units(sim, order_id) == {coffee_id: (1, 0)}
    assert open_order_ids(connector) == (order_id,)
    assert sim.violations == []


def test_a_shipment_naming_no_items_ships_every_item_still_open(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN an order whose lamp went out in an earlier shipment
    order_id, (coffee_id, _) = an_order(sim, coffee(), lamp(quantity_shipped=1))

    # WHEN the rest of the order is shipped without naming items
    process = connector.ship(order_id, Parcel(line_ids=(), tracking_codes=(POSTNL_CODE,)), "postnl")

    # THEN only the coffee is in the shipment (shipping the lamp again would fail at bol)
    assert connector.wait_for(process.process_id).status == "SUCCESS"
    assert sim.shipments[0].order_item_ids == (coffee_id,)
    assert open_order_ids(connector) == ()


def test_a_shipment_without_track_and_trace_names_only_the_transporter(
    sim: BolSimulator, connector: BolConnector
) -> None:
    # GIVEN an order of one lamp, sent with GLS without a tracking code
    order_id, item_ids = an_order(sim, lamp())

    # WHEN koppel ships it with no code
    process = connector.ship(order_id, Parcel(line_ids=tuple(item_ids)), "gls")

    # THEN the transport names the transporter and leaves trackAndTrace out (not empty), and bol takes it
    assert sent(sim, "shipments")[0]["transport"] == {"transporterCode": "GLS"}
    assert connector.wait_for(process.process_id).status == "SUCCESS"
    assert (sim.shipments[0].transporter_code, sim.shipments[0].track_and_trace) == ("GLS", "")
    assert sim.violations == []


def test_a_shipment_with_no_known_carrier_goes_as_other(sim: BolSimulator, connector: BolConnector) -> None:
    order_id, item_ids = an_order(sim, lamp())

    process = connector.ship(order_id, Parcel(line_ids=tuple(item_ids)), None)

    assert sent(sim, "shipments")[0]["transport"] == {"transporterCode": "OTHER"}
    assert connector.wait_for(process.process_id).status == "SUCCESS"


def test_a_carrier_bol_has_no_code_for_goes_as_other(sim: BolSimulator, connector: BolConnector) -> None:
    order_id, item_ids = an_order(sim, lamp())

    process = connector.ship(order_id, Parcel(line_ids=tuple(item_ids), tracking_codes=("BUDBEE123",)), "budbee")

    assert sent(sim, "shipments")[0]["transport"] == {"transporterCode": "OTHER", "trackAndTrace": "BUDBEE123"}
    assert connector.wait_for(process.process_id).status == "SUCCESS"


def test_the_transporter_is_bols_code_for_the_country_the_merchant_ships_from(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, clock: Clock
) -> None:
    # GIVEN a merchant shipping from Belgium, and one from the Netherlands
    belgian = BolConnector(
        http_client, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, settings.model_copy(update={"ships_from": "BE"}), clock=clock
    )
    dutch = BolConnector(http_client, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, settings, clock=clock)
    first, (first_item,) = an_order(sim, lamp())
    second, (second_item,) = an_order(sim, lamp())

    # WHEN each ships a DPD parcel
    belgian.follow(belgian.ship(first, Parcel(line_ids=(first_item,)), "dpd"))
    dutch.follow(dutch.ship(second, Parcel(line_ids=(second_item,)), "dpd"))

    # THEN bol is told DPD Belgium for the one, DPD Netherlands for the other
    assert [shipment.transporter_code for shipment in sim.shipments] == ["DPD-BE", "DPD-NL"]
    assert sim.violations == []


def test_ships_from_is_a_country_code() -> None:
    assert BolSettings().ships_from == "NL"
    with pytest.raises(ValueError, match="ships_from"):
        BolSettings(ships_from="Belgium")


def test_a_shipment_bol_refuses_shows_bols_reason(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN a lamp that has been shipped already
    order_id, (coffee_id, lamp_id) = an_order(sim)
    shipment = Parcel(line_ids=(lamp_id,), tracking_codes=(POSTNL_CODE,))
    connector.wait_for(connector.ship(order_id, shipment, "postnl").process_id)

    # WHEN koppel ships it once more
    outcome = connector.wait_for(connector.ship(order_id, shipment, "postnl").process_id)

    # THEN bol reports the failure with its reason, and nothing more was shipped
    assert (outcome.status, outcome.error) == (
        "FAILURE",
        f"Order item {lamp_id} has already been shipped or cancelled.",
    )
    assert outcome.entity_id == lamp_id
    assert len(sim.shipments) == 1
    assert units(sim, order_id) == {coffee_id: (0, 0), lamp_id: (1, 0)}


def test_items_of_another_order_make_the_shipment_fail(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN two open orders
    order_id, (coffee_id, _) = an_order(sim)
    other_id, (other_item, _) = an_order(sim)

    # WHEN a shipment of the first order names an item of the second
    shipment = Parcel(line_ids=(coffee_id, other_item), tracking_codes=(POSTNL_CODE,))
    outcome = connector.wait_for(connector.ship(order_id, shipment, "postnl").process_id)

    # THEN bol refuses all of it
    assert (outcome.status, outcome.error) == (
        "FAILURE",
        "All order items of one shipment must belong to the same order.",
    )
    assert sim.shipments == []
    assert set(open_order_ids(connector)) == {order_id, other_id}


def test_an_item_bol_does_not_know_makes_the_shipment_fail(sim: BolSimulator, connector: BolConnector) -> None:
    order_id, _ = an_order(sim)

    shipment = Parcel(line_ids=("6100000999",), tracking_codes=(POSTNL_CODE,))
    outcome = connector.wait_for(connector.ship(order_id, shipment, "postnl").process_id)

    assert (outcome.status, outcome.error) == ("FAILURE", "Order item 6100000999 does not exist.")


def test_more_than_100_items_go_in_several_requests_followed_as_one(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN an order of 101 different items (bol takes at most 100 per shipment)
    items = [SimItem(ean=f"87190000{index:05d}", title=f"Sticker {index}", unit_price="0.50") for index in range(101)]
    order_id, _ = an_order(sim, *items)

    # WHEN all of it is shipped
    accepted = connector.ship(order_id, Parcel(line_ids=(), tracking_codes=(POSTNL_CODE,)), "postnl")
    outcome = connector.follow(accepted)

    # THEN bol got two shipments, 100 and 1 items, and koppel sees one successful outcome
    assert [len(shipment.order_item_ids) for shipment in sim.shipments] == [100, 1]
    assert len(accepted.process_ids) == 2
    assert (outcome.status, outcome.process_ids) == ("SUCCESS", accepted.process_ids)
    assert open_order_ids(connector) == ()
    assert sim.violations == []


# --- process status -----------------------------------------------------------------------------
def test_polling_stops_as_soon_as_bol_has_an_outcome(
    sim: BolSimulator, connector: BolConnector, sleeps: list[float]
) -> None:
    # GIVEN bol takes three polls to process a shipment
    sim.pending_polls = 3
    order_id, _ = an_order(sim)
    process = connector.ship(order_id, Parcel(line_ids=(), tracking_codes=(POSTNL_CODE,)), "postnl")

    # WHEN koppel waits up to 30 seconds, polling every 2
    outcome = connector.wait_for(process.process_id, max_wait_seconds=30, poll_every=2)

    # THEN it polled four times, waiting 2 s between polls, and no longer than needed
    assert outcome.status == "SUCCESS"
    assert len(sim.calls("process-status")) == 4
    assert sleeps == [2, 2, 2]


def test_polling_gives_up_when_the_budget_is_spent(
    sim: BolSimulator, connector: BolConnector, sleeps: list[float]
) -> None:
    # GIVEN bol is slow today
    sim.pending_polls = 100
    order_id, _ = an_order(sim)
    process = connector.ship(order_id, Parcel(line_ids=(), tracking_codes=(POSTNL_CODE,)), "postnl")

    # WHEN koppel waits at most 5 seconds, polling every 2
    outcome = connector.wait_for(process.process_id, max_wait_seconds=5, poll_every=2)

    # THEN it hands back the last status, still PENDING, having waited exactly its budget
    assert (outcome.status, outcome.process_id) == ("PENDING", process.process_id)
    assert sleeps == [2, 2, 1]
    assert len(sim.calls("process-status")) == 4


def test_follow_polls_within_the_connectors_own_budget(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, clock: Clock, sleeps: list[float]
) -> None:
    sim.pending_polls = 100
    connector = BolConnector(
        http_client,
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        settings,
        clock=clock,
        process_wait_seconds=3,
        process_poll_seconds=1,
    )
    order_id, _ = an_order(sim)

    outcome = connector.follow(connector.ship(order_id, Parcel(line_ids=()), "postnl"))

    assert outcome.status == "PENDING"
    assert sleeps == [1, 1, 1]


def test_a_finished_process_is_not_polled_again(sim: BolSimulator, connector: BolConnector) -> None:
    done = ChannelProcess(process_id="42", status=ProcessState.SUCCESS)

    assert connector.follow(done).status == "SUCCESS"
    assert sim.calls("process-status") == []


def test_a_process_bol_has_forgotten_is_a_permanent_error(connector: BolConnector) -> None:
    with pytest.raises(PermanentConnectorError) as raised:
        connector.process_status("404404")

    assert raised.value.context["status_code"] == 404


def test_a_timeout_at_bol_is_reported_and_ships_nothing(sim: BolSimulator, connector: BolConnector) -> None:
    order_id, _ = an_order(sim)
    sim.time_out_next()

    outcome = connector.follow(connector.ship(order_id, Parcel(line_ids=()), "postnl"))

    assert outcome.status == "TIMEOUT"
    assert sim.shipments == []
    assert open_order_ids(connector) == (order_id,)


def test_a_demo_account_follows_its_processes_on_the_demo_api(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, clock: Clock
) -> None:
    demo = BolConnector(http_client, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, settings, demo=True, clock=clock)
    order_id, _ = an_order(sim)

    outcome = demo.follow(demo.ship(order_id, Parcel(line_ids=()), "postnl"))

    assert outcome.status == "SUCCESS"
    assert [call.path for call in sim.calls("shipments")] == ["/retailer-demo/shipments"]
    polls = [(call.method, call.path) for call in sim.calls("process-status-bulk")]
    assert polls == [("POST", "/shared-demo/process-status")]
    assert sim.violations == []


# --- cancellations ------------------------------------------------------------------------------
def test_cancelling_an_item_with_a_valid_reason(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN an order of coffee and a lamp, and the lamp turns out to be out of stock
    order_id, (coffee_id, lamp_id) = an_order(sim)

    # WHEN koppel cancels the lamp
    (accepted,) = connector.cancel_items([lamp_id], "OUT_OF_STOCK")
    outcome = connector.wait_for(accepted.process_id)

    # THEN bol cancelled the lamp for that reason; the coffee is still to ship
    assert (outcome.status, outcome.event_type, outcome.entity_id) == ("SUCCESS", "CANCEL_ORDER", lamp_id)
    assert sent(sim, "cancellation") == [{"orderItems": [{"orderItemId": lamp_id, "reasonCode": "OUT_OF_STOCK"}]}]
    assert sim.cancellations == [
        RecordedCancellation(
            process_status_id=accepted.process_id,
            order_id=order_id,
            order_item_id=lamp_id,
            reason_code="OUT_OF_STOCK",
            units=1,
            requested_by_customer=False,
        )
    ]
    order = connector.get_order(order_id)
    assert ([line.line_id for line in order.lines], order.status) == ([coffee_id], OrderStatus.OPEN)
    assert sim.violations == []


def test_cancelling_several_items_is_one_request_per_item(sim: BolSimulator, connector: BolConnector) -> None:
    order_id, item_ids = an_order(sim)

    processes = connector.cancel_items(item_ids, "NOT_AVAIL_IN_TIME")

    assert len(processes) == len(sim.calls("cancellation")) == 2
    assert [connector.wait_for(process.process_id).status for process in processes] == ["SUCCESS", "SUCCESS"]
    assert connector.get_order(order_id).status is OrderStatus.CANCELLED
    assert sim.violations == []


def test_a_reason_bol_does_not_know_is_never_sent(sim: BolSimulator, connector: BolConnector) -> None:
    _, item_ids = an_order(sim)

    with pytest.raises(ValueError, match="CHANGED_MIND"):
        connector.cancel_items(item_ids[:1], "CHANGED_MIND")

    assert sim.calls("cancellation") == []


def test_cancelling_what_has_shipped_fails_with_bols_reason(sim: BolSimulator, connector: BolConnector) -> None:
    _, (_, lamp_id) = an_order(sim, coffee(), lamp(quantity_shipped=1))

    (accepted,) = connector.cancel_items([lamp_id], "OUT_OF_STOCK")

    outcome = connector.wait_for(accepted.process_id)
    assert (outcome.status, outcome.error) == (
        "FAILURE",
        f"Order item {lamp_id} has already been shipped or cancelled.",
    )
    assert sim.cancellations == []


# --- the buyer's cancellation requests ----------------------------------------------------------
def test_a_buyers_cancellation_request_keeps_the_order_open_and_is_listed(
    sim: BolSimulator, connector: BolConnector
) -> None:
    # GIVEN the buyer asked bol to cancel the lamp
    order_id, (coffee_id, lamp_id) = an_order(sim)
    sim.request_cancellation(lamp_id)

    # WHEN koppel reads the order
    order = connector.get_order(order_id)

    # THEN the order is still open with both items, and the lamp is marked as to be cancelled,
    # from the same read of bol (no second look-up)
    assert (order.status, [line.line_id for line in order.lines]) == (OrderStatus.OPEN, [coffee_id, lamp_id])
    assert order.cancel_requested_lines == (lamp_id,)
    assert [line.cancel_requested for line in order.lines] == [False, True]
    assert len(sim.calls("order")) == 1
    # AND asked by order id, bol is asked again
    assert connector.cancellation_requests(order_id) == (lamp_id,)
    assert len(sim.calls("order")) == 2


def test_an_order_without_requests_has_none(sim: BolSimulator, connector: BolConnector) -> None:
    order_id, _ = an_order(sim)

    assert connector.get_order(order_id).cancel_requested_lines == ()


def test_confirming_the_buyers_request_clears_it(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN the buyer asked to cancel the lamp
    order_id, (coffee_id, lamp_id) = an_order(sim)
    sim.request_cancellation(lamp_id)

    # WHEN koppel confirms it
    (accepted,) = connector.cancel_items(connector.cancellation_requests(order_id), "REQUESTED_BY_CUSTOMER")

    # THEN bol cancelled it as the buyer's wish, and no request is left open
    assert connector.wait_for(accepted.process_id).status == "SUCCESS"
    assert [(c.order_item_id, c.requested_by_customer) for c in sim.cancellations] == [(lamp_id, True)]
    assert connector.cancellation_requests(order_id) == ()
    assert connector.get_order(order_id).cancel_requested_lines == ()
    assert [line.line_id for line in connector.get_order(order_id).lines] == [coffee_id]


def test_a_request_for_an_item_that_shipped_anyway_needs_no_action(sim: BolSimulator, connector: BolConnector) -> None:
    order_id, (_, lamp_id) = an_order(sim, coffee(), lamp(quantity_shipped=1))
    sim.request_cancellation(lamp_id)

    assert connector.cancellation_requests(order_id) == ()
    assert connector.get_order(order_id).cancel_requested_lines == ()


# --- as koppel's tracking flow uses it ------------------------------------------------------------
def test_the_connector_is_a_shipment_channel(connector: BolConnector) -> None:
    assert isinstance(connector, ShipmentChannel)


def test_a_parcel_is_shipped_and_followed(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN an order, and a parcel from the backoffice with the lamp and a PostNL code
    order_id, (_, lamp_id) = an_order(sim)
    order = connector.get_order(order_id)

    # WHEN the flow ships the parcel and follows bol's process
    outcome = connector.follow(
        connector.ship(order, Parcel(line_ids=(lamp_id,), tracking_codes=(POSTNL_CODE,)), "postnl")
    )

    # THEN it is a ChannelProcess the flow understands, and bol shipped the lamp with the code
    assert isinstance(outcome, ChannelProcess)
    assert (outcome.status, outcome.error) == ("SUCCESS", "")
    assert (sim.shipments[0].order_item_ids, sim.shipments[0].track_and_trace) == ((lamp_id,), POSTNL_CODE)


def test_a_pending_process_can_be_followed_on_a_later_run(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN a shipment bol was still processing when the last run ended
    sim.pending_polls = 1
    order_id, _ = an_order(sim)
    accepted = connector.ship(order_id, Parcel(line_ids=()), "postnl")
    remembered = ChannelProcess(process_id=accepted.process_id, status=ProcessState.PENDING)

    # WHEN the next run follows it from what it stored
    outcome = connector.follow(remembered)

    assert outcome.status == "SUCCESS"


def test_cancelling_several_lines_is_one_process_to_follow(sim: BolSimulator, connector: BolConnector) -> None:
    sim.pending_polls = 1
    order_id, item_ids = an_order(sim)
    order = connector.get_order(order_id)

    accepted = connector.cancel(order, tuple(item_ids), CancelReason.OUT_OF_STOCK)
    outcome = connector.follow(accepted)

    assert (accepted.status, len(accepted.process_ids)) == ("PENDING", 2)
    assert [body["orderItems"][0]["reasonCode"] for body in sent(sim, "cancellation")] == ["OUT_OF_STOCK"] * 2
    assert (outcome.status, outcome.process_ids) == ("SUCCESS", accepted.process_ids)
    assert connector.get_order(order_id).status is OrderStatus.CANCELLED


def test_one_refused_line_makes_the_cancellation_fail_with_bols_reason(
    sim: BolSimulator, connector: BolConnector
) -> None:
    # GIVEN an order whose lamp has shipped
    order_id, (coffee_id, lamp_id) = an_order(sim, coffee(), lamp(quantity_shipped=1))

    outcome = connector.follow(connector.cancel(order_id, (coffee_id, lamp_id), CancelReason.OUT_OF_STOCK))

    # THEN the coffee is cancelled, the lamp is not, and the outcome says why
    assert outcome.status == "FAILURE"
    assert outcome.error == f"Order item {lamp_id} has already been shipped or cancelled."
    assert units(sim, order_id) == {coffee_id: (0, 3), lamp_id: (1, 0)}


@pytest.mark.parametrize(
    ("reason", "code", "by_customer"),
    [
        (CancelReason.BUYER_REQUEST, "REQUESTED_BY_CUSTOMER", True),
        (CancelReason.OUT_OF_STOCK, "OUT_OF_STOCK", False),
        (CancelReason.FRAUD, "OTHER", False),
        (CancelReason.PAYMENT_DECLINED, "OTHER", False),
        (CancelReason.OTHER, "OTHER", False),
    ],
)
def test_koppels_cancel_reasons_reach_bol_as_its_reason_codes(
    sim: BolSimulator, connector: BolConnector, reason: CancelReason, code: str, by_customer: bool
) -> None:
    # GIVEN an order whose lamp is cancelled for one of koppel's reasons
    order_id, (_, lamp_id) = an_order(sim)
    if by_customer:
        sim.request_cancellation(lamp_id)

    # WHEN koppel cancels the lamp
    outcome = connector.follow(connector.cancel(connector.get_order(order_id), (lamp_id,), reason))

    # THEN bol got its own code for the reason, and cancelled the lamp
    assert outcome.status == "SUCCESS"
    assert sent(sim, "cancellation") == [{"orderItems": [{"orderItemId": lamp_id, "reasonCode": code}]}]
    assert [(c.reason_code, c.requested_by_customer) for c in sim.cancellations] == [(code, by_customer)]


def test_cancelling_no_named_lines_cancels_every_item_still_open(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN an order whose lamp has shipped
    order_id, (coffee_id, _) = an_order(sim, coffee(), lamp(quantity_shipped=1))

    # WHEN the backoffice cancelled the order and koppel cancels it on bol without naming lines
    outcome = connector.follow(connector.cancel(connector.get_order(order_id), (), CancelReason.OTHER))

    # THEN only the coffee was cancelled at bol
    assert outcome.status == "SUCCESS"
    assert [body["orderItems"][0]["orderItemId"] for body in sent(sim, "cancellation")] == [coffee_id]


def test_results_are_channel_processes_with_bols_details() -> None:
    result = ProcessResult(process_id="1,2", status=ProcessState.PENDING, event_type="CANCEL_ORDER")

    assert isinstance(result, ChannelProcess)
    assert (result.finished, result.process_ids) == (False, ("1", "2"))


# --- the spec -----------------------------------------------------------------------------------
@needs_spec
def test_every_shipment_and_cancellation_request_meets_the_published_spec(
    sim: BolSimulator, connector: BolConnector
) -> None:
    # GIVEN a validating simulator that takes a poll to process anything
    assert sim.validating
    sim.pending_polls = 1
    first_id, (coffee_id, lamp_id) = an_order(sim)
    second_id, second_items = an_order(sim)
    third_id, (third_coffee, third_lamp) = an_order(sim)
    sim.request_cancellation(third_lamp)

    # WHEN koppel ships in part, by quantity, without T&T, cancels, confirms the buyer's request
    partial = Parcel(line_ids=(coffee_id,), tracking_codes=(POSTNL_CODE,))
    order = connector.get_order(third_id)
    outcomes = [
        connector.follow(connector.ship(first_id, partial, "postnl", quantities={coffee_id: 2})),
        connector.follow(connector.ship(first_id, Parcel(line_ids=(lamp_id,)), "gls")),
        connector.follow(connector.cancel(second_id, tuple(second_items), CancelReason.OUT_OF_STOCK)),
        connector.follow(connector.cancel(order, order.cancel_requested_lines, CancelReason.BUYER_REQUEST)),
        connector.follow(
            connector.ship(order, Parcel(line_ids=(third_coffee,), tracking_codes=(POSTNL_CODE,)), "postnl")
        ),
    ]

    # THEN bol would have accepted every request, and the simulator answered in bol's shapes
    assert [outcome.status for outcome in outcomes] == ["SUCCESS"] * 5
    assert sim.violations == []
    assert sim.response_violations == []
    assert {call.status for call in sim.request_log} == {200, 202}
