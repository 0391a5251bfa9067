"""The Magento simulator keeps to the published admin REST schema: requests and answers checked against it."""

from __future__ import annotations

import time

import httpx

from koppel_local.simulators.magento import DEMO_TOKEN, MagentoSimulator, configurable, item, load_contract

ROOT = "https://shop.example.nl/rest/default/V1"
AS_INTEGRATION = {"headers": {"Authorization": f"Bearer {DEMO_TOKEN}", "Accept": "application/json"}}


def test_a_request_off_the_spec_is_refused_naming_the_rule(sim: MagentoSimulator, http: httpx.Client) -> None:
    answer = http.get(f"{ROOT}/orders", params={"searchCriteria[pageSize]": "ten"}, **AS_INTEGRATION)

    assert answer.status_code == 400
    assert "searchCriteria[pageSize]" in answer.json()["parameters"][0]
    (violation,) = sim.violations
    assert violation.location.startswith("magento/admin-schema-2.4.9.yaml#/paths/~1V1~1orders/get/parameters/")


def test_its_answers_are_the_spec_s_search_results(sim: MagentoSimulator, http: httpx.Client) -> None:
    sim.add_product("MUG-1", "Mug", quantity=3)
    sim.add_customer("anna@example.nl")
    sim.add_order([item("MUG-1", 1, "12.10", discount="1.21"), configurable("TEE", "TEE-M", 2, "25.00")])
    query = {
        "searchCriteria[filterGroups][0][filters][0][field]": "updated_at",
        "searchCriteria[filterGroups][0][filters][0][value]": "2026-01-01 00:00:00",
        "searchCriteria[filterGroups][0][filters][0][conditionType]": "gteq",
        "searchCriteria[sortOrders][0][field]": "updated_at",
        "searchCriteria[sortOrders][1][field]": "entity_id",
        "searchCriteria[pageSize]": "10",
    }
    for path in ("/orders", "/products", "/customers/search", "/inventory/source-items"):
        answer = http.get(ROOT + path, params=query if path == "/orders" else {}, **AS_INTEGRATION)
        assert answer.status_code == 200, path
        assert answer.json()["total_count"] == 1, path
    assert http.get(f"{ROOT}/stockItems/MUG-1", **AS_INTEGRATION).json()["qty"] == 3
    assert sim.violations == [] and sim.response_violations == []


def test_a_page_past_the_end_answers_the_last_page_again(sim: MagentoSimulator, http: httpx.Client) -> None:
    for number in range(3):
        sim.add_product(f"SKU-{number}")
    paged = {"searchCriteria[pageSize]": "2", "searchCriteria[sortOrders][0][field]": "sku"}

    last = http.get(f"{ROOT}/products", params=paged | {"searchCriteria[currentPage]": "2"}, **AS_INTEGRATION)
    beyond = http.get(f"{ROOT}/products", params=paged | {"searchCriteria[currentPage]": "9"}, **AS_INTEGRATION)

    assert [p["sku"] for p in beyond.json()["items"]] == [p["sku"] for p in last.json()["items"]] == ["SKU-2"]
    assert beyond.json()["total_count"] == 3


def test_without_the_token_it_answers_401_in_magento_s_words(sim: MagentoSimulator, http: httpx.Client) -> None:
    answer = http.get(f"{ROOT}/orders", headers={"Authorization": "Bearer not-issued"})

    assert answer.status_code == 401
    assert answer.json()["message"] == "The consumer isn't authorized to access %resources."
    assert answer.json()["parameters"]["resources"]


def test_a_limit_per_second_answers_429_with_retry_after(magento_contract) -> None:
    sim = MagentoSimulator(contract=magento_contract, limit_per_second=1, clock=lambda: 5.0)
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        assert client.get(f"{ROOT}/products", **AS_INTEGRATION).status_code == 200
        refused = client.get(f"{ROOT}/products", **AS_INTEGRATION)
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "1")


def test_the_large_schema_is_loaded_once_per_process(magento_contract) -> None:
    started = time.perf_counter()
    again = load_contract()
    assert again.document is magento_contract.document
    assert time.perf_counter() - started < 0.5
