"""The KORONA connector against the KORONA simulator: articles, prices, stock, and KORONA's refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from koppel.connectors import registry
from koppel.connectors.base import ProductPage, StockPage
from koppel.connectors.korona.client import DailyLimitReached
from koppel.errors import AuthenticationFailed, ConfigurationError, RateLimited, TransientConnectorError
from koppel.models import Money, Product, WarehouseStock
from koppel_local.simulators.korona import DAILY_LIMIT, PARALLEL_UPDATES, KoronaSimulator

from .conftest import SERVES


def read_products(connector, price_list: str = "") -> tuple[list[Product], list[str | None]]:
    products, cursors, cursor = [], [], None
    while True:
        page: ProductPage = connector.product_page(cursor, price_list=price_list)
        products.extend(page.products)
        cursors.append(page.cursor)
        cursor = page.cursor
        if cursor is None:
            return products, cursors


def read_stock(connector) -> tuple[list[WarehouseStock], int]:
    levels, cursor, pages = [], None, 0
    while True:
        page: StockPage = connector.stock_page(cursor)
        levels.extend(page.levels)
        cursor, pages = page.cursor, pages + 1
        if cursor is None:
            return levels, pages


def test_the_declaration_serves_products_and_stock_and_names_the_api_user() -> None:
    spec = registry.spec("korona")
    assert spec.serves == SERVES
    assert spec.credentials == ("user", "password")
    assert spec.webhooks is not None  # koppel-signed stock webhooks still come in
    assert "receipts" in spec.notes


def test_articles_are_read_by_revision_page_after_page(sim: KoronaSimulator, connect) -> None:
    # GIVEN 250 articles priced in the "Webshop" group: three pages of KORONA's 100
    webshop = sim.add_price_group("Webshop")
    for number in range(250):
        sim.add_product(f"ART-{number:03d}", f"Article {number}", prices={webshop: Decimal("1.00") + number})
    connector = connect(price_group="Webshop")

    # WHEN koppel pages through with the cursor
    products, cursors = read_products(connector)

    # THEN every article once, each page asked from the highest revision of the one before
    assert cursors == ["100", "200", None]
    assert [product.sku for product in products] == [f"ART-{number:03d}" for number in range(250)]
    asked = [(call.query.get("revision"), call.query.get("sort"), call.query["page"]) for call in sim.calls("products")]
    assert asked == [(None, "revision", "1"), ("100", "revision", "1"), ("200", "revision", "1")]


def test_the_next_pass_reads_only_the_articles_changed_since(sim: KoronaSimulator, connect) -> None:
    # GIVEN a pass over three articles, ending in a resume cursor
    webshop = sim.add_price_group("Webshop")
    for number in range(3):
        sim.add_product(f"ART-{number}", f"Article {number}", prices={webshop: "5.00"})
    connector = connect(price_group="Webshop")
    last = connector.product_page(None)
    assert last.cursor is None and last.resume is not None

    # WHEN nothing changed: KORONA answers 204 and the pass is empty, resuming where it was
    quiet = connector.product_page(last.resume)
    assert quiet.products == () and quiet.resume == last.resume
    assert sim.calls("products")[-1].status == 204

    # WHEN one article's price changes in KORONA
    sim.set_price("ART-1", webshop, "6.50")
    changed = connector.product_page(quiet.resume)

    # THEN only that article is read, at its new price
    assert [(product.sku, product.price.amount) for product in changed.products] == [("ART-1", Decimal("6.50"))]


def test_a_resume_cursor_of_an_earlier_day_reads_every_article_again(sim: KoronaSimulator, connect) -> None:
    # A price whose validFrom arrives overnight changes no revision: once a day the pass is a full one.
    webshop = sim.add_price_group("Webshop")
    sim.add_product("ART-0", "Article", prices={webshop: "5.00"})
    sim.set_price("ART-0", webshop, "4.00", valid_from="2020-06-01T00:00:00Z")
    resume = connect(price_group="Webshop").product_page(None).resume
    assert resume is not None
    revision = resume.rpartition(":")[2]

    (product,) = connect(price_group="Webshop").product_page(f"2020-01-01:{revision}").products
    assert product.price.amount == Decimal("4.00")
    assert sim.calls("products")[-1].query.get("revision") is None


def test_prices_come_from_the_shopify_price_group_unless_another_is_named(sim: KoronaSimulator, connect) -> None:
    store, shopify = sim.add_price_group("Store"), sim.add_price_group("Shopify")
    sim.add_product("MUG-1", "Mug", prices={store: "8.50", shopify: "9.25"})

    (product,), _ = read_products(connect())

    assert product.price == Money(amount=Decimal("9.25"))


def test_no_shopify_price_group_and_none_named_is_a_set_up_error(sim: KoronaSimulator, connect) -> None:
    sim.add_price_group("Store")
    sim.add_product("MUG-1", "Mug")
    with pytest.raises(ConfigurationError, match=r"no price group 'Shopify'.*price_group") as raised:
        connect().product_page(None)
    assert raised.value.field == "price_group"


def test_prices_come_from_the_chosen_price_group_in_decimal(sim: KoronaSimulator, connect) -> None:
    # GIVEN an article priced in two groups, with an older price and one for a single store
    store, webshop = sim.add_price_group("Store"), sim.add_price_group("Webshop", number="7")
    amsterdam = sim.add_unit("Amsterdam")
    sim.add_product(
        "TEA-100",
        "Rooibos tea 100 g",
        codes=["8712345678906", "TEA100-BOX"],
        prices={store: "4.99", webshop: "5.49"},
        commodity_group="Tea",
    )
    sim.set_price("TEA-100", webshop, "5.19", valid_from="2019-01-01T00:00:00Z")  # superseded
    sim.set_price("TEA-100", webshop, "3.00", unit=amsterdam)  # Amsterdam's own
    sim.set_price("TEA-100", webshop, "9.99", valid_from="2999-01-01T00:00:00Z")  # not yet

    # WHEN the link's price list names the group, by name or number or id
    for name in ("Webshop", "webshop", "7", webshop):
        (product,), _ = read_products(connect(price_group="Store"), name)

        # THEN its current price for every store, as a Decimal
        assert product.price == Money(amount=Decimal("5.49"), currency="EUR")
        assert type(product.price.amount) is Decimal
    # AND without a price list, the account's own group
    (product,), _ = read_products(connect(price_group="Store"))
    assert product == Product(
        sku="TEA-100",
        title="Rooibos tea 100 g",
        ean="8712345678906",
        price=Money(amount=Decimal("4.99"), currency="EUR"),
        stock_managed=True,
        category="Tea",
        group="Tea",
    )


def test_an_article_without_a_price_in_the_group_is_left_out_of_a_price_list_read(
    sim: KoronaSimulator, connect
) -> None:
    store, webshop = sim.add_price_group("Store"), sim.add_price_group("Webshop")
    sim.add_product("MUG-1", "Mug", prices={store: "8.50", webshop: "9.00"})
    sim.add_product("MUG-2", "Mug, store only", prices={store: "8.50"}, track_inventory=False)
    sim.add_product("MUG-3", "Mug, gone", prices={webshop: "9.00"}, deactivated=True)

    in_list, _ = read_products(connect(), "Webshop")
    everything, _ = read_products(connect(price_group="Webshop"))

    assert [(product.sku, product.price.amount) for product in in_list] == [("MUG-1", Decimal("9.00"))]
    # without a price list every active article comes, unpriced where the group has no price
    assert [(product.sku, product.price, product.stock_managed) for product in everything] == [
        ("MUG-1", Money(amount=Decimal("9.00")), True),
        ("MUG-2", None, False),
    ]


def test_an_unknown_price_group_is_a_set_up_error_naming_it(sim: KoronaSimulator, connect) -> None:
    sim.add_price_group("Store")
    with pytest.raises(ConfigurationError, match="no price group 'Shopify'") as raised:
        connect().product_page(None, price_list="Shopify")
    assert raised.value.field == "price_list"


def test_stock_per_article_and_warehouse(sim: KoronaSimulator, connect) -> None:
    # GIVEN two stores with a warehouse and an office without one
    north, south = sim.add_unit("North"), sim.add_unit("South")
    sim.add_unit("Office", warehouse=False)
    for number in range(150):
        sim.add_product(f"ART-{number:03d}", f"Article {number}")
        sim.set_stock(f"ART-{number:03d}", north, number, ordered=5)
    sim.add_product("CHEESE", "Cheese by weight")
    sim.set_stock("CHEESE", south, "2.75")
    sim.set_stock("ART-001", south, 4)

    # WHEN koppel reads every warehouse (none named in the settings)
    levels, pages = read_stock(connect())

    # THEN one level per article and warehouse, on hand rounded down; supplier orders are no backorders
    assert pages == 3  # North: two pages, South: one
    by_key = {(level.sku, level.warehouse): level for level in levels}
    assert len(by_key) == len(levels) == 152
    assert by_key[("ART-042", north)].on_hand == 42
    assert by_key[("ART-001", south)].on_hand == 4
    assert by_key[("CHEESE", south)].on_hand == 2
    assert {level.backorders for level in levels} == {0}


def test_stock_of_the_named_organizational_units_only(sim: KoronaSimulator, connect) -> None:
    north, south = sim.add_unit("North"), sim.add_unit("South")
    sim.add_product("ART-1", "Article")
    sim.set_stock("ART-1", north, 3)
    sim.set_stock("ART-1", south, 9)

    levels, _ = read_stock(connect(organizational_units=[south]))

    assert [(level.sku, level.warehouse, level.on_hand) for level in levels] == [("ART-1", south, 9)]
    assert not sim.calls("organizational-units")


def test_wrong_credentials_are_a_clear_set_up_error(sim: KoronaSimulator, connect) -> None:
    with pytest.raises(AuthenticationFailed, match="check `user` and `password`") as raised:
        connect(password="wrong").product_page(None)
    assert "wrong" not in str(raised.value)
    assert [call.status for call in sim.request_log] == [401]  # asked once, not hammered


def test_a_wrong_account_id_is_a_set_up_error(sim: KoronaSimulator, connect) -> None:
    connector = connect()
    connector.korona.root = connector.korona.root.replace(sim.account_id, "00000000-0000-4000-8000-000000000000")
    with pytest.raises(ConfigurationError, match="no account with this account_id"):
        connector.stock_page(None)


def test_an_account_without_api_access_set_up_is_refused_by_name(sim: KoronaSimulator, http) -> None:
    from koppel.config import Account
    from koppel.connectors.korona.connector import from_account

    webhook_only = Account(account_id="pos", system="korona", secret_ref="koppel/pos")
    with pytest.raises(ConfigurationError, match="account_id"):
        from_account(webhook_only, {"webhook_secret": "s"}, http)


def test_the_daily_limit_is_not_retried_into(sim: KoronaSimulator, connect, fake_time) -> None:
    sim.add_unit("North")
    sim.fail_next(1, 429, group="unit-stocks", code=DAILY_LIMIT)

    with pytest.raises(DailyLimitReached, match="daily request limit") as raised:
        read_stock(connect())

    assert [call.status for call in sim.calls("unit-stocks")] == [429]
    assert fake_time.sleeps == []
    assert 0 < raised.value.retry_after <= 86_400  # until midnight UTC


def test_429_and_5xx_are_retried_with_backoff(sim: KoronaSimulator, connect, fake_time) -> None:
    webshop = sim.add_price_group("Webshop")
    sim.add_product("ART-1", "Article", prices={webshop: "2.00"})
    sim.fail_next(1, 429, group="products", code=PARALLEL_UPDATES)
    sim.fail_next(1, 503, group="products")

    (product,), _ = read_products(connect(price_group="Webshop"))

    assert product.price == Money(amount=Decimal("2.00"))
    assert [call.status for call in sim.calls("products")] == [429, 503, 200]
    assert len(fake_time.sleeps) == 2 and all(seconds > 0 for seconds in fake_time.sleeps)


def test_a_429_that_does_not_end_hands_over_to_the_next_run(sim: KoronaSimulator, connect) -> None:
    sim.add_unit("North")
    sim.fail_next(10, 429, group="unit-stocks", code=DAILY_LIMIT)

    with pytest.raises(RateLimited):
        read_stock(connect())


def test_a_server_that_keeps_failing_is_transient(sim: KoronaSimulator, connect) -> None:
    sim.fail_next(10, 502, group="products")
    with pytest.raises(TransientConnectorError):
        connect(price_group="").product_page(None)


def test_an_empty_list_is_204_and_the_last_page(sim: KoronaSimulator, connect) -> None:
    assert connect(price_group="").product_page(None).products == ()
    assert connect(price_group="").product_page(None).cursor is None
    sim.add_unit("North")
    assert connect().stock_page(None) == StockPage(levels=(), cursor=None)
    assert {call.status for call in sim.request_log if call.group != "organizational-units"} == {204}
