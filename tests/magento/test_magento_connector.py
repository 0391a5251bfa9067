"""The Magento connector against the simulator: orders as the backoffice gets them, products, stock and
open amounts as the store shows them, and errors an operator can act on."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

import pytest
from connector_fixtures import order_feed

from koppel.connectors.base import CustomerBalance, ProductUpdate, StockUpdate
from koppel.connectors.http import HttpStatusError
from koppel.connectors.magento.client import refusal
from koppel.errors import ConfigurationError, RateLimited
from koppel.models import Money, OrderStatus, Product
from koppel_local.simulators.magento import MagentoSimulator, configurable, item

SINCE = datetime(2026, 4, 30, tzinfo=UTC)


read_all = partial(order_feed, since=SINCE)


# --- orders -----------------------------------------------------------------------------------------
def test_a_configurable_product_is_one_line_with_the_child_sku_at_the_parent_price(sim, connect) -> None:
    sim.add_order([configurable("TEE", "TEE-RED-M", 2, "24.95", name="T-shirt")])

    (order,), _ = read_all(connect())

    (line,) = order.lines
    assert (line.channel_sku, line.quantity, line.unit_price.amount) == ("TEE-RED-M", 2, Decimal("24.95"))
    assert line.title == "T-shirt" and line.vat_rate == Decimal(21)


@pytest.mark.parametrize("store_options", [{"discount_tax": "including"}, {"discount_tax": "excluding"}])
def test_discount_and_shipping_arrive_with_vat_whichever_way_the_store_applies_discounts(sim, connect) -> None:
    placed = sim.add_order([item("MUG", 2, "12.10", discount="2.42")], shipping_incl_tax="6.95")

    (order,), _ = read_all(connect())

    (line,) = order.lines
    assert line.discount == Money(amount=Decimal("2.42"))
    assert order.shipping_cost == Money(amount=Decimal("6.95"))
    assert order.total == order.channel_total == Money(amount=Decimal(str(placed["grand_total"])))


@pytest.mark.parametrize(
    ("street", "expected"),
    [
        (["Kerkstraat", "12", "A"], ("Kerkstraat", "12", "A")),
        (["Kerkstraat", "12a"], ("Kerkstraat", "12", "a")),
        (["Lange Nieuwstraat 101-bis"], ("Lange Nieuwstraat", "101", "bis")),
        (["Plein 1944 2"], ("Plein 1944", "2", "")),
    ],
)
def test_dutch_street_lines_split_into_street_and_house_number(sim, connect, street, expected) -> None:
    sim.add_order([item("MUG", 1, "9.95")], billing={"street": street, "postcode": "3511 AB", "city": "Utrecht"})

    (order,), _ = read_all(connect())

    address = order.shipping_address
    assert (address.street, address.house_number, address.house_number_extension) == expected
    assert (order.billing_address.postal_code, order.customer.email) == ("3511 AB", "jan@example.nl")


def test_the_order_carries_what_the_merchant_sees(sim, connect) -> None:
    placed = sim.add_order([item("MUG", 1, "9.95")], payment_method="mollie_methods_ideal")

    (order,), _ = read_all(connect())

    assert (order.channel, order.channel_order_id, order.name) == ("magento", placed["increment_id"], "#000000001")
    assert order.payment_method == "mollie_methods_ideal"
    assert order.placed_at == datetime(2026, 5, 1, 9, 0, tzinfo=UTC) and order.status == OrderStatus.OPEN


def test_only_the_states_the_account_imports_come(sim, connect) -> None:
    sim.add_order([item("MUG", 1, "9.95")], state="holded")
    kept = sim.add_order([item("MUG", 1, "9.95")], state="new", status="pending")
    sim.add_order([item("MUG", 1, "9.95")], state="processing")

    orders, _ = read_all(connect(import_states=["pending"]))

    assert [order.channel_order_id for order in orders] == [kept["increment_id"]]


def test_the_last_page_answered_again_does_not_make_the_feed_loop(sim, connect) -> None:
    for _ in range(4):
        sim.add_order([item("MUG", 1, "9.95")])

    orders, _ = read_all(connect(page_size=2))

    assert len(orders) == 4
    assert len(sim.calls("orders")) <= 4


def test_two_orders_of_one_second_split_by_a_page_boundary_both_come_once(sim, connect) -> None:
    # GIVEN three orders saved in the same second, read two per page
    placed = [sim.add_order([item("MUG", 1, "9.95")])["increment_id"] for _ in range(3)]
    connector = connect(page_size=2)

    first = connector.order_changes(None, since=SINCE)
    rest = connector.order_changes(first.cursor, since=SINCE)

    assert first.more and first.cursor == "2026-05-01 09:00:00|2"
    assert [o.channel_order_id for o in first.orders + rest.orders] == placed
    assert not rest.more


def test_an_order_shipped_after_it_was_read_comes_again_as_shipped(sim, connect) -> None:
    placed = sim.add_order([item("MUG", 1, "9.95")])["increment_id"]
    connector = connect(overlap_seconds=60)
    _, cursor = read_all(connector)

    sim.advance(600)
    sim.update_order(placed, state="complete")
    again, _ = read_all(connector, cursor)

    assert [(o.channel_order_id, o.status) for o in again] == [(placed, OrderStatus.SHIPPED)]
    assert again[0].updated_at == datetime(2026, 5, 1, 9, 10, tzinfo=UTC)


def test_an_order_committed_late_within_the_overlap_is_read(sim, connect) -> None:
    sim.add_order([item("MUG", 1, "9.95")])
    sim.advance(100)
    sim.add_order([item("MUG", 1, "9.95")])
    connector = connect(overlap_seconds=300)
    _, cursor = read_all(connector)

    # WHEN an order stamped 09:00:50 (before the newest read, 09:01:40) is committed only now
    sim.freeze(datetime(2026, 5, 1, 9, 0, 50, tzinfo=UTC))
    late = sim.add_order([item("MUG", 1, "9.95")])["increment_id"]
    again, _ = read_all(connector, cursor)

    assert late in [o.channel_order_id for o in again]


# --- products and stock -------------------------------------------------------------------------------
def test_a_product_is_updated_by_sku_with_the_link_s_attributes(sim, connect) -> None:
    sim.add_product("LAMP-1", "Lamp", price="19.95")
    connector = connect()
    ref = connector.product_refs([("lamp-1", "")])["lamp-1"]
    product = Product(sku="lamp-1", title="Desk lamp", price=Money(amount=Decimal("24.50")), weight_grams=1250)

    (result,) = connector.push_products([ProductUpdate(product, ref, attributes={"ean": "8712345000017"})])

    assert result.accepted
    shown = sim.product("LAMP-1")
    assert (shown["name"], shown["price"], shown["weight"]) == ("Desk lamp", Decimal("24.5"), Decimal("1.25"))
    assert sim.attribute("LAMP-1", "ean") == "8712345000017"


def test_a_refused_product_says_why_in_magento_s_words(sim, connect) -> None:
    sim.add_product("LAMP-2")
    sim.refuse_next_save("LAMP-2", 'The value of attribute "%1" must be set.', ["color"])

    (result,) = connect().push_products([ProductUpdate(Product(sku="LAMP-2", title="Lamp"), "LAMP-2")])

    assert not result.accepted and not result.retryable
    assert 'The value of attribute "color" must be set.' in result.error


def test_a_create_whose_answer_is_lost_is_not_sent_twice(sim, connect) -> None:
    sim.fail_next(1, 503, group="product-create", after_execution=True)

    (result,) = connect().create_products([ProductUpdate(Product(sku="NEW-1", title="New", price=None), "")])

    assert result.accepted
    assert len(sim.calls("product-create")) == 1
    assert sim.product("NEW-1")["attribute_set_id"] == 4


@pytest.mark.parametrize("store_options", [{"inventory": "legacy"}])
def test_a_legacy_store_takes_stock_on_the_product_s_stock_item(sim, connect) -> None:
    sim.add_product("MUG-1", quantity=3)
    sim.add_product("MUG-2", quantity=3)
    connector = connect(inventory="legacy")
    refs = connector.channel_refs([("MUG-1", ""), ("MUG-2", "")])

    results = connector.push_stock([StockUpdate("MUG-1", 7, refs["MUG-1"]), StockUpdate("MUG-2", 0, refs["MUG-2"])])

    assert [result.accepted for result in results] == [True, True]
    assert (sim.quantity("MUG-1"), sim.in_stock("MUG-1")) == (7, True)
    assert (sim.quantity("MUG-2"), sim.in_stock("MUG-2")) == (0, False)


def test_an_msi_store_takes_stock_at_the_account_s_source(sim, connect) -> None:
    sim.add_product("MUG-1")
    connector = connect()

    (result,) = connector.push_stock([StockUpdate("MUG-1", 12, "MUG-1")])

    assert result.accepted and sim.quantity("MUG-1") == 12 and sim.in_stock("MUG-1")
    assert len(sim.calls("stock-item-save")) == 0


def test_a_rate_limit_longer_than_koppel_waits_hands_over_to_a_later_run(sim, connect) -> None:
    sim.add_product("MUG-1")
    sim.faults.add(1, 429, target="source-items-save", retry_after=120)

    with pytest.raises(RateLimited) as limited:
        connect().push_stock([StockUpdate("MUG-1", 4, "MUG-1")])

    assert limited.value.retry_after == 120
    assert sim.quantity("MUG-1") is None  # nothing was set: the whole push goes again later


def test_a_configurable_parent_takes_no_stock(sim, connect) -> None:
    sim.add_product("TEE", type_id="configurable")
    sim.add_product("TEE-M")

    assert connect().channel_refs([("TEE", ""), ("TEE-M", "")]) == {"TEE-M": "TEE-M"}


# --- errors and balances ------------------------------------------------------------------------------
def test_a_refused_integration_token_says_how_to_fix_it(sim, connect) -> None:
    with pytest.raises(ConfigurationError) as refused:
        connect(token="wrong").product_refs([("MUG", "")])

    assert refused.value.field == "access_token"
    assert "2.4.4" in refused.value.message and "Bearer" in refused.value.message


@pytest.mark.parametrize("store_options", [{"bearer_allowed": False}])
def test_a_store_that_takes_no_bearer_tokens_is_a_set_up_error_naming_the_resource(sim, connect) -> None:
    with pytest.raises(ConfigurationError) as refused:
        connect().order_changes(None, since=SINCE)

    assert "Magento_Sales::actions_view" in refused.value.message


def test_an_account_without_a_token_names_the_field(connect) -> None:
    with pytest.raises(ConfigurationError) as missing:
        connect(token=" ")
    assert missing.value.field == "access_token"


def test_open_amounts_land_on_every_account_of_the_e_mail(sim: MagentoSimulator, connect) -> None:
    sim.add_customer("anna@example.nl", website_id=1)
    sim.add_customer("Anna@Example.nl", website_id=2)
    balance = CustomerBalance("anna@example.nl", Money(amount=Decimal("42.5")))

    (result,) = connect().push_balances([balance], "open_amount")

    assert result.accepted
    assert [c["custom_attributes"] for c in sim.customers.values()] == [
        [{"attribute_code": "open_amount", "value": "42.50"}]
    ] * 2


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            '{"message": "No such entity with %fieldName = %fieldValue", "parameters": {"fieldName": "email", '
            '"fieldValue": "a@b.nl"}}',
            "No such entity with email = a@b.nl",
        ),
        (
            '{"message": "Validation Failed", "errors": [{"message": "Product with SKU \\"%1\\" does not exist.", '
            '"parameters": ["MUG-9"]}]}',
            'Validation Failed (Product with SKU "MUG-9" does not exist.)',
        ),
    ],
)
def test_magento_s_error_bodies_read_as_words(body: str, words: str) -> None:
    refused = refusal(HttpStatusError("refused", status_code=400, body=body), "POST", "/inventory/source-items")

    assert refused.message == f"magento refused POST /inventory/source-items: {words}"
