"""The Shoprenter connector against the simulator: what the merchant and the backoffice see."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

import httpx
import pytest
from connector_fixtures import every_page, order_feed

from koppel.connectors.base import ProductUpdate, StockUpdate
from koppel.connectors.shoprenter.client import MAX_BATCH
from koppel.connectors.shoprenter.connector import from_account
from koppel.connectors.shoprenter.webhook import UnreadableWebhook, changed_order_ids
from koppel.errors import ConfigurationError, NotFound
from koppel.models import Money, OrderStatus, Product
from koppel_local.simulators.shoprenter import DEMO_SHOP, ShoprenterSimulator

from .conftest import SECRET, shoprenter_account

SINCE = datetime(2026, 4, 30, 9, 0, tzinfo=UTC)


read_all = partial(order_feed, since=SINCE)


# --- tokens --------------------------------------------------------------------------------------
def test_one_token_serves_many_requests_and_a_refused_one_is_renewed_once(sim, connect) -> None:
    connector = connect()
    sim.add_order([("MUG", 1, "1270")])
    read_all(connector)
    read_all(connector)
    assert sim.tokens_issued == 1

    sim.expire_tokens()  # the shop lets the token go before its hour is up
    orders, _ = read_all(connector)

    assert sim.tokens_issued == 2
    assert [order.channel_order_id for order in orders] == ["1"]


def test_wrong_credentials_are_a_set_up_error_naming_them(sim, connect) -> None:
    connector = connect(secret={"client_id": "someone-else", "client_secret": "wrong"})

    with pytest.raises(ConfigurationError) as refused:
        connector.order_changes(None, since=SINCE)

    assert "client_id" in refused.value.message and "client_secret" in refused.value.message


# --- orders --------------------------------------------------------------------------------------
def test_each_order_is_read_once_and_pages_of_one_second_lose_none(sim, connect) -> None:
    connector = connect(page_size=3)
    placed = [sim.add_order([("MUG", 1, "1270")])["innerId"] for _ in range(7)]  # all in one second

    orders, _ = read_all(connector)

    assert sorted(order.channel_order_id for order in orders) == sorted(placed)


def test_an_order_changed_later_comes_again_with_its_new_status(sim, connect) -> None:
    connector = connect()
    order = sim.add_order([("MUG", 1, "1270")])
    first, cursor = read_all(connector)
    assert first[0].status == OrderStatus.OPEN

    sim.advance(600)
    sim.update_order(order["innerId"], status_id=7)
    again, _ = read_all(connector, cursor)

    assert [(found.channel_order_id, found.status) for found in again] == [("1", OrderStatus.CANCELLED)]


def test_orders_in_statuses_not_imported_are_left_out(sim, connect) -> None:
    connector = connect(import_status_ids=["2"])
    sim.add_order([("MUG", 1, "1270")], status_id=1)
    kept = sim.add_order([("MUG", 1, "1270")], status_id=2)
    sim.add_order([("MUG", 1, "1270")], status_id=0)  # an abandoned cart

    orders, _ = read_all(connector)

    assert [order.channel_order_id for order in orders] == [kept["innerId"]]


def test_an_order_maps_to_the_cent(sim, connect) -> None:
    connector = connect()
    sim.freeze(datetime(2026, 7, 1, 8, 15, 30, tzinfo=UTC))
    sim.add_order(
        [("MUG-BLUE", 2, "12.50"), ("TEA", 3, "4.99")],
        currency="EUR",
        shipping_gross="5.95",
        coupon_gross="3.00",
        email="anna@example.hu",
    )

    order = connector.order("1")

    assert order.currency == "EUR"
    assert order.customer.email == "anna@example.hu"
    assert order.updated_at == datetime(2026, 7, 1, 8, 15, 30, tzinfo=UTC)  # shop time 10:15:30 in Budapest
    assert [(line.channel_sku, line.quantity, line.unit_price.amount, line.vat_rate) for line in order.lines] == [
        ("MUG-BLUE", 2, Decimal("12.50"), Decimal(27)),
        ("TEA", 3, Decimal("4.99"), Decimal(27)),
    ]
    assert sum(line.discount.amount for line in order.lines if line.discount) == Decimal("3.00")
    assert order.shipping_cost == Money(amount=Decimal("5.95"), currency="EUR")
    assert order.total == order.channel_total == Money(amount=Decimal("42.92"), currency="EUR")


def test_an_order_not_in_the_shop_is_not_found(sim, connect) -> None:
    with pytest.raises(NotFound):
        connect().order("999")


# --- the order-status webhook ---------------------------------------------------------------------
def test_a_webhook_gives_only_the_order_ids_whatever_else_it_carries() -> None:
    forged = {
        "orders": {
            "order": [
                {
                    "innerId": "190",
                    "innerResourceId": "orders/b3JkZXItb3JkZXJfaWQ9MTkw",
                    "totalGross": "1",
                    "orderProducts": {"orderProduct": [{"sku": "MUG", "price": "0.01", "quantity": "999"}]},
                    "orderHistory": {"status": "5"},
                },
                {"innerResourceId": "orders/b3JkZXItb3JkZXJfaWQ9MTkx", "email": "x@example.hu"},
                {"innerId": "190"},
            ]
        },
        "admin": True,
    }

    assert changed_order_ids(json.dumps(forged).encode()) == ["190", "191"]
    assert changed_order_ids(b'{"innerId": "7", "storeName": "demo"}') == ["7"]
    xml = b"<orders><order><innerId>12</innerId><total>1</total></order></orders>"
    assert changed_order_ids(xml) == ["12"]
    assert changed_order_ids(b'{"newsletter": {"subscriber": []}}') == []
    with pytest.raises(UnreadableWebhook):
        changed_order_ids(b"innerId=12&price=1")


# --- stock and prices -----------------------------------------------------------------------------
def test_stock_goes_in_batches_of_at_most_200_with_a_result_per_sku(sim, connect) -> None:
    connector = connect(stock_field="stock2")
    skus = [f"SKU-{number:03d}" for number in range(250)]
    for sku in skus:
        sim.add_product(sku)
    refs = connector.channel_refs([(sku, "") for sku in skus])
    sim.remove_product("SKU-007")  # deleted in the admin since koppel looked

    results = connector.push_stock([StockUpdate(sku, number % 9, refs[sku]) for number, sku in enumerate(skus)])

    batches = [json.loads(call.body)["data"]["requests"] for call in sim.calls("batch")]
    assert max(len(requests) for requests in batches) <= MAX_BATCH
    assert [result.sku for result in results] == skus
    assert [result.sku for result in results if not result.accepted] == ["SKU-007"]
    assert "no product" in results[7].error
    assert sim.stock("SKU-008", "stock2") == 8 and sim.stock("SKU-008", "stock1") == 0


def test_a_price_is_written_net_and_the_shop_shows_the_gross_one(sim, connect) -> None:
    connector = connect()
    sim.add_product("MUG", "Bögre", gross="2540", vat_rate="27")
    sim.add_product("BOOK", "Könyv", gross="3150", vat_rate="5")
    refs = connector.product_refs([("MUG", ""), ("BOOK", "")])
    sim.refuse_next_save("BOOK", "The price parameter has wrong data.")

    results = connector.push_products(
        [
            ProductUpdate(Product(sku="MUG", title="Bögre, kék", price=Money(amount=Decimal("3048"))), refs["MUG"]),
            ProductUpdate(Product(sku="BOOK", title="Könyv", price=Money(amount=Decimal("4200"))), refs["BOOK"]),
        ]
    )

    assert [(result.sku, result.accepted) for result in results] == [("MUG", True), ("BOOK", False)]
    assert "wrong data" in results[1].error
    assert Decimal(sim.product("MUG")["price"]) == Decimal("2400.0000")
    assert sim.gross_price("MUG") == Decimal("3048.00") and sim.name_of("MUG") == "Bögre, kék"


# --- products and stock read -----------------------------------------------------------------------
def test_products_and_stock_are_read_per_stock_field(sim, connect) -> None:
    connector = connect(page_size=2, currency="HUF", read_stock_fields=["stock1", "stock3"])
    sim.add_product("A", "Alma", gross="381", stock={"stock1": 4, "stock3": 9}, gtin="5990000000011")
    sim.add_product("B", "Banán", gross="127", stock={"stock1": 0})
    sim.add_product("C", "Citrom", gross="254", stock={"stock1": 2, "stock2": 50})

    products, cursor = [], None
    while True:
        page = connector.product_page(cursor)  # the last page is asked about below
        products.extend(page.products)
        cursor = page.cursor
        if cursor is None:
            break
    levels, _ = every_page(connector.stock_page, "levels")

    assert [(p.sku, p.title, p.ean, p.price, p.quantity) for p in products] == [
        ("A", "Alma", "5990000000011", Money(amount=Decimal("381.00"), currency="HUF"), 4),
        ("B", "Banán", "", Money(amount=Decimal("127.00"), currency="HUF"), 0),
        ("C", "Citrom", "", Money(amount=Decimal("254.00"), currency="HUF"), 2),
    ]
    assert page.resume is not None
    assert {(level.sku, level.warehouse): level.on_hand for level in levels} == {
        ("A", "stock1"): 4,
        ("A", "stock3"): 9,
        ("B", "stock1"): 0,
        ("C", "stock1"): 2,
    }


# --- 3 requests a second ----------------------------------------------------------------------------
def test_a_burst_from_several_threads_never_passes_3_requests_a_second(shoprenter_contract) -> None:
    # Real time on both sides: the shop counts arrivals on its own clock, koppel's limiter on its own.
    sim = ShoprenterSimulator(contract=shoprenter_contract, shop="burstshop")
    sim.add_product("MUG")
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        account = shoprenter_account(shop_name="burstshop")
        connectors = [from_account(account, dict(SECRET), client) for _ in range(3)]  # one shop, three objects
        sim.client_id, sim.shop = SECRET["client_id"], "burstshop"

        def read(connector) -> None:
            for _ in range(3):
                connector.stock_page(None)

        threads = [threading.Thread(target=read, args=(connector,)) for connector in connectors]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(sim.arrivals) == 9
    assert sim.throttled == 0
    assert sim.busiest_second() <= 3
    assert max(sim.arrivals) - min(sim.arrivals) >= 2.0  # nine requests took at least three seconds' turns


def test_a_429_from_the_shop_is_waited_out(sim, connect, fake_time) -> None:
    connector = connect()
    sim.add_product("MUG")
    sim.faults.add(1, 429, target="products", retry_after=2)

    page = connector.stock_page(None)

    assert [level.sku for level in page.levels] == ["MUG"]
    assert sim.throttled == 1 and 2 in fake_time.sleeps


def test_the_overlap_steps_back_and_a_late_order_is_still_read(sim, connect) -> None:
    connector = connect()
    sim.add_order([("MUG", 1, "1270")])
    sim.advance(60)
    sim.add_order([("MUG", 1, "1270")])
    _, cursor = read_all(connector)
    now = sim.moment
    sim.freeze(now - timedelta(seconds=30))
    late = sim.add_order([("MUG", 1, "1270")])
    sim.freeze(now)

    orders, _ = read_all(connector, cursor)

    assert late["innerId"] in {order.channel_order_id for order in orders}
    assert DEMO_SHOP == "demoshop"
