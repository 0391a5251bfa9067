"""The PrestaShop simulator keeps to the documented webservice: bodies, answers and list parameters checked."""

from __future__ import annotations

import httpx

from koppel_local.simulators.prestashop import DEMO_WS_KEY, PrestaShopSimulator, row

ROOT = "https://winkel.example.nl/api"
AS_KEY = {"auth": (DEMO_WS_KEY, "")}


def test_a_date_filter_without_date_1_is_refused(sim: PrestaShopSimulator, http: httpx.Client) -> None:
    sim.add_order([row("MUG", 1, "9.95")])

    answer = http.get(
        f"{ROOT}/orders", params={"filter[date_upd]": "[2026-01-01 00:00:00,2027-01-01 00:00:00]"}, **AS_KEY
    )

    assert answer.status_code == 400 and "needs date=1" in answer.text
    (violation,) = sim.violations
    assert violation.name == "filter[date_upd]"


def test_a_body_with_an_entity_bomb_is_refused_unread(sim: PrestaShopSimulator, http: httpx.Client) -> None:
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><prestashop><product>&b;</product></prestashop>'

    answer = http.post(f"{ROOT}/products", content=bomb, **AS_KEY)

    assert answer.status_code == 400 and not sim.products_with("aaaa")
    assert any("not safe" in v.reason for v in sim.violations)


def test_a_put_without_a_required_field_or_with_a_read_only_one_is_refused(
    sim: PrestaShopSimulator, http: httpx.Client
) -> None:
    sim.add_product("MUG-1", quantity=2)
    partial = b"<prestashop><stock_available><id>1</id><quantity>5</quantity></stock_available></prestashop>"
    read_only = (
        b"<prestashop><product><id>1</id><price>1.000000</price><manufacturer_name>x</manufacturer_name>"
        b"</product></prestashop>"
    )

    assert http.put(f"{ROOT}/stock_availables/1", content=partial, **AS_KEY).status_code == 400
    assert http.put(f"{ROOT}/products/1", content=read_only, **AS_KEY).status_code == 400

    assert {v.name for v in sim.violations} >= {"stock_available.id_product", "product.manufacturer_name"}
    assert sim.quantity("MUG-1") == 2


def test_lists_filter_sort_and_page_as_documented(sim: PrestaShopSimulator, http: httpx.Client) -> None:
    for reference in ("B", "A", "C"):
        sim.add_product(reference)

    answer = http.get(
        f"{ROOT}/products", params={"display": "[id,reference]", "sort": "[reference_DESC]", "limit": "1,2"}, **AS_KEY
    )

    assert answer.status_code == 200
    assert answer.text.count("<reference>") == 2 and answer.text.index(">B<") < answer.text.index(">A<")
    assert not sim.response_violations
