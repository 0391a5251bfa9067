"""The KORONA simulator keeps to the published KORONA API v3: requests and answers checked against it."""

from __future__ import annotations

from decimal import Decimal

import httpx

from koppel_local.simulators.korona import BASE, DEMO_PASSWORD, DEMO_USER, KoronaSimulator

AS_API_USER = {"auth": (DEMO_USER, DEMO_PASSWORD), "headers": {"Accept": "application/json"}}


def test_a_request_off_the_spec_is_refused_naming_the_rule(sim: KoronaSimulator, http: httpx.Client) -> None:
    url = f"https://korona.test{BASE}/accounts/{sim.account_id}/products"
    answer = http.get(url, params={"pageSize": 10}, **AS_API_USER)

    assert answer.status_code == 400
    assert answer.json()["code"] == "INVALID_QUERY_PARAMETER"
    (violation,) = sim.violations
    assert violation.name == "pageSize"
    assert violation.location.startswith("korona/korona-cloud-api-v3.swagger.json#/paths/")


def test_its_answers_are_the_spec_s_result_lists(sim: KoronaSimulator, http: httpx.Client) -> None:
    group = sim.add_price_group("Webshop")
    unit = sim.add_unit("North")
    sim.add_product("ART-1", "Article", codes=["8712345678906"], prices={group: Decimal("3.95")})
    sim.set_stock("ART-1", unit, 5)
    root = f"https://korona.test{BASE}/accounts/{sim.account_id}"
    for path in ("/products", "/priceGroups", "/organizationalUnits", f"/organizationalUnits/{unit}/productStocks"):
        answer = http.get(root + path, params={"page": 1, "size": 10}, **AS_API_USER)
        assert answer.status_code == 200, path
        assert answer.json()["resultsTotal"] == 1
    product_id = sim.product_by_number("ART-1")["id"]
    assert http.get(f"{root}/products/{product_id}/stocks", **AS_API_USER).status_code == 200
    assert sim.response_violations == []


def test_without_basic_auth_it_answers_401_without_a_body(sim: KoronaSimulator, http: httpx.Client) -> None:
    answer = http.get(f"https://korona.test{BASE}/accounts/{sim.account_id}/products")
    assert (answer.status_code, answer.content) == (401, b"")


def test_the_daily_limit_answers_429_in_korona_s_words(korona_contract, http) -> None:
    sim = KoronaSimulator(contract=korona_contract, daily_limit=1)
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        url = f"https://korona.test{BASE}/accounts/{sim.account_id}/products"
        assert client.get(url, **AS_API_USER).status_code == 204
        refused = client.get(url, **AS_API_USER)
    assert refused.status_code == 429
    assert refused.json()["code"] == "DAILY_LIMIT_EXCEEDED"
