"""Stock to bol.com offers, and finding which offer is which SKU, against the simulator."""

from __future__ import annotations

import json

import httpx
import pytest

from koppel.connectors.base import StockPushResult, StockTarget, StockUpdate
from koppel.connectors.bol.connector import NOT_CONFIRMED, BolConnector, parse_offer_export
from koppel.connectors.bol.settings import BolSettings
from koppel.connectors.http import Clock
from koppel.errors import TransientConnectorError
from koppel_local.simulators.bol import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    OFFER_EXPORT_COLUMNS,
    BolSimulator,
    sample_ean,
)

from .conftest import API_URL, V10

MUG = "0b6e1f3c-6d0a-4c1e-9b57-5f1c2a7d0001"
PLAID = "0b6e1f3c-6d0a-4c1e-9b57-5f1c2a7d0002"
LAMP = "0b6e1f3c-6d0a-4c1e-9b57-5f1c2a7d0003"
UNKNOWN = "0b6e1f3c-6d0a-4c1e-9b57-5f1c2a7d0999"


@pytest.fixture
def offers(sim: BolSimulator) -> None:
    """Three offers on the retailer's bol account, each with some stock already."""
    sim.add_offer(MUG, sample_ean(1), "MOK-AARDE-350", stock=4)
    sim.add_offer(PLAID, sample_ean(2), "PLD-WOL-OKR", stock=1)
    sim.add_offer(LAMP, sample_ean(3), "", stock=0)  # no reference set: only its EAN identifies it


def connector_with(http_client: httpx.Client, settings: BolSettings, clock: Clock, **budgets: float) -> BolConnector:
    return BolConnector(http_client, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, settings, clock=clock, **budgets)


# --- push_stock ---------------------------------------------------------------------------------
@pytest.mark.usefixtures("offers")
def test_stock_lands_on_the_bol_offers(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN offers with old stock WHEN koppel pushes new quantities
    results = connector.push_stock([StockUpdate("MOK-AARDE-350", 12, MUG), StockUpdate("PLD-WOL-OKR", 0, PLAID)])

    # THEN bol shows the new stock, managed by the retailer, and both SKUs are accepted in order
    assert sim.offer_stock(MUG) == 12
    assert sim.offer_stock(PLAID) == 0
    assert sim.stock_managed_by_retailer(MUG)
    assert results == [StockPushResult("MOK-AARDE-350", accepted=True), StockPushResult("PLD-WOL-OKR", accepted=True)]
    assert sim.violations == []
    assert sim.response_violations == []


@pytest.mark.usefixtures("offers")
def test_quantities_are_clamped_to_what_bol_takes(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN more stock than bol can show, and a negative count from the backoffice
    results = connector.push_stock([StockUpdate("MOK-AARDE-350", 1200, MUG), StockUpdate("PLD-WOL-OKR", -3, PLAID)])

    # THEN bol shows 999 and 0, and nothing koppel sent broke the spec
    assert sim.offer_stock(MUG) == 999
    assert sim.offer_stock(PLAID) == 0
    assert all(result.accepted for result in results)
    assert sim.violations == []


@pytest.mark.usefixtures("offers")
def test_an_unknown_offer_is_refused_by_id_and_the_others_still_go(sim: BolSimulator, connector: BolConnector) -> None:
    results = connector.push_stock(
        [
            StockUpdate("MOK-AARDE-350", 7, MUG),
            StockUpdate("GONE-1", 5, UNKNOWN),
            StockUpdate("PLD-WOL-OKR", 3, PLAID),
        ]
    )

    assert [result.sku for result in results] == ["MOK-AARDE-350", "GONE-1", "PLD-WOL-OKR"]
    refused = results[1]
    assert not refused.accepted
    assert not refused.retryable
    assert UNKNOWN in refused.error
    assert results[0].accepted and results[2].accepted
    assert (sim.offer_stock(MUG), sim.offer_stock(PLAID)) == (7, 3)


@pytest.mark.usefixtures("offers")
def test_an_update_without_an_offer_id_is_refused_without_asking_bol(
    sim: BolSimulator, connector: BolConnector
) -> None:
    [result] = connector.push_stock([StockUpdate("NEW-SKU", 5, "")])

    assert not result.accepted and not result.retryable
    assert result.error
    assert sim.calls("offer-stock") == []


@pytest.mark.usefixtures("offers")
def test_a_failed_update_carries_bols_reason(sim: BolSimulator, connector: BolConnector) -> None:
    # GIVEN bol will refuse the plaid's update
    sim.refuse_stock(PLAID, "Offer PLD-WOL-OKR is blocked by bol.com.")
    sim.pending_polls = 1

    results = connector.push_stock([StockUpdate("MOK-AARDE-350", 2, MUG), StockUpdate("PLD-WOL-OKR", 9, PLAID)])

    # THEN the operator reads bol's own reason, and the plaid keeps its old stock
    assert results[0].accepted
    assert results[1] == StockPushResult(
        "PLD-WOL-OKR", accepted=False, error="Offer PLD-WOL-OKR is blocked by bol.com."
    )
    assert sim.offer_stock(PLAID) == 1


def test_an_offer_fulfilled_by_bol_takes_no_retailer_stock(sim: BolSimulator, connector: BolConnector) -> None:
    sim.add_offer(MUG, sample_ean(1), "MOK-AARDE-350", stock=30, fulfilment_method="FBB")

    [result] = connector.push_stock([StockUpdate("MOK-AARDE-350", 2, MUG)])

    assert not result.accepted and not result.retryable
    assert "fulfilled by bol.com" in result.error
    assert sim.offer_stock(MUG) == 30


@pytest.mark.usefixtures("offers")
def test_updates_bol_settles_after_a_few_polls_are_accepted(
    sim: BolSimulator, connector: BolConnector, sleeps: list[float]
) -> None:
    sim.pending_polls = 2

    results = connector.push_stock([StockUpdate("MOK-AARDE-350", 5, MUG), StockUpdate("PLD-WOL-OKR", 6, PLAID)])

    assert all(result.accepted for result in results)
    assert len(sim.calls("process-status-bulk")) == 3  # three rounds, both processes in each
    assert sim.calls("process-status") == []
    assert sleeps == [2.0, 2.0]


@pytest.mark.usefixtures("offers")
def test_updates_bol_has_not_confirmed_in_time_are_retryable_not_accepted(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, clock: Clock, sleeps: list[float]
) -> None:
    # GIVEN bol is slow with every process, and a 6-second budget for the batch
    sim.pending_polls = 100
    connector = connector_with(http_client, settings, clock, stock_wait_seconds=6.0)

    results = connector.push_stock([StockUpdate(f"SKU-{n}", n, offer) for n, offer in enumerate((MUG, PLAID, LAMP))])

    # THEN no SKU is called accepted; each is to be tried again
    assert results == [
        StockPushResult(f"SKU-{n}", accepted=False, error=NOT_CONFIRMED, retryable=True) for n in range(3)
    ]
    # AND the wait was one budget for the whole batch, not one per offer
    assert sum(sleeps) == pytest.approx(6.0)
    # AND every update was sent before the first poll
    groups = [logged.group for logged in sim.request_log if logged.group in ("offer-stock", "process-status-bulk")]
    assert groups[:4] == ["offer-stock"] * 3 + ["process-status-bulk"]
    assert "offer-stock" not in groups[3:]


@pytest.mark.usefixtures("offers")
def test_a_timeout_at_bol_is_retryable(sim: BolSimulator, connector: BolConnector) -> None:
    sim.time_out_next()

    results = connector.push_stock([StockUpdate("MOK-AARDE-350", 8, MUG), StockUpdate("PLD-WOL-OKR", 8, PLAID)])

    assert not results[0].accepted and results[0].retryable
    assert results[1].accepted
    assert sim.offer_stock(MUG) == 4  # unchanged
    assert sim.offer_stock(PLAID) == 8


@pytest.mark.usefixtures("offers")
def test_a_429_with_retry_after_is_waited_out(sim: BolSimulator, connector: BolConnector, sleeps: list[float]) -> None:
    # GIVEN bol throttles the first stock request, asking for 3 seconds
    sim.fail_next(1, 429, group="offer-stock", retry_after=3)

    [result] = connector.push_stock([StockUpdate("MOK-AARDE-350", 11, MUG)])

    # THEN koppel waited exactly as long as bol asked and the stock got there
    assert sleeps[0] == 3.0
    assert result.accepted
    assert sim.offer_stock(MUG) == 11
    assert [logged.status for logged in sim.calls("offer-stock")] == [429, 202]


@pytest.mark.usefixtures("offers")
def test_bol_unreachable_for_one_offer_is_retryable_and_the_rest_still_goes(
    sim: BolSimulator, connector: BolConnector
) -> None:
    # GIVEN bol answers 500 to every attempt of the first update (HttpApi tries six times)
    sim.fail_next(6, 500, group="offer-stock")

    results = connector.push_stock([StockUpdate("MOK-AARDE-350", 1, MUG), StockUpdate("PLD-WOL-OKR", 2, PLAID)])

    assert not results[0].accepted and results[0].retryable
    assert results[0].error
    assert results[1].accepted
    assert (sim.offer_stock(MUG), sim.offer_stock(PLAID)) == (4, 2)


def test_the_connector_is_a_stock_target(connector: BolConnector) -> None:
    assert isinstance(connector, StockTarget)
    assert connector.max_batch == 100


# --- channel_refs -------------------------------------------------------------------------------
@pytest.mark.usefixtures("offers")
def test_offers_are_found_by_reference_then_by_ean_and_unknown_skus_left_out(connector: BolConnector) -> None:
    refs = connector.channel_refs(
        [
            ("MOK-AARDE-350", ""),  # by reference
            ("LAMP-LED", sample_ean(3)),  # the offer has no reference: by EAN
            ("PLD-WOL-OKR", sample_ean(3)),  # the reference wins over an EAN of another offer
            ("NOT-ON-BOL", sample_ean(40)),
        ]
    )

    assert refs == {"MOK-AARDE-350": MUG, "LAMP-LED": LAMP, "PLD-WOL-OKR": PLAID}


@pytest.mark.usefixtures("offers")
def test_the_export_is_made_once_per_connector(sim: BolSimulator, connector: BolConnector) -> None:
    sim.pending_polls = 2

    first = connector.channel_refs([("MOK-AARDE-350", "")])
    second = connector.channel_refs([("PLD-WOL-OKR", "")])

    assert (first, second) == ({"MOK-AARDE-350": MUG}, {"PLD-WOL-OKR": PLAID})
    assert len(sim.calls("offer-export")) == 1
    assert len(sim.calls("offer-export-file")) == 1
    assert sim.violations == []
    assert sim.response_violations == []


@pytest.mark.usefixtures("offers")
def test_an_export_not_ready_in_time_is_picked_up_by_the_next_call(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, clock: Clock
) -> None:
    # GIVEN bol takes longer over the export than the connector waits
    sim.pending_polls = 5
    connector = connector_with(http_client, settings, clock, export_wait_seconds=20.0, export_poll_seconds=10.0)

    with pytest.raises(TransientConnectorError):
        connector.channel_refs([("MOK-AARDE-350", "")])
    refs = connector.channel_refs([("MOK-AARDE-350", "")])

    # THEN the second call finished the same export instead of asking bol for another
    assert refs == {"MOK-AARDE-350": MUG}
    assert len(sim.calls("offer-export")) == 1


def test_a_new_offer_shared_by_an_fbb_offer_is_found_by_its_ean(sim: BolSimulator, connector: BolConnector) -> None:
    sim.add_offer(MUG, sample_ean(1), "", fulfilment_method="FBB")
    sim.add_offer(PLAID, sample_ean(1), "", fulfilment_method="FBR")
    sim.add_offer(LAMP, sample_ean(2), "", condition="NEW")
    sim.add_offer(UNKNOWN, sample_ean(2), "", condition="AS_NEW")

    refs = connector.channel_refs([("MOK", sample_ean(1)), ("PLAID", sample_ean(2))])

    assert refs == {"MOK": PLAID, "PLAID": LAMP}


def test_offers_that_cannot_be_told_apart_are_left_out(sim: BolSimulator, connector: BolConnector) -> None:
    sim.add_offer(MUG, sample_ean(1), "")
    sim.add_offer(PLAID, sample_ean(1), "")

    assert connector.channel_refs([("MOK", sample_ean(1))]) == {}


def test_bols_export_columns_are_read_by_name() -> None:
    text = (
        "\ufeffofferId,ean,conditionName,conditionCategory,conditionComment,bundlePricesPrice,fulfilmentDeliveryCode,"
        "stockAmount,onHoldByRetailer,fulfilmentType,mutationDateTime,referenceCode\n"
        f"{MUG},8785073983111,NEW,NEW,,12.00,3-5d,1,false,FBR,2019-03-07 14:00:32.743 UTC,MOK-1\n"
    )

    [offer] = parse_offer_export(text)

    assert (offer.offer_id, offer.ean, offer.reference, offer.stock_amount) == (MUG, "8785073983111", "MOK-1", 1)
    assert str(offer.price) == "12.00"


# --- the simulator keeps koppel honest -------------------------------------------------------------
@pytest.mark.usefixtures("offers")
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"managedByRetailer": True}, "amount"),
        ({"amount": 1000, "managedByRetailer": True}, "amount"),
        ({"amount": 5}, "managedByRetailer"),
    ],
)
def test_the_simulator_refuses_a_stock_body_the_spec_forbids(
    validating_sim: BolSimulator, http_client: httpx.Client, bearer: dict[str, str], body: dict[str, object], field: str
) -> None:
    sim = validating_sim
    answer = http_client.put(
        f"{API_URL}/retailer/offers/{MUG}/stock",
        headers={**bearer, "Content-Type": V10},
        content=json.dumps(body),
    )

    assert answer.status_code == 400
    # a missing property is named in the reason, a wrong value by its place in the body
    named = [f"{violation['name']}: {violation['reason']}" for violation in answer.json()["violations"]]
    assert any(field in text for text in named), named
    recorded = sim.violations  # the refusal is the point of this test: claimed, with its spec location
    assert any(field in f"{violation.name}: {violation.reason}" for violation in recorded), recorded
    assert all(violation.location.startswith("bol/retailer.json#/") for violation in recorded)
    assert sim.offer_stock(MUG) == 4


def test_the_simulator_answers_an_unknown_offer_with_bols_problem(
    sim: BolSimulator, http_client: httpx.Client, bearer: dict[str, str]
) -> None:
    answer = http_client.put(
        f"{API_URL}/retailer/offers/{UNKNOWN}/stock",
        headers={**bearer, "Content-Type": V10},
        content=json.dumps({"amount": 1, "managedByRetailer": True}),
    )

    assert answer.status_code == 404
    assert answer.json()["status"] == 404
    assert UNKNOWN in answer.json()["detail"]


@pytest.mark.usefixtures("offers")
def test_the_simulator_exports_offers_as_bols_csv(
    validating_sim: BolSimulator, http_client: httpx.Client, bearer: dict[str, str]
) -> None:
    sim = validating_sim
    headers = {**bearer, "Content-Type": V10}
    process = http_client.post(f"{API_URL}/retailer/offers/export", headers=headers, content='{"format": "CSV"}')
    report_id = sim.process_status(process.json()["processStatusId"])["entityId"]

    as_json = http_client.get(f"{API_URL}/retailer/offers/export/{report_id}", headers=bearer)
    as_csv = http_client.get(
        f"{API_URL}/retailer/offers/export/{report_id}",
        headers={**bearer, "Accept": "application/vnd.retailer.v10+csv"},
    )

    assert process.status_code == 202
    assert as_json.status_code == 400  # the file is only served as CSV
    assert [violation.name for violation in sim.violations] == ["Accept"]
    assert as_csv.status_code == 200
    header, *rows = as_csv.text.splitlines()
    assert tuple(header.split(",")) == OFFER_EXPORT_COLUMNS
    assert len(rows) == 3
    assert sim.response_violations == []


@pytest.mark.usefixtures("offers")
def test_a_rate_limit_longer_than_koppel_waits_leaves_the_batch_for_the_next_run(
    sim: BolSimulator, connector: BolConnector, sleeps: list[float]
) -> None:
    # GIVEN bol asks for a two-minute pause, longer than koppel waits within a run
    sim.fail_next(1, 429, group="offer-stock", retry_after=120)

    results = connector.push_stock([StockUpdate("MOK-AARDE-350", 1, MUG), StockUpdate("PLD-WOL-OKR", 2, PLAID)])

    # THEN every SKU is to be tried again, and bol was not pressed with more requests
    assert [(result.accepted, result.retryable) for result in results] == [(False, True), (False, True)]
    assert len(sim.calls("offer-stock")) == 1
    assert sleeps == []
    assert (sim.offer_stock(MUG), sim.offer_stock(PLAID)) == (4, 1)
