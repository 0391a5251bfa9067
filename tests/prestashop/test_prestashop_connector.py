"""The PrestaShop connector against the simulator: orders as the backoffice gets them, products and stock as
the shop shows them, and errors an operator can act on."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

import pytest
from connector_fixtures import order_feed

from koppel.connectors.base import ProductUpdate, StockUpdate
from koppel.connectors.http import HttpStatusError
from koppel.connectors.prestashop.client import parse_xml, refusal
from koppel.errors import ConfigurationError, PermanentConnectorError
from koppel.models import Money, OrderStatus, Product
from koppel_local.simulators.prestashop import DEMO_WS_KEY, PrestaShopSimulator, row
from koppel_local.simulators.prestashop.app import text

SINCE = datetime(2026, 4, 30, tzinfo=UTC)


read_all = partial(order_feed, since=SINCE)


def placed(sim: PrestaShopSimulator, *rows, **options) -> str:
    return text(sim.add_order(list(rows) or [row("MUG", 1, "9.95")], **options), "id")


# --- orders -----------------------------------------------------------------------------------------
def test_shop_local_date_upd_arrives_in_utc(sim, connect) -> None:
    order_id = placed(sim)
    assert text(sim.data["orders"][int(order_id)], "date_upd") == "2026-05-01 11:00:00"  # Amsterdam, summer

    (order,), _ = read_all(connect())

    assert order.updated_at == order.placed_at == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    assert order.channel_order_id == order_id and order.name == text(sim.data["orders"][int(order_id)], "reference")


def test_lines_discount_and_shipping_to_the_cent(sim, connect) -> None:
    placed(
        sim,
        row("MUG", 2, "12.10", name="Mug"),
        row("CARD", 1, "5.00", rate="9"),
        discounts_tax_incl="3.00",
        shipping_tax_incl="4.95",
    )

    (order,), _ = read_all(connect())

    mug, card = order.lines
    assert (mug.channel_sku, mug.quantity, mug.unit_price.amount, mug.vat_rate) == ("MUG", 2, Decimal("12.10"), 21)
    assert card.vat_rate == 9
    assert (mug.discount, card.discount) == (Money(amount=Decimal("2.49")), Money(amount=Decimal("0.51")))
    assert order.shipping_cost == Money(amount=Decimal("4.95"))
    assert order.total == order.channel_total == Money(amount=Decimal("31.15"))


def test_a_free_shipping_discount_comes_off_the_shipping(sim, connect) -> None:
    placed(sim, row("MUG", 1, "3.00"), discounts_tax_incl="4.95", shipping_tax_incl="4.95")

    (order,), _ = read_all(connect())

    assert order.lines[0].discount == Money(amount=Decimal("3.00"))
    assert order.shipping_cost == Money(amount=Decimal("3.00"))
    assert order.total == order.channel_total


def test_the_address_customer_and_country_come_from_their_resources(sim, connect) -> None:
    placed(sim, delivery={"address1": "Lange Nieuwstraat 101-bis", "country_id": 3, "city": "Antwerpen"})

    (order,), _ = read_all(connect())

    address = order.shipping_address
    assert (address.street, address.house_number, address.house_number_extension) == ("Lange Nieuwstraat", "101", "bis")
    assert (address.country_code, address.city, order.customer.email) == ("BE", "Antwerpen", "jan@example.nl")
    assert len(sim.calls("get:countries")) == 1


def test_unpaid_orders_are_left_out_and_cancelled_ones_arrive_cancelled(sim, connect) -> None:
    placed(sim, state=10)  # awaiting bank wire
    placed(sim, state=8)  # payment error
    cancelled = placed(sim, state=6)
    paid = placed(sim, state=2)

    orders, _ = read_all(connect())

    assert [(o.channel_order_id, o.status) for o in orders] == [
        (cancelled, OrderStatus.CANCELLED),
        (paid, OrderStatus.OPEN),
    ]


def test_orders_of_one_second_split_by_a_page_boundary_both_come_once(sim, connect) -> None:
    ids = [placed(sim) for _ in range(3)]
    connector = connect(page_size=2)

    first = connector.order_changes(None, since=SINCE)
    rest = connector.order_changes(first.cursor, since=SINCE)

    assert first.more and first.cursor == "2026-05-01 09:00:00|2"
    assert [o.channel_order_id for o in first.orders + rest.orders] == ids
    assert not rest.more


def test_an_order_shipped_after_it_was_read_comes_again_as_shipped(sim, connect) -> None:
    order_id = placed(sim)
    connector = connect(overlap_seconds=60)
    _, cursor = read_all(connector)

    sim.advance(600)
    sim.set_state(text(sim.data["orders"][int(order_id)], "reference"), 4)
    again, _ = read_all(connector, cursor)

    assert [(o.channel_order_id, o.status) for o in again] == [(order_id, OrderStatus.SHIPPED)]
    assert again[0].updated_at == datetime(2026, 5, 1, 9, 10, tzinfo=UTC)


def test_every_list_asks_with_date_1_and_two_sort_keys(sim, connect) -> None:
    placed(sim)
    read_all(connect())

    (asked,) = sim.calls("list:orders")
    assert asked.query["date"] == "1" and asked.query["sort"] == "[date_upd_ASC,id_ASC]"
    assert asked.query["filter[date_upd]"].startswith("[2026-04-30 02:00:00,")  # since, in Amsterdam time


# --- stock --------------------------------------------------------------------------------------------
def test_stock_lands_on_the_stock_row_sent_back_whole(sim, connect) -> None:
    sim.add_product("MUG-1", quantity=3)
    connector = connect()
    refs = connector.channel_refs([("MUG-1", "")])

    (result,) = connector.push_stock([StockUpdate("MUG-1", 12, refs["MUG-1"])])

    assert result.accepted and sim.quantity("MUG-1") == 12
    (put,) = sim.calls("update:stock_availables")
    for field in ("<id_product>", "<id_product_attribute>0<", "<depends_on_stock>", "<out_of_stock>2<"):
        assert field in put.body


def test_a_combination_takes_stock_of_its_own_and_its_parent_none(sim, connect) -> None:
    tee = sim.add_product("TEE")
    combination = sim.add_combination(tee, "TEE-M", quantity=1)
    sim.data["products"][tee].find("cache_default_attribute").text = str(combination)
    connector = connect()

    refs = connector.channel_refs([("TEE", ""), ("TEE-M", "")])
    (result,) = connector.push_stock([StockUpdate("TEE-M", 7, refs["TEE-M"])])

    assert refs == {"TEE-M": f"{tee}:{combination}"}
    assert result.accepted and sim.quantity("TEE-M") == 7


def test_stock_for_a_deleted_product_is_refused_in_words(sim, connect) -> None:
    sim.add_product("MUG-2")
    connector = connect()
    ref = connector.channel_refs([("MUG-2", "")])["MUG-2"]
    sim.remove_product("MUG-2")

    (result,) = connector.push_stock([StockUpdate("MUG-2", 4, ref)])

    assert not result.accepted and not result.retryable and "no stock row" in result.error


# --- products -----------------------------------------------------------------------------------------
def test_a_product_gets_its_price_without_the_tax_of_its_group_and_keeps_its_other_languages(sim, connect) -> None:
    product_id = sim.add_product("BOOK-1", "Boek", tax_group=2)
    connector = connect()
    ref = connector.product_refs([("book-1", "")])["book-1"]
    product = Product(sku="book-1", title="Kookboek", price=Money(amount=Decimal("21.80")), weight_grams=750)

    (result,) = connector.push_products([ProductUpdate(product, ref)])

    assert result.accepted and ref == str(product_id)
    shown = sim.data["products"][product_id]
    assert (Decimal(text(shown, "price")) * Decimal("1.09")).quantize(Decimal("0.01")) == Decimal("21.80")
    assert (text(shown, "name", 1), text(shown, "name", 2), text(shown, "weight")) == ("Kookboek", "Boek", "0.75")


def test_a_product_is_found_by_its_ean_when_the_reference_differs(sim, connect) -> None:
    product_id = sim.add_product("OTHER-REF", ean13="8712345000017")

    assert connect().product_refs([("MUG-9", "8712345000017")]) == {"MUG-9": str(product_id)}


def test_a_create_whose_answer_is_lost_is_made_once(sim, connect) -> None:
    sim.fail_next(1, 503, group="create:products", after_execution=True)
    update = ProductUpdate(Product(sku="NEW-1", title="Nieuw", price=Money(amount=Decimal("12.10"))), "")

    (result,) = connect().create_products([update])
    (again,) = connect().create_products([update])

    assert result.accepted and again.accepted
    assert len(sim.calls("create:products")) == 1 and len(sim.products_with("NEW-1")) == 1
    made = sim.product("NEW-1")
    assert (text(made, "link_rewrite"), text(made, "price")) == ("nieuw", "10.000000")


def test_a_refused_product_says_why_in_prestashop_s_words(sim, connect) -> None:
    product_id = sim.add_product("LAMP-1")
    sim.refuse_next_write("products", product_id, "Property Product->name is not valid")

    (result,) = connect().push_products([ProductUpdate(Product(sku="LAMP-1", title="Lamp"), str(product_id))])

    assert not result.accepted and "[85] Property Product->name is not valid" in result.error


@pytest.mark.parametrize("shop_options", [{"put_blocked": True}])
def test_a_host_that_refuses_put_is_written_through_the_ps_method_override(sim, connect) -> None:
    sim.add_product("MUG-1")
    connector = connect()

    (result,) = connector.push_stock([StockUpdate("MUG-1", 5, connector.channel_refs([("MUG-1", "")])["MUG-1"])])

    assert result.accepted and sim.quantity("MUG-1") == 5
    assert [(c.method, c.query.get("ps_method"), c.status) for c in sim.calls("update:stock_availables")] == [
        ("PUT", None, 405),
        ("POST", "PUT", 200),
    ]


# --- errors -------------------------------------------------------------------------------------------
def test_a_wrong_key_says_how_to_fix_it(sim, connect) -> None:
    with pytest.raises(ConfigurationError) as refused:
        connect(key="WRONG").product_refs([("MUG", "")])

    assert refused.value.field == "ws_key" and "Advanced Parameters > Webservice" in refused.value.message


@pytest.mark.parametrize("shop_options", [{"keys": {DEMO_WS_KEY: {"orders": ["GET"]}}}])
def test_a_key_without_a_right_names_the_resource(sim, connect) -> None:
    with pytest.raises(ConfigurationError) as refused:
        connect().channel_refs([("MUG", "")])

    assert "GET combinations" in refused.value.message


def test_an_answer_declaring_entities_is_never_expanded() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><prestashop>&b;</prestashop>'

    with pytest.raises(PermanentConnectorError) as refused:
        parse_xml(bomb)

    assert "DTD" in refused.value.message


def test_prestashop_s_error_body_reads_as_words() -> None:
    body = (
        "<prestashop><errors><error><code><![CDATA[90]]></code><message><![CDATA[id is required when modifying "
        "a resource]]></message></error></errors></prestashop>"
    )
    said = refusal(HttpStatusError("refused", status_code=400, body=body), "PUT", "/products/3")

    assert said.message == "prestashop refused PUT /products/3: [90] id is required when modifying a resource"
