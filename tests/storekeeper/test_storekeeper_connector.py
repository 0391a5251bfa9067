"""The StoreKeeper connector against the simulator (both from the public facts, not a spec): products
with their publication, stock of published products, orders made once, paid and tagged, and
StoreKeeper's errors in koppel's words."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from connector_fixtures import every_page
from helpers import FakeTime
from storekeeper.builders import CHANNEL, order_of

from koppel.connectors.storekeeper.client import StoreKeeperRefusal
from koppel.errors import (
    AuthenticationFailed,
    ConfigurationError,
    NeedsAttention,
    PermanentConnectorError,
    TransientConnectorError,
)
from koppel.models import Money


# --- products and publication ---------------------------------------------------------------------
def test_products_are_read_across_pages_with_what_the_feed_needs(sim, connect) -> None:
    sim.add_product(
        "MUG",
        "Blue mug",
        price="12.50",
        sale="9.95",
        stock=4,
        ean="8712345000017",
        image_url="https://cdn.example/mug.jpg",
        category="Kitchen",
    )
    sim.add_product("BAG", "Tote bag", price="20.00", unlimited=True)
    sim.add_product("HAT", "Straw hat", price="15.00", published=False, channels={"webshop": True})
    for number in range(4):
        sim.add_product(f"PEN-{number}", f"Pen {number}", price="2.00", stock=number)
    connector = connect(shop_url="https://shop.example.nl", product_path="product", page_size=2)

    products, pages = every_page(connector.product_page, "products")

    assert pages == 4
    by_sku = {product.sku: product for product in products}
    assert len(products) == len(by_sku) == 7
    mug = by_sku["MUG"]
    assert (mug.title, mug.ean, mug.price, mug.sale_price, mug.quantity) == (
        "Blue mug",
        "8712345000017",
        Money(amount=Decimal("12.50")),
        Money(amount=Decimal("9.95")),
        4,
    )
    assert (mug.image_url, mug.category, mug.url) == (
        "https://cdn.example/mug.jpg",
        "Kitchen",
        "https://shop.example.nl/product/blue-mug",
    )
    assert mug.stock_managed and mug.published is True
    assert by_sku["BAG"].stock_managed is False and by_sku["BAG"].sale_price is None
    # published on another sales channel only: not on this one
    assert by_sku["HAT"].published is False


def test_the_shops_publish_everything_setting_publishes_every_product_unless_the_account_says_otherwise(
    fake_time: FakeTime, connect, sim
) -> None:
    sim.publish_all = True
    sim.add_product("HAT", "Straw hat", published=False)

    assert [p.published for p in connect().product_page(None).products] == [True]
    assert [p.published for p in connect(publish_all=False).product_page(None).products] == [False]
    assert (
        len(sim.calls("ShopModule::getShopSettingsForHooks")) == 1
    )  # read once per connector; the override reads none


def test_a_price_list_is_refused_rather_than_another_price_given(sim, connect) -> None:
    sim.add_product("MUG")
    with pytest.raises(ConfigurationError, match="price list"):
        connect().product_page(None, price_list="Marketplace")


# --- stock ----------------------------------------------------------------------------------------
def test_stock_pages_report_only_published_products_that_keep_stock(sim, connect, fake_time) -> None:
    sim.add_product("MUG", stock=4)
    sim.add_product("BAG", unlimited=True)
    sim.add_product("HAT", stock=9, published=False)
    sim.add_product("CUP", stock=3)
    sim.set_stock("CUP", -2)  # sold short

    levels, _ = every_page(connect(page_size=2).stock_page, "levels")

    assert {(level.sku, level.warehouse, level.on_hand) for level in levels} == {("MUG", "", 4), ("CUP", "", 0)}
    assert all(level.observed_at == sim.moment for level in levels)


def test_stock_of_reads_the_named_products_and_gives_nothing_for_unpublished_or_unknown_ones(sim, connect) -> None:
    mug = sim.add_product("MUG", stock=4)
    hat = sim.add_product("HAT", stock=9, published=False)
    sim.freeze(datetime(2026, 5, 2, 8, 0, tzinfo=UTC))
    sim.set_stock("MUG", 7)

    levels = connect().stock_of([str(mug.id), str(hat.id), "999999", str(mug.id)])

    assert [(level.sku, level.on_hand, level.observed_at) for level in levels] == [
        ("MUG", 7, datetime(2026, 5, 2, 8, 0, tzinfo=UTC))
    ]


# --- errors ---------------------------------------------------------------------------------------
def test_before_the_init_hook_every_call_says_to_connect_the_app_first(connect, sim) -> None:
    connector = connect(credentials={"webhook_secret": "x"})
    with pytest.raises(ConfigurationError, match="connect the koppel app in StoreKeeper first"):
        connector.product_page(None)
    assert sim.request_log == []


def test_a_refused_api_key_is_permanent_and_says_what_to_do(sim, connect) -> None:
    sim.add_product("MUG")
    sim.rotate_key()
    with pytest.raises(AuthenticationFailed, match="reconnect the koppel app"):
        connect().stock_page(None)


def test_server_errors_are_retried_with_backoff_then_transient(sim, connect, fake_time: FakeTime) -> None:
    sim.add_product("MUG")
    connector = connect()
    sim.fail_next(2, 503)
    assert [p.sku for p in connector.product_page(None).products] == ["MUG"]
    assert len(fake_time.sleeps) == 2

    sim.fail_next(10, 500)
    with pytest.raises(TransientConnectorError):
        connector.product_page(None)


def test_a_refusal_with_a_class_is_permanent_and_names_it(sim, connect) -> None:
    with pytest.raises(StoreKeeperRefusal, match="ShopModule::OrderNotFound") as refused:
        connect().storekeeper.call("ShopModule", "getOrder", 424242, None)
    assert isinstance(refused.value, PermanentConnectorError) and not refused.value.retryable


# --- orders ---------------------------------------------------------------------------------------
def test_an_order_becomes_one_paid_administrative_order_tagged_with_its_channel_its_stock_booked(sim, connect) -> None:
    sim.add_product("MUG", price="12.50", stock=1)
    sim.add_product("PEN", price="2.00", stock=10)
    order = order_of(sim, "700123", ("MUG", 2, "12.50"), ("PEN", 3, "2.00"), shipping="4.95", discount="1.25")

    created = connect().create_order(order, tag="koppel")

    [booked] = sim.orders_numbered("700123")
    assert created.backoffice_order_id == str(booked["id"])
    assert booked["customer_reference"] == "koppel:winkelstraat:700123"
    assert "winkelstraat order WS-700123" in booked["customer_comment"]
    assert [(i.get("shop_product_id"), i["quantity"], Decimal(str(i["ppu_wt"]))) for i in booked["order_items"]] == [
        (sim.product("MUG").id, 2, Decimal("12.50")),
        (None, 1, Decimal("-1.25")),
        (sim.product("PEN").id, 3, Decimal("2.00")),
        (None, 1, Decimal("4.95")),
    ]
    assert booked["value_wt"] == order.total.amount == Decimal("34.70")
    assert booked["is_paid"] and [sim.payments[p]["amount"] for p in booked["payment_ids"]] == [Decimal("34.70")]
    # stock is booked, below zero when short
    assert (sim.stock("MUG"), sim.stock("PEN")) == (-1, 7)


def test_find_order_finds_the_order_of_that_channel_only(sim, connect) -> None:
    sim.add_product("MUG")
    connector = connect()
    assert connector.find_order(CHANNEL, "700124") is None
    created = connector.create_order(order_of(sim, "700124", ("MUG", 1, "19.95")), tag="koppel")

    found = connector.find_order(CHANNEL, "700124")
    assert found is not None and found.backoffice_order_id == created.backoffice_order_id
    assert connector.find_order("bol", "700124") is None
    assert connector.find_order(CHANNEL, "70012") is None


def test_an_order_sent_twice_is_found_by_its_duplicate_number_never_made_again(sim, connect) -> None:
    sim.add_product("MUG")
    connector = connect()
    order = order_of(sim, "700125", ("MUG", 1, "19.95"))
    first = connector.create_order(order, tag="koppel")

    again = connector.create_order(order, tag="koppel")

    assert again.backoffice_order_id == first.backoffice_order_id
    assert len(sim.orders_numbered("700125")) == 1
    assert len(sim.calls("PaymentModule::newWebPayment")) == 1  # paid once


def test_a_lost_answer_on_new_order_retried_gives_exactly_one_paid_order(sim, connect) -> None:
    sim.add_product("MUG")
    sim.fail_next(1, 500, group="ShopModule::newOrder", after_execution=True)

    created = connect().create_order(order_of(sim, "700126", ("MUG", 1, "19.95")), tag="koppel")

    [booked] = sim.orders_numbered("700126")
    assert created.backoffice_order_id == str(booked["id"]) and booked["is_paid"]
    assert [call.status for call in sim.calls("ShopModule::newOrder")] == [500, 200]
    assert json.loads(sim.calls("ShopModule::newOrder")[1].body)["params"][0]["shop_order_number"] == "700126"


def test_an_order_whose_create_never_answered_is_found_and_paid_by_the_next_look(sim, connect) -> None:
    sim.add_product("MUG")
    connector = connect()
    sim.fail_next(6, 500, group="ShopModule::newOrder", after_execution=True)
    with pytest.raises(TransientConnectorError):
        connector.create_order(order_of(sim, "700127", ("MUG", 1, "19.95")), tag="koppel")
    [booked] = sim.orders_numbered("700127")
    assert not booked["is_paid"]

    found = connector.find_order(CHANNEL, "700127")

    assert found is not None and found.backoffice_order_id == str(booked["id"])
    assert sim.order(booked["id"])["is_paid"]
    assert len(sim.orders_numbered("700127")) == 1


def test_another_channels_order_of_the_same_number_waits_for_a_person(sim, connect) -> None:
    sim.add_product("MUG")
    connector = connect()
    connector.create_order(order_of(sim, "700128", ("MUG", 1, "19.95"), channel="bol"), tag="koppel")

    with pytest.raises(NeedsAttention, match="did not make for winkelstraat"):
        connector.create_order(order_of(sim, "700128", ("MUG", 1, "19.95")), tag="koppel")
    assert len(sim.orders_numbered("700128")) == 1


def test_the_buyer_is_found_by_email_or_created_only_when_the_link_creates_customers(sim, connect) -> None:
    sim.add_product("MUG")
    known = sim.add_customer("known@example.nl", "Known Buyer")
    connector = connect()

    connector.create_order(order_of(sim, "1", ("MUG", 1, "19.95"), email="known@example.nl"), tag="koppel")
    connector.create_order(order_of(sim, "2", ("MUG", 1, "19.95"), email="new@example.nl"), tag="koppel")
    connector.create_order(
        order_of(sim, "3", ("MUG", 1, "19.95"), email="guest@example.nl"), tag="koppel", create_customer=False
    )

    first, second, third = (sim.orders_numbered(number)[0] for number in ("1", "2", "3"))
    assert first["relation_data_id"] == known and not first["is_anonymous"]
    made = next(c for c in sim.customers.values() if c["email"] == "new@example.nl")
    assert second["relation_data_id"] == made["id"]
    assert made["relation"]["contact_person"] == {"firstname": "Anna", "familyname": "de Vries"}
    assert third["is_anonymous"] and third["relation_data_id"] is None
    assert not any(c["email"] == "guest@example.nl" for c in sim.customers.values())


def test_an_amount_with_more_than_two_decimals_waits_and_sends_nothing(sim, connect) -> None:
    sim.add_product("MUG")
    order = order_of(sim, "700129", ("MUG", 3, "19.995"))

    with pytest.raises(NeedsAttention, match="more than two decimals"):
        connect().create_order(order, tag="koppel")
    assert sim.calls("ShopModule::newOrder") == [] and sim.customers == {}


def test_an_order_in_another_currency_waits(sim, connect) -> None:
    sim.add_product("MUG")
    order = order_of(sim, "700131", ("MUG", 1, "19.95"))
    line = order.lines[0].model_copy(update={"unit_price": Money(amount=Decimal("19.95"), currency="HUF")})
    with pytest.raises(NeedsAttention, match="in HUF"):
        connect().create_order(order.model_copy(update={"currency": "HUF", "lines": (line,)}), tag="koppel")
    assert sim.calls("ShopModule::newOrder") == []


def test_a_line_without_a_shop_product_waits(sim, connect) -> None:
    sim.add_product("MUG")
    order = order_of(sim, "700130", ("MUG", 1, "19.95"))
    unmapped = order.model_copy(update={"lines": (order.lines[0].model_copy(update={"backoffice_variant_id": ""}),)})
    with pytest.raises(NeedsAttention, match="no StoreKeeper shop product"):
        connect().create_order(unmapped, tag="koppel")


def test_find_variant_by_sku_then_by_ean(sim, connect) -> None:
    mug = sim.add_product("MUG", ean="8712345000017")
    connector = connect()

    by_sku = connector.find_variant("MUG")
    by_ean = connector.find_variant("CHANNEL-REF", "8712345000017")

    assert by_sku == by_ean and by_sku is not None
    assert (by_sku.variant_id, by_sku.sku, by_sku.barcode) == (str(mug.id), "MUG", "8712345000017")
    assert connector.find_variant("NOPE", "8712345999999") is None
