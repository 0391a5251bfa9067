"""bol.com process statuses polled in bulk (`POST /shared/process-status`), against the simulator:
a batch of offer updates, and the several processes of one shipment or cancellation, settle with
one status request per round for up to bol's maximum of ids, asking again only the ones still
PENDING."""

from __future__ import annotations

import json
import math

import httpx
import pytest

from koppel.connectors.base import Parcel, StockPushResult, StockUpdate
from koppel.connectors.bol.connector import NOT_CONFIRMED, BolConnector
from koppel.connectors.bol.processes import MAX_STATUSES_PER_REQUEST
from koppel.connectors.bol.settings import BolSettings
from koppel.connectors.http import Clock
from koppel.models import CancelReason, OrderStatus
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, BolSimulator, RateLimit, SimItem, sample_ean

from .conftest import API_URL, V10, FakeTime

SHARED = f"{API_URL}/shared/process-status"
BULK_RULE = "bol/shared.json#/components/schemas/BulkProcessStatusRequest"


def offers(sim: BolSimulator, number: int) -> list[StockUpdate]:
    """`number` offers on the account, and a stock update for each."""
    sim.rate_limit = RateLimit(1_000_000, 1.0)  # bol's throttle is not what these tests are about
    updates = []
    for n in range(number):
        sim.add_offer(f"offer-{n:05d}", sample_ean(n + 1), f"SKU-{n:05d}", stock=0)
        updates.append(StockUpdate(f"SKU-{n:05d}", n % 50, f"offer-{n:05d}"))
    return updates


def bulk_polls(sim: BolSimulator) -> list[list[str]]:
    """The process ids asked in each bulk status request, in order."""
    return [
        [query["processStatusId"] for query in json.loads(call.body)["processStatusQueries"]]
        for call in sim.calls("process-status-bulk")
    ]


def process_of(sim: BolSimulator, offer_id: str) -> str:
    return next(update.process_status_id for update in sim.stock_updates if update.offer_id == offer_id)


def test_a_batch_of_250_stock_updates_settles_in_one_status_request(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN 250 offers, and bol settling every update at once
    updates = offers(sim, 250)

    # WHEN their stock is pushed as one batch
    results = connector.push_stock(updates)

    # THEN every SKU is accepted, with ceil(250 / 1,000) status requests instead of one per update
    assert all(result.accepted for result in results)
    assert len(sim.calls("process-status-bulk")) == math.ceil(250 / MAX_STATUSES_PER_REQUEST) == 1
    assert sim.calls("process-status") == []
    assert sorted(bulk_polls(sim)[0]) == sorted(update.process_status_id for update in sim.stock_updates)
    assert sim.offer_stock("offer-00049") == 49
    assert sim.violations == []
    assert sim.response_violations == []


def test_more_processes_than_bol_takes_at_once_go_in_requests_of_at_most_its_maximum(
    sim: BolSimulator, connector: BolConnector
) -> None:
    updates = offers(sim, MAX_STATUSES_PER_REQUEST + 1)

    results = connector.push_stock(updates)

    assert all(result.accepted for result in results)
    assert [len(ids) for ids in bulk_polls(sim)] == [MAX_STATUSES_PER_REQUEST, 1]
    assert sim.violations == []


def test_only_the_processes_still_pending_are_asked_again(
    sim: BolSimulator, connector: BolConnector, sleeps: list[float]
) -> None:
    # GIVEN three updates, one of which bol takes two more polls to settle
    updates = offers(sim, 3)
    sim.slow_process("offer-00001", polls=2)

    results = connector.push_stock(updates)

    # THEN the first round asks all three, the next ones the slow one alone
    assert all(result.accepted for result in results)
    slow = process_of(sim, "offer-00001")
    assert [len(ids) for ids in bulk_polls(sim)] == [3, 1, 1]
    assert bulk_polls(sim)[1:] == [[slow], [slow]]
    assert sleeps == [2.0, 2.0]


def test_a_failure_for_one_process_is_that_skus_only(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN bol refuses one offer's update, and settles the batch after one PENDING poll
    updates = offers(sim, 3)
    sim.pending_polls = 1
    sim.refuse_stock("offer-00001", "Offer is on hold by bol.com.")

    results = connector.push_stock(updates)

    # THEN that SKU is refused with bol's reason, not to be retried; the others are accepted
    assert results == [
        StockPushResult("SKU-00000", accepted=True),
        StockPushResult("SKU-00001", accepted=False, error="Offer is on hold by bol.com."),
        StockPushResult("SKU-00002", accepted=True),
    ]
    assert [len(ids) for ids in bulk_polls(sim)] == [3, 3]


def test_a_process_left_out_of_bols_answer_is_still_pending_and_not_called_accepted(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, fake_time: FakeTime
) -> None:
    # GIVEN bol forgets one process after the first poll (it keeps finished ones only for a while)
    updates = offers(sim, 2)
    sim.pending_polls = 1

    def sleep(seconds: float) -> None:
        sim.forget_process(process_of(sim, "offer-00000"))
        fake_time.sleep(seconds)

    clock = Clock(now=fake_time.time, sleep=sleep, jitter=fake_time.jitter)
    connector = BolConnector(
        http_client, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, settings, clock=clock, stock_wait_seconds=6.0
    )

    results = connector.push_stock(updates)

    # THEN its update is not confirmed and comes back to retry; the other is accepted
    assert results == [
        StockPushResult("SKU-00000", accepted=False, error=NOT_CONFIRMED, retryable=True),
        StockPushResult("SKU-00001", accepted=True),
    ]
    # AND it was asked again within the budget, alone once the other had settled
    forgotten = process_of(sim, "offer-00000")
    assert [len(ids) for ids in bulk_polls(sim)] == [2, 2, 1, 1]
    assert all(ids == [forgotten] for ids in bulk_polls(sim)[2:])
    assert sum(fake_time.sleeps) == pytest.approx(6.0)


def test_a_status_request_bol_refuses_leaves_the_batch_to_retry_without_asking_again(
    sim: BolSimulator, connector: BolConnector
) -> None:
    updates = offers(sim, 2)
    sim.pending_polls = 1
    sim.fail_next(1, 400, group="process-status-bulk")

    results = connector.push_stock(updates)

    assert [(result.accepted, result.retryable, result.error) for result in results] == [
        (False, True, NOT_CONFIRMED)
    ] * 2
    assert len(sim.calls("process-status-bulk")) == 1


def test_a_timeout_shows_in_the_bulk_answer(sim: BolSimulator, connector: BolConnector) -> None:
    updates = offers(sim, 2)
    sim.pending_polls = 1
    sim.time_out_next()

    results = connector.push_stock(updates)

    assert (results[0].accepted, results[0].retryable) == (False, True)
    assert "timed out" in results[0].error
    assert results[1].accepted


def test_the_processes_of_one_cancellation_are_followed_together(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN an order of three items, cancelled as three bol processes that each take a poll
    order_id = sim.add_dutch_order(
        items=[SimItem(ean=sample_ean(n), title=f"Artikel {n}", unit_price="9.95") for n in (1, 2, 3)]
    )
    sim.pending_polls = 1
    accepted = connector.cancel(order_id, (), CancelReason.OUT_OF_STOCK)

    outcome = connector.follow(accepted)

    # THEN two status requests settle all three, not one per process per round
    assert (outcome.status, outcome.process_ids) == ("SUCCESS", accepted.process_ids)
    assert bulk_polls(sim) == [list(accepted.process_ids)] * 2
    assert sim.calls("process-status") == []
    assert connector.get_order(order_id).status is OrderStatus.CANCELLED


def test_shipments_of_several_orders_are_followed_together(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN two orders shipped, a third whose cancellation bol refuses, each process taking a poll
    shipped = [sim.add_dutch_order() for _ in range(2)]
    refused = sim.add_dutch_order(items=[SimItem(ean=sample_ean(9), title="Fietslamp", unit_price="24.99")])
    refused_item = sim.order(refused)["orderItems"][0]["orderItemId"]
    sim.refuse_cancellation(refused_item, "The order item has already been handed to the carrier.")
    sim.pending_polls = 1
    accepted = [connector.ship(shipped[0], Parcel(line_ids=(), tracking_codes=("3SKOPL000000001",)), "postnl")]
    accepted.append(connector.ship(shipped[1], Parcel(line_ids=()), "dhl"))
    accepted.append(connector.cancel(refused, (refused_item,), CancelReason.OUT_OF_STOCK))

    outcomes = connector.follow_all(accepted)

    # THEN each keeps its own outcome, from two bulk requests for all three
    assert [outcome.status for outcome in outcomes] == ["SUCCESS", "SUCCESS", "FAILURE"]
    assert outcomes[2].error == "The order item has already been handed to the carrier."
    assert [outcome.process_id for outcome in outcomes] == [process.process_id for process in accepted]
    assert len(sim.calls("process-status-bulk")) == 2
    assert all(len(ids) == 3 for ids in bulk_polls(sim))


def test_process_statuses_reads_each_id_once_and_leaves_out_what_bol_does_not_know(
    sim: BolSimulator, connector: BolConnector
) -> None:
    connector.push_stock(offers(sim, 2))
    known = [update.process_status_id for update in sim.stock_updates]

    found = connector.process_statuses([*known, known[0], "404404"])

    assert sorted(found) == sorted(known)
    assert {result.status for result in found.values()} == {"SUCCESS"}
    assert bulk_polls(sim)[-1] == [*known, "404404"]


# --- the simulator's bulk route, held to bol's shared.json ---------------------------------------
def test_the_simulator_answers_a_bulk_poll_as_the_spec_says(
    validating_sim: BolSimulator, http_client: httpx.Client, connector: BolConnector, bearer: dict[str, str]
) -> None:
    validating_sim.pending_polls = 1
    connector.push_stock(offers(validating_sim, 2))
    ids = [update.process_status_id for update in validating_sim.stock_updates]
    headers = bearer | {"Content-Type": V10}
    body = {"processStatusQueries": [{"processStatusId": process_id} for process_id in ids]}

    # pending_polls counts bulk polls as it counts single ones
    first = http_client.post(SHARED, json=body, headers=headers)
    second = http_client.post(SHARED, json=body, headers=headers)

    assert first.status_code == 200
    assert [entry["status"] for entry in second.json()["processStatuses"]] == ["SUCCESS", "SUCCESS"]
    assert [entry["processStatusId"] for entry in second.json()["processStatuses"]] == ids
    assert validating_sim.violations == []
    assert validating_sim.response_violations == []


@pytest.mark.parametrize(
    ("queries", "location"),
    [
        (
            [{"processStatusId": str(n)} for n in range(MAX_STATUSES_PER_REQUEST + 1)],
            f"{BULK_RULE}/properties/processStatusQueries/maxItems",
        ),
        ([], f"{BULK_RULE}/properties/processStatusQueries/minItems"),
        ([{"id": "1"}], "bol/shared.json#/components/schemas/ProcessStatusId/required"),
    ],
    ids=["over the maximum", "none", "without processStatusId"],
)
def test_the_simulator_refuses_a_bulk_poll_off_the_spec_naming_the_rule(
    validating_sim: BolSimulator,
    http_client: httpx.Client,
    bearer: dict[str, str],
    queries: list[dict[str, str]],
    location: str,
) -> None:
    answer = http_client.post(SHARED, json={"processStatusQueries": queries}, headers=bearer | {"Content-Type": V10})

    assert answer.status_code == 400
    assert answer.json()["violations"]
    assert [violation.location for violation in validating_sim.violations] == [location]


def test_the_simulator_refuses_a_bulk_poll_without_a_body(
    validating_sim: BolSimulator, http_client: httpx.Client, bearer: dict[str, str]
) -> None:
    answer = http_client.post(SHARED, headers=bearer)

    assert answer.status_code == 400
    assert validating_sim.violations
