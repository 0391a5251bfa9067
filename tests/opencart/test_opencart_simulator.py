"""The OpenCart simulator keeps to the shapes it documents (there is no published spec): requests off them are
refused in the extension's envelope and fail the test that sent them; both URL forms reach the same shop."""

from __future__ import annotations

import httpx

from koppel_local.simulators.opencart import DEMO_SECRET, HEADER, OpenCartSimulator, item

ROOT = "https://winkel.example.nl/api/rest_admin"
AS_ADMIN = {"headers": {HEADER: DEMO_SECRET}}


def test_a_body_off_the_documented_shape_is_refused_naming_the_rule(sim: OpenCartSimulator, http) -> None:
    sim.add_product("MUG", "Mug")

    answer = http.put(f"{ROOT}/products/1", json={"quantity": "five", "colour": "blue"}, **AS_ADMIN)

    assert answer.status_code == 400
    assert answer.json()["success"] == 0
    assert any("body.quantity" in words for words in answer.json()["error"])
    assert {violation.location for violation in sim.violations} == {
        "opencart/shapes#products/fields/quantity",
        "opencart/shapes#products/fields",
    }


def test_the_order_window_takes_dates_and_times_in_either_url_form(sim: OpenCartSimulator, http) -> None:
    sim.add_order([item("MUG", 1, "9.95")])  # 11:00 in the shop

    by_date = http.get(f"{ROOT}/orders/details/modified_from/2026-05-01/modified_to/2026-05-01", **AS_ADMIN)
    by_time = http.get(
        "https://winkel.example.nl/index.php",
        params={"route": "rest/orders/details/modified_from/2026-05-01T10:00:00/modified_to/2026-05-01 10:59:59"},
        **AS_ADMIN,
    )
    by_parameters = http.get(
        "https://winkel.example.nl/index.php",
        params={"route": "rest/orders/details", "modified_from": "2026-05-01 11:00:00", "modified_to": "2026-05-02"},
        **AS_ADMIN,
    )

    assert [len(answer.json()["data"]) for answer in (by_date, by_time, by_parameters)] == [1, 0, 1]
    assert by_date.headers["Date"] == "Fri, 01 May 2026 09:00:00 GMT"
    assert sim.violations == [] and sim.response_violations == []


def test_a_window_bound_that_is_no_date_is_refused(sim: OpenCartSimulator, http) -> None:
    answer = http.get(f"{ROOT}/orders/details/modified_from/yesterday/modified_to/2026-05-01", **AS_ADMIN)

    assert answer.status_code == 400
    (violation,) = sim.violations
    assert violation.name == "modified_from"


def test_without_the_secret_it_answers_401_in_its_envelope(sim: OpenCartSimulator, http) -> None:
    answer = http.get(f"{ROOT}/products/limit/10/page/1", headers={HEADER: "guessed"})

    assert answer.status_code == 401
    assert answer.json() == {"success": 0, "error": [f"Invalid or missing {HEADER}"], "data": []}


def test_the_envelope_variants_are_the_shop_s_choice(http) -> None:
    sim = OpenCartSimulator(success_style="bool", error_style="string")
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        missing = client.get(f"{ROOT}/products/9", **AS_ADMIN)
    assert missing.status_code == 404
    assert missing.json() == {"success": False, "error": "Product not found", "data": []}


def test_a_limit_per_second_answers_429_with_retry_after() -> None:
    sim = OpenCartSimulator(limit_per_second=1, clock=lambda: 5.0)
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        assert client.get(f"{ROOT}/products/limit/10/page/1", **AS_ADMIN).status_code == 200
        refused = client.get(f"{ROOT}/products/limit/10/page/1", **AS_ADMIN)
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "1")
    assert sim.throttled == 1
