"""The bol.com simulator as any HTTP client sees it: bol's answers, bol's refusals, bol's limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from koppel.connectors.bol.settings import BolSettings
from koppel_local.reference import MISSING_REASON, reference_file
from koppel_local.simulators.bol import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    BolSimulator,
    RateLimit,
    SimItem,
    sample_ean,
)

# Every test here fails if it leaves a request off the published contract unexamined.
from koppel_local.simulators.kit.pytest_plugin import strict_simulators  # noqa: F401

from .conftest import FakeTime

needs_spec = pytest.mark.skipif(reference_file("bol", "retailer.json") is None, reason=MISSING_REASON)

V10 = "application/vnd.retailer.v10+json"


@pytest.fixture
def api(settings: BolSettings) -> str:
    return f"{settings.base_url}/retailer"


def ship_request(*item_ids: str, transporter: str = "TNT", code: str = "3SKOPL000999888") -> dict[str, object]:
    return {
        "orderItems": [{"orderItemId": item_id} for item_id in item_ids],
        "transport": {"transporterCode": transporter, "trackAndTrace": code},
    }


def item_ids(sim: BolSimulator, order_id: str) -> list[str]:
    return [item["orderItemId"] for item in sim.order(order_id)["orderItems"]]


# --- token endpoint -----------------------------------------------------------------------------
def test_the_token_endpoint_issues_five_minute_bearer_tokens(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings
) -> None:
    answer = http_client.post(
        settings.token_url,
        params={"grant_type": "client_credentials"},
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
        headers={"Accept": "application/json"},
    )

    body = answer.json()
    assert answer.status_code == 200
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 299, "RETAILER")
    assert body["access_token"]
    assert sim.token_requests == 1


def test_the_grant_type_may_also_come_in_the_form_body(http_client: httpx.Client, settings: BolSettings) -> None:
    answer = http_client.post(
        settings.token_url, data={"grant_type": "client_credentials"}, auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    )

    assert answer.status_code == 200


def test_wrong_client_credentials_get_invalid_client(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings
) -> None:
    answer = http_client.post(
        settings.token_url, params={"grant_type": "client_credentials"}, auth=(DEMO_CLIENT_ID, "guess")
    )

    assert answer.status_code == 401
    assert answer.json() == {"error": "invalid_client", "error_description": "Bad client credentials"}
    assert sim.token_requests == 1


# --- authentication of Retailer calls -----------------------------------------------------------
def test_a_call_without_a_token_is_refused(http_client: httpx.Client, api: str) -> None:
    answer = http_client.get(f"{api}/orders", headers={"Accept": V10})

    assert answer.status_code == 401


def test_an_expired_token_is_refused_as_expired_jwt(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    sim.expire_tokens()

    answer = http_client.get(f"{api}/orders", headers=bearer)

    assert answer.status_code == 401
    assert answer.json()["title"] == "Expired JWT"


def test_a_token_expires_after_299_seconds(
    http_client: httpx.Client, api: str, bearer: dict[str, str], advance: Callable[[float], None]
) -> None:
    advance(298)
    assert http_client.get(f"{api}/orders", headers=bearer).status_code == 200

    advance(1)
    assert http_client.get(f"{api}/orders", headers=bearer).status_code == 401


# --- orders -------------------------------------------------------------------------------------
def test_an_empty_order_page_is_an_empty_object(http_client: httpx.Client, api: str, bearer: dict[str, str]) -> None:
    answer = http_client.get(f"{api}/orders", params={"page": 1}, headers=bearer)

    assert answer.status_code == 200
    assert answer.text == "{ }"
    assert answer.headers["Content-Type"] == f"{V10};charset=UTF-8"


def test_open_orders_are_listed_fifty_a_page(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    sim.add_dutch_orders(51)

    pages = [
        http_client.get(f"{api}/orders", params={"status": "OPEN", "page": page}, headers=bearer).json()
        for page in (1, 2, 3)
    ]

    assert [len(page.get("orders", [])) for page in pages] == [50, 1, 0]
    item = pages[1]["orders"][0]["orderItems"][0]
    assert set(item) == {
        "orderItemId",
        "ean",
        "fulfilmentMethod",
        "fulfilmentStatus",
        "quantity",
        "quantityShipped",
        "quantityCancelled",
        "cancellationRequest",
        "latestChangedDateTime",
    }
    assert (item["fulfilmentMethod"], item["fulfilmentStatus"]) == ("FBR", "OPEN")


def test_an_order_carries_prices_digit_for_digit(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    sim.add_order("1042823870", [SimItem(ean=sample_ean(0), title="Koffie", unit_price="19.99", quantity=3)])

    answer = http_client.get(f"{api}/orders/1042823870", headers=bearer)

    assert '"unitPrice": 19.99' in answer.text
    item = answer.json(parse_float=Decimal)["orderItems"][0]
    assert (item["unitPrice"], item["totalPrice"]) == (Decimal("19.99"), Decimal("59.97"))


def test_generated_orders_look_dutch_and_real(sim: BolSimulator) -> None:
    order = sim.order(sim.add_dutch_order())

    address = order["shipmentDetails"]
    assert address["countryCode"] == "NL"
    assert len(address["zipCode"]) == 6 and address["zipCode"][:4].isdigit()
    assert address["email"].endswith("@verkopen.bol.example")
    assert all(len(item["product"]["ean"]) == 13 for item in order["orderItems"])
    assert order["billingDetails"]["email"] == address["email"]


def test_an_unknown_order_is_a_404_problem(http_client: httpx.Client, api: str, bearer: dict[str, str]) -> None:
    answer = http_client.get(f"{api}/orders/NOPE", headers=bearer)

    problem = answer.json()
    assert answer.status_code == 404
    assert (problem["type"], problem["title"], problem["status"]) == ("https://api.bol.com/problems", "Not Found", 404)


def test_the_demo_path_serves_the_same_api(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, bearer: dict[str, str]
) -> None:
    sim.add_dutch_order()

    answer = http_client.get(f"{settings.base_url}/retailer-demo/orders", headers=bearer)

    assert len(answer.json()["orders"]) == 1
    assert sim.violations == []


# --- shipments and process status ---------------------------------------------------------------
def test_a_shipment_is_accepted_then_succeeds(
    sim: BolSimulator, http_client: httpx.Client, api: str, settings: BolSettings, bearer: dict[str, str]
) -> None:
    # GIVEN an open order
    order_id = sim.add_dutch_order()

    # WHEN all its items are shipped
    accepted = http_client.post(
        f"{api}/shipments",
        content=json.dumps(ship_request(*item_ids(sim, order_id))),
        headers={**bearer, "Content-Type": V10},
    )

    # THEN bol accepts it for processing, and polling shows it went through
    assert accepted.status_code == 202
    pending = accepted.json()
    assert (pending["eventType"], pending["status"]) == ("CREATE_SHIPMENT", "PENDING")
    (link,) = pending["links"]
    polled = http_client.get(link["href"], headers=bearer).json()
    assert link["href"] == f"{settings.base_url}/shared/process-status/{pending['processStatusId']}"
    assert polled["status"] == "SUCCESS"
    # AND the order is no longer open
    assert http_client.get(f"{api}/orders", headers=bearer).text == "{ }"
    listed = http_client.get(f"{api}/orders", params={"status": "ALL"}, headers=bearer).json()
    assert {item["fulfilmentStatus"] for item in listed["orders"][0]["orderItems"]} == {"HANDLED"}
    assert sim.shipments[0].track_and_trace == "3SKOPL000999888"


def test_shipping_an_item_twice_fails_in_processing(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    order_id = sim.add_dutch_order()
    body = json.dumps(ship_request(*item_ids(sim, order_id)))
    headers = {**bearer, "Content-Type": V10}
    http_client.post(f"{api}/shipments", content=body, headers=headers)

    again = http_client.post(f"{api}/shipments", content=body, headers=headers).json()

    status = sim.process_status(again["processStatusId"])
    assert status["status"] == "FAILURE"
    first_item = item_ids(sim, order_id)[0]
    assert status["errorMessage"] == f"Order item {first_item} has already been shipped or cancelled."
    assert len(sim.shipments) == 1


def test_a_shipment_of_an_unknown_item_fails_in_processing(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    answer = http_client.post(
        f"{api}/shipments", content=json.dumps(ship_request("999")), headers={**bearer, "Content-Type": V10}
    )

    assert answer.status_code == 202
    assert sim.process_status(answer.json()["processStatusId"])["status"] == "FAILURE"
    assert sim.shipments == []


def test_a_process_stays_pending_for_the_configured_number_of_polls(
    sim: BolSimulator, http_client: httpx.Client, api: str, settings: BolSettings, bearer: dict[str, str]
) -> None:
    # GIVEN a bol that takes two polls to process a shipment
    sim.pending_polls = 2
    order_id = sim.add_dutch_order()

    accepted = http_client.post(
        f"{api}/shipments",
        content=json.dumps(ship_request(*item_ids(sim, order_id))),
        headers={**bearer, "Content-Type": V10},
    ).json()
    url = f"{settings.base_url}/shared/process-status/{accepted['processStatusId']}"

    # THEN the first two polls say PENDING, the third and later ones SUCCESS
    assert [http_client.get(url, headers=bearer).json()["status"] for _ in range(4)] == [
        "PENDING",
        "PENDING",
        "SUCCESS",
        "SUCCESS",
    ]


def test_a_failure_shows_its_error_message_only_once_processed(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, api: str, bearer: dict[str, str]
) -> None:
    sim.pending_polls = 1
    accepted = http_client.post(
        f"{api}/shipments", content=json.dumps(ship_request("999")), headers={**bearer, "Content-Type": V10}
    ).json()
    url = f"{settings.base_url}/shared/process-status/{accepted['processStatusId']}"

    pending, failed = (http_client.get(url, headers=bearer).json() for _ in range(2))

    assert (pending["status"], "errorMessage" in pending) == ("PENDING", False)
    assert (failed["status"], failed["errorMessage"]) == ("FAILURE", "Order item 999 does not exist.")
    assert failed["entityId"] == "999"


def test_items_of_two_orders_cannot_share_a_shipment(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    first, second = sim.add_dutch_orders(2)

    answer = http_client.post(
        f"{api}/shipments",
        content=json.dumps(ship_request(item_ids(sim, first)[0], item_ids(sim, second)[0])),
        headers={**bearer, "Content-Type": V10},
    ).json()

    status = sim.process_status(answer["processStatusId"])
    assert (status["status"], status["errorMessage"]) == (
        "FAILURE",
        "All order items of one shipment must belong to the same order.",
    )
    assert sim.shipments == []


def test_a_shipment_on_the_demo_api_is_followed_on_the_demo_shared_api(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, bearer: dict[str, str]
) -> None:
    order_id = sim.add_dutch_order()

    accepted = http_client.post(
        f"{settings.base_url}/retailer-demo/shipments",
        content=json.dumps(ship_request(*item_ids(sim, order_id))),
        headers={**bearer, "Content-Type": V10},
    ).json()

    (link,) = accepted["links"]
    assert link["href"] == f"{settings.base_url}/shared-demo/process-status/{accepted['processStatusId']}"
    assert http_client.get(link["href"], headers=bearer).json()["status"] == "SUCCESS"


def test_a_timed_out_process_changes_nothing(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    order_id = sim.add_dutch_order()
    sim.time_out_next()

    accepted = http_client.post(
        f"{api}/shipments",
        content=json.dumps(ship_request(*item_ids(sim, order_id))),
        headers={**bearer, "Content-Type": V10},
    ).json()

    assert sim.process_status(accepted["processStatusId"])["status"] == "TIMEOUT"
    assert sim.shipments == []
    assert len(http_client.get(f"{api}/orders", headers=bearer).json()["orders"]) == 1


# --- cancellations ------------------------------------------------------------------------------
def cancel_request(item_id: str, reason: str = "OUT_OF_STOCK") -> str:
    return json.dumps({"orderItems": [{"orderItemId": item_id, "reasonCode": reason}]})


def test_a_cancellation_is_accepted_then_cancels_the_open_units(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    # GIVEN an order of three packs of coffee, one shipped already
    coffee = SimItem(ean=sample_ean(0), title="Koffie", unit_price="14.95", quantity=3, quantity_shipped=1)
    sim.add_order("C100", [coffee])
    (item_id,) = item_ids(sim, "C100")

    # WHEN the retailer cancels the item
    answer = http_client.put(
        f"{api}/orders/cancellation", content=cancel_request(item_id), headers={**bearer, "Content-Type": V10}
    )

    # THEN bol accepts it for processing, and the two open packs are cancelled
    assert answer.status_code == 202
    assert (answer.json()["eventType"], answer.json()["status"]) == ("CANCEL_ORDER", "PENDING")
    assert sim.process_status(answer.json()["processStatusId"])["status"] == "SUCCESS"
    [item] = sim.order("C100")["orderItems"]
    assert (item["quantityShipped"], item["quantityCancelled"]) == (1, 2)
    (cancellation,) = sim.cancellations
    assert (cancellation.order_item_id, cancellation.reason_code, cancellation.units) == (item_id, "OUT_OF_STOCK", 2)
    assert not cancellation.requested_by_customer
    assert http_client.get(f"{api}/orders", headers=bearer).text == "{ }"


def test_cancelling_an_item_with_nothing_open_fails_in_processing(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    order_id = sim.add_dutch_order()
    item_id = item_ids(sim, order_id)[0]
    headers = {**bearer, "Content-Type": V10}
    http_client.put(f"{api}/orders/cancellation", content=cancel_request(item_id), headers=headers)

    again = http_client.put(f"{api}/orders/cancellation", content=cancel_request(item_id), headers=headers).json()

    status = sim.process_status(again["processStatusId"])
    assert (status["status"], status["errorMessage"]) == (
        "FAILURE",
        f"Order item {item_id} has already been shipped or cancelled.",
    )
    assert len(sim.cancellations) == 1


def test_a_buyers_cancellation_request_keeps_the_item_open_and_flagged(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    order_id = sim.add_dutch_order()
    item_id = item_ids(sim, order_id)[0]

    sim.request_cancellation(item_id)

    listed = http_client.get(f"{api}/orders", headers=bearer).json()["orders"][0]["orderItems"]
    assert {item["orderItemId"]: item["cancellationRequest"] for item in listed}[item_id] is True
    assert sim.order(order_id)["orderItems"][0]["cancellationRequest"] is True
    # AND confirming it is a cancellation the buyer asked for
    http_client.put(
        f"{api}/orders/cancellation",
        content=cancel_request(item_id, "REQUESTED_BY_CUSTOMER"),
        headers={**bearer, "Content-Type": V10},
    )
    assert sim.cancellations[0].requested_by_customer


# --- spec validation ----------------------------------------------------------------------------
@needs_spec
def test_a_status_bol_does_not_know_is_refused(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    answer = http_client.get(f"{api}/orders", params={"status": "BOGUS"}, headers=bearer)

    assert answer.status_code == 400
    assert [v["name"] for v in answer.json()["violations"]] == ["status"]
    assert [(v.name, v.path) for v in sim.violations] == [("status", "/retailer/orders")]


@needs_spec
@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"fulfilment-method": "fbr"}, "fulfilment-method"),
        ({"change-interval-minute": "90"}, "change-interval-minute"),
        ({"fulfilment_method": "FBR"}, "fulfilment_method"),
    ],
)
def test_parameters_are_checked_against_their_schemas(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str], params: dict[str, str], name: str
) -> None:
    answer = http_client.get(f"{api}/orders", params=params, headers=bearer)

    assert answer.status_code == 400
    assert [violation.name for violation in sim.violations] == [name]


@needs_spec
@pytest.mark.parametrize("accept", [None, "application/json", "*/*", "application/vnd.retailer.v9+json"])
def test_only_the_v10_media_type_is_accepted(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str], accept: str | None
) -> None:
    headers = {"Authorization": bearer["Authorization"]}
    if accept is not None:
        headers["Accept"] = accept

    answer = http_client.get(f"{api}/orders", headers=headers)

    assert answer.status_code == 400
    assert [violation.name for violation in sim.violations] == ["Accept"]


@needs_spec
@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"orderItems": []}, "orderItems"),
        ({"orderItems": [{"quantity": 1}]}, "orderItems[0]"),
        ({"orderItems": [{"orderItemId": "1", "quantity": "one"}]}, "orderItems[0].quantity"),
        ({"orderItems": [{"orderItemId": "1"}], "transport": {"trackAndTrace": "3S1"}}, "transport"),
    ],
)
def test_shipment_bodies_are_checked_against_the_request_schema(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str], body: object, name: str
) -> None:
    answer = http_client.post(f"{api}/shipments", content=json.dumps(body), headers={**bearer, "Content-Type": V10})

    assert answer.status_code == 400
    assert [violation.name for violation in sim.violations] == [name]
    assert sim.shipments == []


@needs_spec
@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"orderItems": [{"orderItemId": "1", "reasonCode": "CHANGED_MIND"}]}, "orderItems[0].reasonCode"),
        ({"orderItems": [{"orderItemId": "1"}]}, "orderItems[0]"),
        (
            {
                "orderItems": [
                    {"orderItemId": "1", "reasonCode": "OUT_OF_STOCK"},
                    {"orderItemId": "2", "reasonCode": "OUT_OF_STOCK"},
                ]
            },
            "orderItems",
        ),
        ({"orderItems": []}, "orderItems"),
    ],
)
def test_cancellation_bodies_are_checked_against_the_request_schema(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str], body: object, name: str
) -> None:
    # GIVEN an open order, so only the request's shape can stop the cancellation
    sim.add_order("C1", [SimItem(ean=sample_ean(0), title="Koffie", unit_price="9.99", order_item_id="1")])

    answer = http_client.put(
        f"{api}/orders/cancellation", content=json.dumps(body), headers={**bearer, "Content-Type": V10}
    )

    assert answer.status_code == 400
    assert [violation.name for violation in sim.violations] == [name]
    assert sim.cancellations == []
    assert sim.order("C1")["orderItems"][0]["quantityCancelled"] == 0


@needs_spec
def test_a_body_sent_as_plain_json_is_refused(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    answer = http_client.post(f"{api}/shipments", json=ship_request("1"), headers=bearer)

    assert answer.status_code == 400
    assert [violation.name for violation in sim.violations] == ["Content-Type"]


@needs_spec
def test_a_path_or_method_outside_the_spec_is_refused(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    assert http_client.get(f"{api}/orderz", headers=bearer).status_code == 400
    assert http_client.delete(f"{api}/orders", headers=bearer).status_code == 400

    assert [violation.name for violation in sim.violations] == ["path", "method"]


@needs_spec
def test_the_simulators_answers_match_the_response_schemas(
    sim: BolSimulator, http_client: httpx.Client, settings: BolSettings, api: str, bearer: dict[str, str]
) -> None:
    # GIVEN an order with a cancelled item, one partly shipped, a pick-up point delivery
    order_id = sim.add_dutch_order(items=[SimItem(ean=sample_ean(1), title="Theedoek", unit_price="12.50", quantity=2)])
    sim.cancel_item(item_ids(sim, order_id)[0], 1)
    sim.add_order(
        "PUP1",
        [SimItem(ean=sample_ean(2), title="Puzzel", unit_price=18, quantity=1)],
        pickup_point=True,
        shipment_details={**sim.order(order_id)["shipmentDetails"], "pickupPointName": "Buurtwinkel Oost"},
    )
    shipped = http_client.post(
        f"{api}/shipments", content=json.dumps(ship_request("PUP1-missing")), headers={**bearer, "Content-Type": V10}
    ).json()
    sim.pending_polls = 1
    sim.request_cancellation(item_ids(sim, "PUP1")[0])
    cancelled = http_client.put(
        f"{api}/orders/cancellation",
        content=json.dumps({"orderItems": [{"orderItemId": item_ids(sim, "PUP1")[0], "reasonCode": "OUT_OF_STOCK"}]}),
        headers={**bearer, "Content-Type": V10},
    )
    assert cancelled.status_code == 202

    # WHEN every endpoint is asked
    for url in (
        f"{api}/orders",
        f"{api}/orders?status=ALL&fulfilment-method=ALL",
        f"{api}/orders/{order_id}",
        f"{api}/orders/PUP1",
        f"{settings.base_url}/shared/process-status/{shipped['processStatusId']}",
        f"{settings.base_url}/shared/process-status/{cancelled.json()['processStatusId']}",  # PENDING
        f"{settings.base_url}/shared/process-status/{cancelled.json()['processStatusId']}",  # SUCCESS
    ):
        assert http_client.get(url, headers=bearer).status_code == 200

    # THEN every answer fits bol's published response schema, and every request was valid
    assert sim.response_violations == []
    assert sim.violations == []


def test_without_the_reference_files_it_serves_unchecked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: BolSettings
) -> None:
    # GIVEN the reference folder is not beside the repository
    monkeypatch.setenv("KOPPEL_REFERENCE_DIR", str(tmp_path))
    sim = BolSimulator()
    sim.add_dutch_order()

    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        token = client.post(
            settings.token_url, params={"grant_type": "client_credentials"}, auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}", "Accept": V10}
        listed = client.get(f"{settings.base_url}/retailer/orders", headers=auth)
        bogus = client.get(f"{settings.base_url}/retailer/orders", params={"status": "BOGUS"}, headers=auth)

    # THEN it still answers like bol, but checks nothing
    assert not sim.validating
    assert len(listed.json()["orders"]) == 1
    assert bogus.status_code == 200
    assert sim.violations == []


# --- rate limits, faults, latency ---------------------------------------------------------------
def test_every_answer_carries_the_rate_limit_headers(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    sim.rate_limits["orders"] = RateLimit(calls=10, window_seconds=1)

    answer = http_client.get(f"{api}/orders", headers=bearer)

    assert (
        answer.headers["X-RateLimit-Limit"],
        answer.headers["X-RateLimit-Remaining"],
        answer.headers["X-RateLimit-Reset"],
    ) == ("10", "9", "1")


def test_a_window_opened_this_instant_reopens_in_one_second_whatever_the_clock_reads(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str], fake_time: FakeTime
) -> None:
    # GIVEN a clock at a moment where the window's end less now is 1.0000000000000004 in floats
    sim.rate_limits["orders"] = RateLimit(calls=10, window_seconds=1)
    fake_time.now = 3.269999999999999

    answer = http_client.get(f"{api}/orders", headers=bearer)

    # THEN bol says the window reopens in 1 second, not 2 (a client would wait a whole window longer)
    assert answer.headers["X-RateLimit-Reset"] == "1"


def test_over_the_limit_bol_answers_429_with_retry_after(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str], advance: Callable[[float], None]
) -> None:
    # GIVEN at most two order lists per 10 seconds
    sim.rate_limits["orders"] = RateLimit(calls=2, window_seconds=10)
    for _ in range(2):
        http_client.get(f"{api}/orders", headers=bearer)

    # WHEN a third comes 3 seconds later
    advance(3)
    throttled = http_client.get(f"{api}/orders", headers=bearer)

    # THEN it is told to come back when the window reopens
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert (throttled.headers["X-RateLimit-Remaining"], throttled.headers["X-RateLimit-Reset"]) == ("0", "7")
    assert throttled.json() == {
        "title": "Too Many Requests",
        "status": 429,
        "detail": "Too many requests, retry in 7 seconds.",
    }
    # AND other endpoint groups have their own budget
    assert http_client.get(f"{api}/orders/none", headers=bearer).status_code == 404
    advance(7)
    assert http_client.get(f"{api}/orders", headers=bearer).status_code == 200


def test_bol_sometimes_leaves_out_retry_after(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    # GIVEN a bol that throttles without saying for how long
    sim.retry_after_header = False
    sim.rate_limits["orders"] = RateLimit(calls=1, window_seconds=1)
    http_client.get(f"{api}/orders", headers=bearer)

    throttled = http_client.get(f"{api}/orders", headers=bearer)

    # THEN only the rate-limit headers tell when the window reopens
    assert throttled.status_code == 429
    assert "Retry-After" not in throttled.headers
    assert (throttled.headers["X-RateLimit-Remaining"], throttled.headers["X-RateLimit-Reset"]) == ("0", "1")


def test_an_injected_429_looks_like_bols_own(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    sim.fail_next(1, status=429, retry_after=4)

    throttled = http_client.get(f"{api}/orders", headers=bearer)

    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "4")
    assert throttled.json()["detail"] == "Too many requests, retry in 4 seconds."


def test_injected_server_errors_come_and_go(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    sim.fail_next(2, status=503)

    statuses = [http_client.get(f"{api}/orders", headers=bearer).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]


def test_faults_can_target_one_endpoint_group(
    sim: BolSimulator, http_client: httpx.Client, api: str, settings: BolSettings, bearer: dict[str, str]
) -> None:
    sim.fail_next(1, status=500, group="token")

    assert http_client.get(f"{api}/orders", headers=bearer).status_code == 200
    assert http_client.post(settings.token_url, auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)).status_code == 500


def test_latency_is_injected_through_the_given_sleep(settings: BolSettings) -> None:
    waited: list[float] = []
    sim = BolSimulator(latency_seconds=0.25, sleep=waited.append)

    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        client.post(
            settings.token_url, params={"grant_type": "client_credentials"}, auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        )
        client.get(f"{settings.base_url}/retailer/orders")

    assert waited == [0.25, 0.25]


def test_the_request_log_shows_what_was_asked(
    sim: BolSimulator, http_client: httpx.Client, api: str, bearer: dict[str, str]
) -> None:
    http_client.get(f"{api}/orders", params={"page": 2}, headers=bearer)

    token_call, orders_call = sim.request_log
    assert (token_call.group, token_call.status) == ("token", 200)
    assert (orders_call.method, orders_call.path, orders_call.query, orders_call.status) == (
        "GET",
        "/retailer/orders",
        {"page": "2"},
        200,
    )
    assert orders_call.headers["Accept"] == V10
