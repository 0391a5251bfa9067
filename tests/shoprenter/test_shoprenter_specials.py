"""A backoffice's promo price in a Shoprenter shop: the one special koppel keeps per product, at the net
of the sale price, changed and removed with it, the merchant's own specials left alone."""

from __future__ import annotations

import json
from decimal import Decimal

from koppel.connectors.base import ProductUpdate
from koppel.connectors.shoprenter.specials import OPEN_DATE
from koppel.models import Money, Product

from .conftest import SECRET

SECRET_BODY = {"grant_type": "client_credentials", **SECRET}


def update(sku: str, ref: str, price: str, sale: str | None = None) -> ProductUpdate:
    product = Product(
        sku=sku,
        title=sku,
        price=Money(amount=Decimal(price)),
        sale_price=Money(amount=Decimal(sale)) if sale is not None else None,
    )
    return ProductUpdate(product=product, channel_ref=ref)


def written(sim) -> list[tuple[str, str]]:
    """The special writes koppel sent, as (method, resource) inside its batches."""
    found = []
    for call in sim.calls("batch"):
        for request in json.loads(call.body)["data"]["requests"]:
            if "/productSpecials" in request["uri"]:
                found.append((request["method"], request["uri"].rsplit("/api/", 1)[1]))
    return found


def test_a_sale_price_arrives_as_one_special_at_its_net_in_the_default_group(sim, connect) -> None:
    connector = connect()
    sim.add_product("MUG", gross="3048", vat_rate="27")
    sim.add_product("BOOK", gross="4200", vat_rate="5")
    refs = connector.product_refs([("MUG", ""), ("BOOK", "")])
    before = len(sim.calls("batch"))

    results = connector.push_products(
        [update("MUG", refs["MUG"], "3048", "2540"), update("BOOK", refs["BOOK"], "4200", "3150")]
    )

    assert [(result.sku, result.accepted, result.error) for result in results] == [
        ("MUG", True, ""),
        ("BOOK", True, ""),
    ]
    (special,) = sim.specials_of("MUG")
    assert special["price"] == "2000.0000"  # 2540 / 1.27
    assert special["customerGroup"]["href"].endswith(sim.product("MUG")["productPrices"][0]["customerGroup"]["id"])
    assert (special["dateFrom"], special["dateTo"], special["minQuantity"]) == (OPEN_DATE, OPEN_DATE, "0")
    assert sim.sale_price("MUG") == Decimal("2540.00") and sim.buyer_price("MUG") == Decimal("2540.00")
    assert sim.sale_price("BOOK") == Decimal("3150.00")  # 5% VAT, read from the product's own prices
    assert sim.gross_price("MUG") == Decimal("3048.00")  # the regular price stays as it was
    assert len(sim.calls("batch")) - before == 2  # read the products (their specials with them), then write


def test_a_changed_sale_price_changes_koppels_special_and_adds_none(sim, connect) -> None:
    connector = connect()
    sim.add_product("MUG", gross="3048")
    ref = connector.product_refs([("MUG", "")])["MUG"]
    connector.push_products([update("MUG", ref, "3048", "2540")])

    results = connector.push_products([update("MUG", ref, "3048", "2286")])

    assert results[0].accepted
    assert [special["price"] for special in sim.specials_of("MUG")] == ["1800.0000"]
    assert sim.buyer_price("MUG") == Decimal("2286.00")
    assert [method for method, _ in written(sim)] == ["POST", "PUT"]

    connector.push_products([update("MUG", ref, "3048", "2286")])  # nothing changed: nothing written
    assert [method for method, _ in written(sim)] == ["POST", "PUT"]


def test_a_sale_price_removed_deletes_koppels_special_and_leaves_the_merchants_own(sim, connect) -> None:
    connector = connect()
    sim.add_product("MUG", gross="3048")
    ref = connector.product_refs([("MUG", "")])["MUG"]
    own = sim.add_special("MUG", gross="2900", priority=2)  # made by hand in the shop's admin
    connector.push_products([update("MUG", ref, "3048", "2540")])
    assert len(sim.specials_of("MUG")) == 2

    results = connector.push_products([update("MUG", ref, "3048")])

    assert results[0].accepted
    assert [special["id"] for special in sim.specials_of("MUG")] == [own["id"]]
    assert sim.specials_of("MUG")[0]["price"] == own["price"]
    assert sim.buyer_price("MUG") == Decimal("2900.00")  # the merchant's own special still applies
    assert [method for method, _ in written(sim)] == ["POST", "DELETE"]

    connector.push_products([update("MUG", ref, "3048")])  # none of koppel's left: nothing to delete
    assert [method for method, _ in written(sim)] == ["POST", "DELETE"]


def test_a_merchants_special_is_never_taken_for_koppels_whatever_its_priority(sim, connect) -> None:
    connector = connect(sale_priority=2)
    sim.add_product("MUG", gross="3048")
    ref = connector.product_refs([("MUG", "")])["MUG"]
    own = sim.add_special("MUG", gross="2900", priority=2)

    connector.push_products([update("MUG", ref, "3048", "2540")])
    connector.push_products([update("MUG", ref, "3048", "2413")])

    listed = {special["id"]: special["price"] for special in sim.specials_of("MUG")}
    assert len(listed) == 2 and listed[own["id"]] == own["price"]
    assert sim.buyer_price("MUG") == Decimal("2413.00")  # same priority: the lower price


def test_a_lost_answer_on_the_batch_that_creates_the_special_makes_no_second_one(sim, connect) -> None:
    connector = connect()
    sim.add_product("MUG", gross="3048")
    ref = connector.product_refs([("MUG", "")])["MUG"]
    sim.fail_next(1, 502, group="batch:special-post", after_execution=True)  # made, answer lost

    results = connector.push_products([update("MUG", ref, "3048", "2540")])

    assert results[0].accepted  # the batch went again; its create changed the special it made
    assert [method for method, _ in written(sim)] == ["POST", "POST"]
    assert [special["price"] for special in sim.specials_of("MUG")] == ["2000.0000"]


def test_a_push_that_gave_up_on_a_lost_answer_finds_its_special_the_next_time(sim, connect) -> None:
    connector = connect()
    sim.add_product("MUG", gross="3048")
    ref = connector.product_refs([("MUG", "")])["MUG"]
    sim.fail_next(1, 502, group="batch:special-post", after_execution=True)
    sim.fail_next(10, 502, group="batch:special-post")  # then the shop stays away

    first = connector.push_products([update("MUG", ref, "3048", "2540")])
    sim.faults.clear()
    again = connector.push_products([update("MUG", ref, "3048", "2540")])

    assert first[0].retryable and not first[0].accepted
    assert again[0].accepted
    assert len(sim.specials_of("MUG")) == 1 and sim.buyer_price("MUG") == Decimal("2540.00")


def test_specials_listed_as_links_are_read_in_one_more_batch(sim, connect) -> None:
    connector = connect()
    sim.specials_in_product_extend = False
    for sku in ("MUG", "CUP"):
        sim.add_product(sku, gross="3048")
    refs = connector.product_refs([("MUG", ""), ("CUP", "")])
    connector.push_products([update("MUG", refs["MUG"], "3048", "2540")])
    before = len(sim.calls("batch"))

    results = connector.push_products([update("MUG", refs["MUG"], "3048"), update("CUP", refs["CUP"], "3048")])

    assert [result.accepted for result in results] == [True, True]
    assert sim.specials_of("MUG") == [] and sim.buyer_price("MUG") == Decimal("3048.00")
    assert len(sim.calls("batch")) - before == 3  # products, both products' specials, the writes


def test_a_product_without_a_default_customer_group_is_reported_not_guessed(sim, connect) -> None:
    connector = connect()
    record = sim.add_product("MUG", gross="3048")
    ref = connector.product_refs([("MUG", "")])["MUG"]
    record["productPrices"][0]["customerGroup"]["default"] = False

    results = connector.push_products([update("MUG", ref, "3048", "2540")])

    assert not results[0].accepted and "default customer group" in results[0].error
    assert sim.specials_of("MUG") == []


def test_sale_prices_for_many_products_keep_to_3_requests_a_second(sim, connect) -> None:
    connector = connect()
    skus = [f"SKU-{number:03d}" for number in range(120)]
    for sku in skus:
        sim.add_product(sku, gross="1270")
    refs = connector.product_refs([(sku, "") for sku in skus])

    for _ in range(3):  # create, change, remove
        for sale in ("1016", "889", None):
            results = connector.push_products([update(sku, refs[sku], "1270", sale) for sku in skus])
            assert all(result.accepted for result in results)

    assert sim.throttled == 0
    assert sim.busiest_second() <= 3
    assert all(sim.specials_of(sku) == [] for sku in skus)


def test_the_shop_serves_specials_the_way_its_docs_show_them(sim, http) -> None:
    """The simulator's own routes, outside a batch: every answer checked against the docs' fixtures."""
    sim.limit = None  # one request after another, on a clock that does not move
    mug, cup = sim.add_product("MUG", gross="3048"), sim.add_product("CUP", gross="1270")
    token = http.post(f"https://x/{sim.shop}/app/token", json=SECRET_BODY).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    api = f"{sim.api_root()}/productSpecials"
    group = mug["productPrices"][0]["customerGroup"]["id"]
    body = {"priority": "1", "price": "1000", "dateFrom": "2026-05-01", "dateTo": "2026-05-31 23:59:59"}

    made = http.post(
        api, json={"data": body | {"product": {"id": mug["id"]}, "customerGroup": {"id": group}}}, headers=headers
    )
    sim.add_special("CUP", gross="1000")
    changed = http.put(f"{api}/{made.json()['id']}", json={"data": {"price": "900"}}, headers=headers)
    mine = http.get(api, params={"productId": mug["id"], "full": 1}, headers=headers).json()
    links = http.get(api, headers=headers).json()
    gone = http.delete(f"{api}/{made.json()['id']}", headers=headers)
    again = http.delete(f"{api}/{made.json()['id']}", headers=headers)
    nameless = http.post(api, json={"data": {"price": "900"}}, headers=headers)

    assert made.status_code == 201 and made.json()["dateFrom"] == "2026-05-01 00:00:00"
    assert changed.status_code == 200 and changed.json()["price"] == "900.0000"
    assert [item["price"] for item in mine["items"]] == ["900.0000"]
    assert len(links["items"]) == 2 and all(set(item) == {"href"} for item in links["items"])
    assert (gone.status_code, again.status_code) == (204, 404)
    assert nameless.status_code == 400
    assert [violation.name for violation in sim.violations] == ["body.data.product"]  # the one off the docs
    assert sim.sale_price("MUG") is None and sim.sale_price("CUP") == Decimal("1000.00")
    assert sim.response_violations == []
    assert cup["productPrices"][0]["grossSpecial"] == "1000.00"
