"""InnVoice's product list read as koppel's products and its stock per warehouse."""

from __future__ import annotations

from decimal import Decimal

import pytest
from connector_fixtures import every_page

from koppel.connectors.innvoice.products import PAGE_SIZE
from koppel.errors import ConfigurationError, TransientConnectorError
from koppel.models import Money
from koppel_local.simulators.innvoice import InnVoiceSimulator


def read_products(connector, price_list: str = ""):
    return every_page(lambda cursor: connector.product_page(cursor, price_list=price_list), "products")


def read_stock(connector):
    return every_page(connector.stock_page, "levels")[0]


def test_products_carry_sku_title_ean_and_the_price_groups_gross_price(sim: InnVoiceSimulator, connect) -> None:
    sim.add_product("POLO-L", "Póló L", ean="5999000000011", prices=[(Decimal(6350), True), (Decimal(5000), False)])
    sim.add_product("", "Without an article number", prices=[(Decimal(100), True)])

    first, _ = read_products(connect())
    second, _ = read_products(connect(price_group=2))

    assert [(p.sku, p.title, p.ean, p.price) for p in first] == [
        ("POLO-L", "Póló L", "5999000000011", Money(amount=Decimal("6350.00"), currency="HUF"))
    ]
    # a net price group is raised by the account's VAT rate: 5000 net at 27 % is 6350 gross
    assert second[0].price == Money(amount=Decimal("6350.00"), currency="HUF")
    assert read_products(connect(price_group=2, net_price_vat=5))[0][0].price.amount == Decimal("5250.00")


def test_a_price_list_is_a_price_group_by_number_and_gives_only_its_priced_products(sim, connect) -> None:
    sim.add_product("A", "A", prices=[(Decimal(1000), True), None, (Decimal(900), True)])
    sim.add_product("B", "B", prices=[(Decimal(2000), True)])

    products, _ = read_products(connect(), price_list="3")

    assert [(p.sku, p.price.amount) for p in products] == [("A", Decimal("900.00"))]
    with pytest.raises(ConfigurationError, match="price group's number") as wrong:
        connect().product_page(None, price_list="Akciós")
    assert wrong.value.field == "price_list"


def test_the_whole_list_is_read_once_per_pass_and_handed_out_in_pages(sim, connect) -> None:
    for number in range(PAGE_SIZE * 2 + 1):
        sim.add_product(f"P-{number:04d}", f"Termék {number}", prices=[(Decimal(990), True)], stock={1: number})
    innvoice = connect()

    products, pages = read_products(innvoice)

    assert pages == 3 and len({p.sku for p in products}) == PAGE_SIZE * 2 + 1
    assert len(sim.calls("products")) == 1
    assert products[7].quantity == 7


def test_stock_is_reported_per_warehouse_by_position(sim, connect) -> None:
    sim.add_warehouse("Bolt")
    sim.add_product("POLO-L", "Póló L", stock={1: 10, 2: 3})
    sim.add_product("BOGRE", "Bögre", stock={1: Decimal("4.5")})

    levels = read_stock(connect())

    assert {(level.sku, level.warehouse): level.on_hand for level in levels} == {
        ("POLO-L", "1"): 10,
        ("POLO-L", "2"): 3,
        ("BOGRE", "1"): 4,  # a fraction rounded down to whole units
    }
    assert all(level.backorders == 0 for level in levels)


def test_a_failing_product_list_is_retried_then_reported(sim, connect, fake_time) -> None:
    sim.add_product("POLO-L", "Póló L", stock={1: 1})
    sim.fail_next(2, 503, group="products")

    assert [level.sku for level in read_stock(connect())] == ["POLO-L"]  # a read is asked again

    sim.fail_next(10, 503, group="products")
    with pytest.raises(TransientConnectorError):
        connect().stock_page(None)


def test_the_promo_price_group_gives_a_sale_price_only_below_the_price(sim: InnVoiceSimulator, connect) -> None:
    sim.add_product("POLO-L", "Póló L", prices=[(Decimal(6350), True), (Decimal(4990), True)])
    sim.add_product("POLO-M", "Póló M", prices=[(Decimal(6350), True), (Decimal(7000), True)])
    sim.add_product("POLO-S", "Póló S", prices=[(Decimal(6350), True)])

    products = {p.sku: p for p in read_products(connect(promo_price_group=2))[0]}
    without = {p.sku: p for p in read_products(connect())[0]}

    assert products["POLO-L"].sale_price == Money(amount=Decimal("4990.00"), currency="HUF")
    assert products["POLO-M"].sale_price is None  # above the price: no sale
    assert products["POLO-S"].sale_price is None  # no promo price at all
    assert all(p.sale_price is None for p in without.values())


def test_a_products_group_is_read_so_a_link_can_exclude_it(sim: InnVoiceSimulator, connect) -> None:
    sim.add_product("POLO-L", "Póló L", prices=[(Decimal(6350), True)], group="Ruházat")
    sim.add_product("BOGRE", "Bögre", prices=[(Decimal(3990), True)])

    products = {p.sku: p for p in read_products(connect())[0]}

    assert (products["POLO-L"].group, products["BOGRE"].group) == ("Ruházat", "")
