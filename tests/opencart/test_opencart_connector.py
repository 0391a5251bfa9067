"""The OpenCart connector against the simulated shop: orders as the backoffice gets them, products and stock
as the shop shows them, and errors an operator can act on, in either URL form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

import pytest
from connector_fixtures import order_feed

from koppel.connectors.base import ProductUpdate, StockUpdate
from koppel.errors import ConfigurationError
from koppel.models import Money, OrderStatus, Product
from koppel_local.simulators.opencart import OpenCartSimulator, item

SINCE = datetime(2026, 4, 30, tzinfo=UTC)
PENDING, PROCESSING, COMPLETE, CANCELED, VOIDED = 1, 2, 5, 7, 16


read_all = partial(order_feed, since=SINCE)


# --- orders: the feed -------------------------------------------------------------------------------
def test_every_order_of_a_backlog_comes_once_in_pages(sim: OpenCartSimulator, connect) -> None:
    # GIVEN twelve orders over four seconds and a connector handing over five per read
    placed = []
    for number in range(12):
        placed.append(str(sim.add_order([item("MUG", 1, "9.95")])["order_id"]))
        if number % 3 == 2:
            sim.advance(1)

    orders, _ = read_all(connect(page_size=5))

    assert sorted(order.channel_order_id for order in orders) == sorted(placed)
    assert len(orders) == len(placed)


def test_after_a_full_page_the_next_window_is_short(sim: OpenCartSimulator, connect) -> None:
    # GIVEN a day's backlog, one order an hour
    for _ in range(24):
        sim.add_order([item("MUG", 1, "9.95")])
        sim.advance(3600)
    connector = connect(page_size=4)

    orders, _ = read_all(connector)

    assert len({order.channel_order_id for order in orders}) == 24
    # the first window answered the whole backlog once; later ones only about a page each
    assert len(sim.calls("orders-modified")) <= 8


def test_orders_of_one_second_split_by_the_page_both_come_once(sim: OpenCartSimulator, connect) -> None:
    placed = [str(sim.add_order([item("MUG", 1, "9.95")])["order_id"]) for _ in range(3)]
    connector = connect(page_size=2)

    first = connector.order_changes(None, since=SINCE)
    rest = connector.order_changes(first.cursor, since=SINCE)

    assert first.more and first.cursor == "2026-05-01 09:00:00|2"
    assert [o.channel_order_id for o in first.orders + rest.orders] == placed
    assert not rest.more


def test_an_order_completed_after_it_was_read_comes_again_as_shipped(sim: OpenCartSimulator, connect) -> None:
    placed = sim.add_order([item("MUG", 1, "9.95")])["order_id"]
    connector = connect(overlap_seconds=60)
    (first,), cursor = read_all(connector)

    sim.advance(600)
    sim.update_order(placed, status_id=COMPLETE)
    again, _ = read_all(connector, cursor)

    assert [(order.channel_order_id, order.status) for order in again] == [(str(placed), OrderStatus.SHIPPED)]
    assert again[0].updated_at - first.updated_at == timedelta(seconds=600)


def test_pending_orders_are_left_out_and_cancelled_ones_arrive_cancelled(sim: OpenCartSimulator, connect) -> None:
    sim.add_order([item("MUG", 1, "9.95")], status_id=PENDING)
    canceled = sim.add_order([item("MUG", 1, "9.95")], status_id=CANCELED)["order_id"]
    voided = sim.add_order([item("MUG", 1, "9.95")], status_id=VOIDED)["order_id"]
    paid = sim.add_order([item("MUG", 1, "9.95")], status_id=PROCESSING)["order_id"]

    orders, _ = read_all(connect())

    assert {order.channel_order_id: order.status for order in orders} == {
        str(canceled): OrderStatus.CANCELLED,
        str(voided): OrderStatus.CANCELLED,
        str(paid): OrderStatus.OPEN,
    }


def test_the_account_chooses_which_statuses_come(sim: OpenCartSimulator, connect) -> None:
    pending = sim.add_order([item("MUG", 1, "9.95")], status_id=PENDING)["order_id"]
    sim.add_order([item("MUG", 1, "9.95")], status_id=PROCESSING)

    orders, _ = read_all(connect(import_status_ids=[PENDING]))

    assert [order.channel_order_id for order in orders] == [str(pending)]


@pytest.mark.parametrize(
    ("opened", "stamped"),
    [
        (datetime(2026, 5, 1, 9, 0, tzinfo=UTC), "2026-05-01 11:00:00"),  # summer: UTC+2
        (datetime(2026, 1, 15, 9, 0, tzinfo=UTC), "2026-01-15 10:00:00"),  # winter: UTC+1
    ],
)
def test_the_shop_s_local_times_arrive_in_utc(sim: OpenCartSimulator, connect, opened, stamped) -> None:
    sim.freeze(opened)
    placed = sim.add_order([item("MUG", 1, "9.95")])
    assert placed["date_modified"] == stamped  # as OpenCart writes it

    (order,), _ = read_all(connect(), since=opened - timedelta(days=1))

    assert order.placed_at == order.updated_at == opened


@pytest.mark.parametrize("shop_options", [{"time_zone": "UTC"}])
def test_a_shop_keeping_utc_says_so_in_its_settings(sim: OpenCartSimulator, connect) -> None:
    sim.add_order([item("MUG", 1, "9.95")])

    (order,), _ = read_all(connect(time_zone="UTC"))

    assert order.placed_at == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def test_an_unknown_time_zone_is_refused_in_the_settings(connect) -> None:
    with pytest.raises(ValueError, match="not a time zone name"):
        connect(time_zone="Europe/Amsterdamm")


# --- orders: one order ------------------------------------------------------------------------------
def test_a_coupon_and_shipping_arrive_with_vat_and_the_total_to_the_cent(sim: OpenCartSimulator, connect) -> None:
    sim.add_order([item("MUG", 2, "12.50")], coupon_incl="2.42", shipping_incl="4.95")

    (order,), _ = read_all(connect())

    (line,) = order.lines
    assert (line.channel_sku, line.quantity, line.unit_price.amount, line.vat_rate) == (
        "MUG",
        2,
        Decimal("12.50"),
        Decimal(21),
    )
    assert line.discount == Money(amount=Decimal("2.42"))
    assert order.shipping_cost == Money(amount=Decimal("4.95"))
    assert order.total == order.channel_total == Money(amount=Decimal("27.53"))


def test_lines_at_two_rates_add_up_to_the_shop_s_total(sim: OpenCartSimulator, connect) -> None:
    placed = sim.add_order(
        [item("BOOK", 3, "19.99", tax_rate="9"), item("LAMP", 1, "34.95"), item("CARD", 7, "1.15", tax_rate="9")],
        shipping_incl="6.95",
    )

    (order,), _ = read_all(connect())

    assert [(line.channel_sku, line.unit_price.amount, line.vat_rate) for line in order.lines] == [
        ("BOOK", Decimal("19.99"), Decimal(9)),
        ("LAMP", Decimal("34.95"), Decimal(21)),
        ("CARD", Decimal("1.15"), Decimal(9)),
    ]
    assert order.total == order.channel_total == Money(amount=Decimal(placed["total"]).quantize(Decimal("0.01")))
    assert order.total.amount == Decimal("109.92")


def test_an_order_in_another_currency_is_converted_at_its_rate(sim: OpenCartSimulator, connect) -> None:
    # OpenCart keeps amounts in the default currency and the order's rate beside them
    sim.add_order([item("MUG", 1, "10.00")], shipping_incl="0", currency="GBP", currency_value="0.85")

    (order,), _ = read_all(connect())

    assert order.currency == "GBP"
    assert order.lines[0].unit_price == Money(amount=Decimal("8.50"), currency="GBP")
    assert order.channel_total == Money(amount=Decimal("8.50"), currency="GBP")


def test_the_order_carries_buyer_addresses_and_what_the_merchant_sees(sim: OpenCartSimulator, connect) -> None:
    sim.add_order(
        [item("MUG", 1, "9.95")],
        email="anna@example.nl",
        payment={"firstname": "Anna", "lastname": "de Vries", "address_1": "Lange Nieuwstraat 101-B"},
        shipping={"firstname": "Piet", "address_1": "Dorpsweg 3", "postcode": "3511 AB", "iso_code_2": "BE"},
        payment_method="Bank Transfer",
    )

    (order,), _ = read_all(connect())

    assert (order.channel, order.channel_order_id, order.name, order.payment_method) == (
        "opencart",
        "1",
        "#1",
        "Bank Transfer",
    )
    assert (order.customer.email, order.customer.first_name, order.customer.last_name) == (
        "anna@example.nl",
        "Anna",
        "de Vries",
    )
    billing, shipping = order.billing_address, order.shipping_address
    assert (billing.street, billing.house_number, billing.house_number_extension) == ("Lange Nieuwstraat", "101", "B")
    assert (shipping.first_name, shipping.street, shipping.house_number, shipping.country_code) == (
        "Piet",
        "Dorpsweg",
        "3",
        "BE",
    )


# --- products and stock -------------------------------------------------------------------------------
def test_stock_is_set_by_sku_also_where_the_shop_keeps_the_sku_as_model(sim: OpenCartSimulator, connect) -> None:
    sim.add_product("MUG-BLUE", "Mug", quantity=1)
    sim.add_product("", "Plate", quantity=1, model="PLATE-01")
    connector = connect()

    refs = connector.channel_refs([("mug-blue", ""), ("PLATE-01", ""), ("GONE", "")])
    results = connector.push_stock([StockUpdate(sku, 7, ref) for sku, ref in refs.items()])

    assert set(refs) == {"mug-blue", "PLATE-01"}
    assert [(result.sku, result.accepted) for result in results] == [("mug-blue", True), ("PLATE-01", True)]
    assert (sim.quantity("MUG-BLUE"), sim.quantity("PLATE-01")) == (7, 7)


def test_the_catalogue_is_listed_once_for_many_look_ups(sim: OpenCartSimulator, connect) -> None:
    for number in range(150):
        sim.add_product(f"SKU-{number:03d}")
    connector = connect()

    connector.channel_refs([("SKU-000", "")])
    connector.product_refs([("SKU-149", "")])

    assert [call.path.rsplit("/", 1)[-1] for call in sim.calls("products")] == ["1", "2"]


def test_a_price_and_name_reach_the_product_by_sku(sim: OpenCartSimulator, connect) -> None:
    sim.add_product("LAMP-01", "Lamp", price="19.95")
    connector = connect()
    ref = connector.product_refs([("LAMP-01", "")])["LAMP-01"]

    product = Product(sku="LAMP-01", title="Desk lamp, brass", price=Money(amount=Decimal("24.95")))
    (result,) = connector.push_products([ProductUpdate(product, ref)])

    assert (result.accepted, result.error) == (True, "")
    found = sim.product("LAMP-01")
    assert (found["price"], sim.name_of(found)) == (Decimal("24.95"), "Desk lamp, brass")


# --- errors in words ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shop_options",
    [{}, {"success_style": "bool", "error_style": "string"}],
    ids=["one-and-list", "true-and-string"],
)
@pytest.mark.parametrize("status", [400, 200], ids=["as-400", "as-200-with-success-0"])
def test_a_refused_save_is_reported_in_the_shop_s_words(sim: OpenCartSimulator, connect, status: int) -> None:
    sim.add_product("MUG", "Mug")
    connector = connect()
    ref = connector.channel_refs([("MUG", "")])["MUG"]
    sim.refuse_next_save("MUG", "Warning: quantity is locked by a marketplace module!", status=status)

    (result,) = connector.push_stock([StockUpdate("MUG", 3, ref)])

    assert not result.accepted and not result.retryable
    assert "quantity is locked by a marketplace module" in result.error
    assert sim.quantity("MUG") is None


def test_a_product_deleted_since_it_was_found_is_reported(sim: OpenCartSimulator, connect) -> None:
    sim.add_product("MUG", "Mug")
    connector = connect()
    ref = connector.channel_refs([("MUG", "")])["MUG"]
    sim.remove_product("MUG")

    (result,) = connector.push_stock([StockUpdate("MUG", 3, ref)])

    assert (result.accepted, result.retryable) == (False, False)
    assert "no product with this id" in result.error


def test_a_wrong_secret_names_the_credential_to_fix(sim: OpenCartSimulator, connect) -> None:
    with pytest.raises(ConfigurationError) as refused:
        connect(secret="typed-wrong").order_changes(None, since=SINCE)

    assert refused.value.field == "restadmin_secret"
    assert "REST Admin API" in refused.value.message


def test_a_missing_secret_is_a_set_up_error(connect) -> None:
    with pytest.raises(ConfigurationError) as refused:
        connect(secret=" ")
    assert refused.value.field == "restadmin_secret"


def test_a_lost_stock_answer_and_a_throttled_one_still_land(sim: OpenCartSimulator, connect, fake_time) -> None:
    sim.add_product("MUG", "Mug")
    connector = connect()
    ref = connector.channel_refs([("MUG", "")])["MUG"]
    sim.fail_next(1, 502, group="product-save", after_execution=True)
    sim.faults.add(1, 429, target="product-save", retry_after=2)

    (result,) = connector.push_stock([StockUpdate("MUG", 9, ref)])

    assert result.accepted and sim.quantity("MUG") == 9
    assert 2 in fake_time.sleeps  # the shop's Retry-After was waited out


# --- both URL forms -----------------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["path", "query"])
def test_orders_products_and_stock_work_in_either_url_form(sim: OpenCartSimulator, connect, style: str) -> None:
    sim.add_product("MUG", "Mug", price="9.95")
    sim.add_order([item("MUG", 1, "9.95")])
    connector = connect(route_style=style)

    orders, _ = read_all(connector)
    ref = connector.channel_refs([("MUG", "")])["MUG"]
    stock = connector.push_stock([StockUpdate("MUG", 4, ref)])
    created = connector.create_products([ProductUpdate(Product(sku="NEW-1", title="New", price=Money(amount=1)), "")])

    assert [order.channel_order_id for order in orders] == ["1"]
    assert stock[0].accepted and created[0].accepted
    assert sim.quantity("MUG") == 4 and sim.product("NEW-1") is not None
    paths = {call.path for call in sim.request_log}
    if style == "query":
        assert paths == {"/index.php"}
        assert all(call.query["route"].startswith("rest/") for call in sim.request_log)
    else:
        assert all(path.startswith("/api/rest_admin/") for path in paths)
