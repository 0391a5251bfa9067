"""The SnelStart connector against the simulator: what the merchant sees in SnelStart, what the shop
gets from it, and the set-up errors an operator can act on."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from koppel.errors import (
    AuthenticationFailed,
    ConfigurationError,
    NeedsAttention,
    PermanentConnectorError,
    TransientConnectorError,
)
from koppel.models import Address, Customer, Money, Order, OrderLine
from koppel_local.simulators.snelstart import SnelStartSimulator

HOME = Address(
    first_name="Anna",
    last_name="de Vries",
    street="Dorpsstraat",
    house_number="7",
    postal_code="3511 AB",
    city="Utrecht",
)


def webshop_order(sim: SnelStartSimulator, *, order_id: str = "100000123", email: str = "anna@example.nl", **extra):
    shirt = sim.article("SHIRT")
    mug = sim.article("MUG")
    lines = extra.pop(
        "lines",
        (
            OrderLine(
                line_id="1",
                channel_sku="SHIRT",
                title="Shirt",
                quantity=3,
                unit_price=Money(amount=Decimal("19.95")),
                vat_rate=Decimal(21),
                backoffice_variant_id=shirt["id"],
                discount=Money(amount=Decimal("2.00")),
            ),
            OrderLine(
                line_id="2",
                channel_sku="MUG",
                title="Mug",
                quantity=2,
                unit_price=Money(amount=Decimal("10.00")),
                vat_rate=Decimal(21),
                backoffice_variant_id=mug["id"],
                discount=Money(amount=Decimal("2.00")),
            ),
        ),
    )
    return Order(
        channel="magento",
        channel_order_id=order_id,
        name=f"#{order_id}",
        placed_at=datetime(2026, 5, 4, 9, 30, tzinfo=UTC),
        customer=Customer(email=email, first_name="Anna", last_name="de Vries"),
        billing_address=HOME,
        shipping_address=HOME,
        lines=lines,
        **extra,
    )


@pytest.fixture
def shop(sim: SnelStartSimulator) -> SnelStartSimulator:
    sim.add_article("SHIRT", "Shirt blauw", "19.95", technical=10)
    sim.add_article("MUG", "Mok", "10.00", technical=5)
    sim.add_article("VERZEND", "Verzendkosten", "0", stock_control=False)
    sim.add_article("KORTING", "Korting", "0", stock_control=False)
    return sim


# --- auth and errors --------------------------------------------------------------------------------
def test_the_token_is_reused_and_renewed_once_when_snelstart_lets_it_go(shop: SnelStartSimulator, connect) -> None:
    connector = connect()

    assert connector.find_variant("SHIRT") is not None
    assert connector.find_variant("MUG") is not None
    assert shop.token_requests == 1  # one token for both

    shop.expire_all()
    assert connector.find_variant("SHIRT") is not None
    assert shop.token_requests == 2
    # every API call carried the gateway's subscription key
    api_calls = [call for call in shop.request_log if call.group != "token"]
    assert all(call.headers.get("Ocp-Apim-Subscription-Key") for call in api_calls)


def test_a_wrong_subscription_key_is_a_set_up_error_naming_it(shop: SnelStartSimulator, connect) -> None:
    with pytest.raises(AuthenticationFailed, match="subscription_key"):
        connect(subscription_key="wrong").find_variant("SHIRT")


def test_a_refused_koppelsleutel_names_the_client_key(shop: SnelStartSimulator, connect) -> None:
    with pytest.raises(AuthenticationFailed, match="client_key"):
        connect(client_key="regenerated-since").find_variant("SHIRT")


def test_a_missing_scope_is_a_set_up_error_naming_it_and_is_not_retried(shop: SnelStartSimulator, connect) -> None:
    shop.add_client_key("orders-only", {"orders:read", "orders:write", "relaties:read"})

    with pytest.raises(ConfigurationError, match="artikelen:read") as refused:
        connect(client_key="orders-only").find_variant("SHIRT")

    assert refused.value.field == "client_key"
    assert len(shop.calls("artikelen")) == 1


def test_missing_credentials_name_the_field(http, connect) -> None:
    with pytest.raises(ConfigurationError) as missing:
        connect(client_key="")
    assert missing.value.field == "client_key"


def test_snelstart_error_array_becomes_a_readable_message(shop: SnelStartSimulator, connect) -> None:
    connector = connect(discount_article="KORTING")
    order = webshop_order(shop)
    shop.relaties.clear()
    body = connector._order_body(order, "koppel")
    body["relatie"] = {"id": "00000000-0000-0000-0000-000000000009"}

    with pytest.raises(PermanentConnectorError) as refused:
        connector.snelstart.create("/verkooporders", body)

    assert (
        "ORD-0001" in str(refused.value) and "bestaat niet" in str(refused.value) and "relatie:" in str(refused.value)
    )


# --- orders -----------------------------------------------------------------------------------------
def test_the_order_lands_for_its_relatie_with_lines_shipping_and_discounts_to_the_cent(
    shop: SnelStartSimulator, connect
) -> None:
    connector = connect(shipping_article="VERZEND", discount_article="KORTING")
    order = webshop_order(shop, shipping_cost=Money(amount=Decimal("4.95")))

    created = connector.create_order(order, tag="koppel")

    booked = shop.verkooporders[created.backoffice_order_id]
    [relatie] = shop.relaties.values()
    assert booked["relatie"]["id"] == relatie["id"] and relatie["email"] == "anna@example.nl"
    assert relatie["naam"] == "Anna de Vries" and relatie["vestigingsAdres"]["postcode"] == "3511 AB"
    assert booked["verkooporderBtwIngaveModel"] == "Inclusief"
    assert booked["orderreferentie"] == "koppel:magento:100000123"
    assert "#100000123" in booked["omschrijving"]
    lines = [
        (
            shop.artikelen[line["artikel"]["id"]]["artikelcode"],
            line["aantal"],
            line["stuksprijs"],
            line.get("kortingsPercentage"),
            line["totaal"],
        )
        for line in booked["regels"]
    ]
    assert lines == [
        ("SHIRT", 3, Decimal("19.95"), None, Decimal("59.85")),
        ("KORTING", 1, Decimal("-2.00"), None, Decimal("-2.00")),  # 2.00 off 59.85 is no exact percentage
        ("MUG", 2, Decimal("10.00"), Decimal("10.00"), Decimal("18.00")),  # 2.00 off 20.00 is 10 %
        ("VERZEND", 1, Decimal("4.95"), None, Decimal("4.95")),
    ]
    assert (
        booked["totaalInclusiefBtw"]
        == Decimal("80.80")
        == sum(line.total.amount for line in order.lines) + Decimal("4.95")
    )
    assert created.name == str(booked["nummer"])
    assert shop.article("SHIRT")["vrijeVoorraad"] == 7  # the order reserves its units (simulated)


def test_without_a_discount_article_an_exact_net_price_is_booked_else_it_waits(
    shop: SnelStartSimulator, connect
) -> None:
    connector = connect()
    shirt = shop.article("SHIRT")["id"]
    even = OrderLine(
        line_id="1",
        channel_sku="SHIRT",
        quantity=2,
        unit_price=Money(amount=Decimal("19.95")),
        backoffice_variant_id=shirt,
        discount=Money(amount=Decimal("1.90")),
    )
    created = connector.create_order(webshop_order(shop, lines=(even,)), tag="koppel")
    [line] = shop.verkooporders[created.backoffice_order_id]["regels"]
    assert (line["stuksprijs"], line["totaal"]) == (Decimal("19.00"), Decimal("38.00"))

    odd = even.model_copy(update={"discount": Money(amount=Decimal("1.01"))})
    with pytest.raises(NeedsAttention, match="discount_article"):
        connector.create_order(webshop_order(shop, order_id="2", lines=(odd,)), tag="koppel")


def test_shipping_without_a_shipping_article_waits_for_a_person(shop: SnelStartSimulator, connect) -> None:
    with pytest.raises(NeedsAttention, match="shipping_article"):
        connect(discount_article="KORTING").create_order(
            webshop_order(shop, shipping_cost=Money(amount=Decimal("4.95"))), tag="koppel"
        )
    assert shop.verkooporders == {} and shop.relaties == {}


def test_the_customer_is_found_by_email_then_by_name_and_postcode_else_made_once(
    shop: SnelStartSimulator, connect
) -> None:
    connector = connect(discount_article="KORTING")
    by_mail = shop.add_relatie("Anna V.", email="Anna@Example.nl")
    assert connector.find_customer(webshop_order(shop)) == by_mail

    by_address = shop.add_relatie("Anna de Vries", postcode="3511AB")
    assert connector.find_customer(webshop_order(shop, email="new@example.nl")) == by_address
    stranger = webshop_order(shop, email="other@example.nl").model_copy(
        update={"billing_address": HOME.model_copy(update={"postal_code": "9999 ZZ"})}
    )
    assert connector.find_customer(stranger) is None

    connector.create_order(stranger, tag="koppel")
    connector.create_order(stranger.model_copy(update={"channel_order_id": "100000124"}), tag="koppel")
    assert [r["email"] for r in shop.relaties.values()].count("other@example.nl") == 1


def test_without_create_customer_an_unknown_buyer_waits_naming_them(shop: SnelStartSimulator, connect) -> None:
    with pytest.raises(NeedsAttention, match=r"anna@example\.nl"):
        connect(discount_article="KORTING").create_order(webshop_order(shop), tag="koppel", create_customer=False)
    assert shop.relaties == {}


def test_an_order_whose_answer_is_lost_is_found_and_not_made_twice(shop: SnelStartSimulator, connect) -> None:
    connector = connect(discount_article="KORTING")
    order = webshop_order(shop)
    shop.fail_next(1, 504, group="verkooporders-create", after_execution=True)

    with pytest.raises(TransientConnectorError, match="outcome unknown"):
        connector.create_order(order, tag="koppel")

    found = connector.find_order("magento", "100000123")
    assert found is not None
    assert [o["id"] for o in shop.orders_with_reference("koppel:magento:100000123")] == [found.backoffice_order_id]
    assert connector.find_order("magento", "10000012") is None


def test_variants_by_artikelcode_exactly_and_by_the_barcode_field(shop: SnelStartSimulator, connect) -> None:
    shop.add_article("SHIRT-XL", "Shirt XL", "21.00", extra={"EAN": "8712345000014"})
    connector = connect(barcode_field="EAN")

    assert connector.find_variant("SHIRT").sku == "SHIRT"
    assert connector.find_variant("SHIRT-X") is None
    assert connector.find_variant("NOPE", "8712345000014").sku == "SHIRT-XL"
    assert connector.find_variant("NOPE", "8712345000099") is None


# --- stock --------------------------------------------------------------------------------------------
def test_stock_reports_technical_on_hand_and_what_orders_promised(shop: SnelStartSimulator, connect) -> None:
    shop.set_stock("SHIRT", 10, 6)
    shop.set_stock("MUG", 3, 5)  # more free than technical: nothing promised

    page = connect().stock_page(None)

    levels = {level.sku: (level.warehouse, level.on_hand, level.backorders, level.free) for level in page.levels}
    assert levels == {"SHIRT": ("", 10, 4, 6), "MUG": ("", 3, 0, 3)}  # no stock control: not reported
    assert page.cursor is None


def read_feed(connector, cursor):
    levels = []
    while True:
        page = connector.stock_changes(cursor)
        levels.extend(page.levels)
        cursor = page.cursor
        if not page.more:
            return levels, cursor


def test_a_change_at_the_very_moment_of_the_cursor_is_read(shop: SnelStartSimulator, connect, wall) -> None:
    connector = connect()
    wall.move(60)
    _, cursor = read_feed(connector, None)
    wall.move(60)
    shop.set_stock("SHIRT", 8)
    levels, cursor = read_feed(connector, cursor)
    assert [(level.sku, level.on_hand) for level in levels] == [("SHIRT", 8)]
    moment = shop.article("SHIRT")["modifiedOn"]

    # WHEN another article changes stamped the very same instant the cursor stands on
    shop.set_stock("MUG", 1, at=datetime.fromisoformat(moment))
    levels, cursor = read_feed(connector, cursor)

    assert [(level.sku, level.on_hand) for level in levels] == [("MUG", 1)]
    again, same = read_feed(connector, cursor)
    assert again == [] and same == cursor


def test_a_change_during_paging_reaches_koppel(shop: SnelStartSimulator, connect, wall) -> None:
    for number in range(150):
        shop.add_article(f"ART-{number:03d}", f"Article {number}", "1.00", technical=number)
    connector = connect()
    wall.move(60)
    _, cursor = read_feed(connector, None)
    wall.move(60)
    for number in range(150):
        shop.set_stock(f"ART-{number:03d}", 1000 + number)
    wall.move(60)

    first = connector.stock_changes(cursor)
    assert first.more
    shop.set_stock("ART-000", 5)  # already read in this pass
    wall.move(1)
    shop.set_stock("ART-147", 6)  # not read yet
    rest, _ = read_feed(connector, first.cursor)

    newest: dict[str, int] = {}
    for level in sorted([*first.levels, *rest], key=lambda level: level.sequence):
        newest[level.sku] = level.on_hand
    assert newest["ART-000"] == 5 and newest["ART-147"] == 6
    assert all(newest[f"ART-{n:03d}"] == 1000 + n for n in range(1, 147))


# --- products and balances ------------------------------------------------------------------------------
def test_products_carry_price_stock_group_and_every_other_field(shop: SnelStartSimulator, connect) -> None:
    group = shop.add_omzetgroep("Kleding", "Hoog")
    shop.add_article(
        "JACKET", "Jas", "89.95", technical=4, omzetgroep=group, extra={"Kleur": "rood", "EAN": "8712345000021"}
    )
    shop.add_article("OLD", "Oud", "1.00", inactive=True)

    page = connect(barcode_field="EAN").product_page(None)

    products = {product.sku: product for product in page.products}
    assert "OLD" not in products
    jacket = products["JACKET"]
    assert (jacket.title, jacket.price, jacket.quantity, jacket.stock_managed) == (
        "Jas",
        Money(amount=Decimal("89.95"), currency="EUR"),
        4,
        True,
    )
    assert (jacket.category, jacket.ean) == ("Kleding", "8712345000021")
    assert jacket.attributes["Kleur"] == "rood" and jacket.attributes["eenheid"] == "stuk"
    assert jacket.attributes["technischeVoorraad"] == "4"
    assert page.cursor is None and page.resume


def test_a_next_product_pass_reads_only_what_changed(shop: SnelStartSimulator, connect, wall) -> None:
    connector = connect()
    wall.move(60)
    first = connector.product_page(None)
    wall.move(60)
    shop.set_price("MUG", "12.50")

    later = connector.product_page(first.resume)

    read = {product.sku: product.price.amount for product in later.products}
    assert read["MUG"] == Decimal("12.50")
    assert "SHIRT" not in read  # unchanged since the first pass (the pass's last instant may come again)


def test_an_unknown_price_list_is_a_set_up_error(shop: SnelStartSimulator, connect) -> None:
    with pytest.raises(ConfigurationError, match="Zomer"):
        connect().product_page(None, price_list="Zomer")


def test_balances_sum_the_open_invoices_of_customers_with_an_address(shop: SnelStartSimulator, connect) -> None:
    anna = shop.add_relatie("Anna", email="anna@example.nl")
    shop.add_invoice(anna, "121.00")
    credit = shop.add_invoice(anna, "-21.00")
    bram = shop.add_relatie("Bram", email="bram@example.nl")
    shop.add_relatie("Leverancier BV", email="inkoop@example.nl", soort="Leverancier")
    paid = shop.add_invoice(bram, "50.00")
    shop.pay_invoice(paid)

    page = connect().balance_page(None)

    assert {b.email: b.open_amount.amount for b in page.balances} == {
        "anna@example.nl": Decimal("100.00"),
        "bram@example.nl": Decimal("0"),
    }
    assert credit and page.cursor is None


def test_a_lost_relatie_answer_is_outcome_unknown(shop: SnelStartSimulator, connect) -> None:
    connector = connect(discount_article="KORTING")
    shop.fail_next(1, 502, group="relaties-create", after_execution=True)

    with pytest.raises(TransientConnectorError, match="outcome unknown"):
        connector.create_order(webshop_order(shop), tag="koppel")

    assert connector.find_customer(webshop_order(shop)) is not None  # the next run finds it, makes none
    assert shop.verkooporders == {}
