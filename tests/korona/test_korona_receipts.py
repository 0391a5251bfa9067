"""Webshop orders booked as KORONA receipts: the till's stock drops, the money adds up, KORONA's refusals in words."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from koppel.connectors.korona.client import DailyLimitReached, seconds_to_midnight
from koppel.errors import NeedsAttention, PermanentConnectorError, TransientConnectorError
from koppel.models import Address, Customer, Money, Order, OrderLine
from koppel_local.simulators.korona import KoronaSimulator

COUPLING = "webshop-till"


@pytest.fixture
def till(sim: KoronaSimulator) -> dict[str, str]:
    store = sim.add_unit("Store")
    sim.add_payment_method("1", "Cash")
    sim.add_payment_method("5", "iDEAL")
    ids = {
        "store": store,
        "pos": sim.add_point_of_sale(store, coupling_id=COUPLING),
        "tea": sim.add_product("TEA-100", "Rooibos tea", codes=["8712345678906"]),
        "ship": sim.add_product("SHIP", "Shipping", track_inventory=False),
    }
    sim.set_stock("TEA-100", store, 20)
    return ids


@pytest.fixture
def korona(connect, till: dict[str, str]):
    def build(**settings):
        defaults = {"point_of_sale": till["pos"], "payment_method": "1", "shipping_article": "SHIP"}
        connector = connect(**{**defaults, **settings})
        connector.coupling_id = COUPLING
        return connector

    return build


def webshop_order(till: dict[str, str], *, shipping: str | None = "4.95", currency: str = "EUR") -> Order:
    address = Address(street="Kerkstraat 1", postal_code="1011 AA", city="Amsterdam", country_code="NL")
    return Order(
        channel="shopify",
        channel_order_id="7001",
        name="#1042",
        placed_at=datetime(2026, 12, 3, 9, 15, tzinfo=UTC),
        customer=Customer(email="anna@example.nl"),
        billing_address=address,
        shipping_address=address,
        lines=(
            OrderLine(
                line_id="11",
                channel_sku="TEA-100",
                title="Rooibos tea",
                quantity=3,
                unit_price=Money(amount=Decimal("5.49"), currency=currency),
                discount=Money(amount=Decimal("1.47"), currency=currency),
                vat_rate=Decimal(9),
                backoffice_variant_id=till["tea"],
            ),
        ),
        shipping_cost=Money(amount=Decimal(shipping), currency=currency) if shipping else None,
        currency=currency,
        payment_method="ideal",
        backoffice_payment_method="5",
    )


def test_an_order_is_a_receipt_that_takes_the_units_out_of_the_till(sim: KoronaSimulator, korona, till) -> None:
    order = webshop_order(till)

    booked = korona().create_order(order, tag="koppel")

    receipt = sim.receipts[booked.backoffice_order_id]
    assert receipt["orderNumber"] == "7001"
    assert receipt["externalReferences"]["koppel.name"] == "#1042"
    assert [(item["product"]["number"], item["quantity"]) for item in receipt["items"]] == [("TEA-100", 3), ("SHIP", 1)]
    tea = receipt["items"][0]["total"]
    assert (Decimal(str(tea["gross"])), Decimal(str(tea["discount"]))) == (Decimal("15.00"), Decimal("1.47"))
    assert Decimal(str(tea["taxPayments"][0]["amount"])) == Decimal("1.24")  # 9% inside 15.00
    (payment,) = receipt["payments"]
    assert payment["paymentMethod"] == {"number": "5"}
    assert Decimal(str(payment["amount"])) == order.total.amount == Decimal("19.95")
    assert sim.stock("TEA-100", till["store"]) == 17
    assert booked.name == receipt["number"]


def test_a_parallel_update_refusal_is_waited_out_and_booked_once(sim: KoronaSimulator, korona, till, fake_time) -> None:
    sim.fail_next(2, 429, group="receipts-add")

    korona().create_order(webshop_order(till), tag="koppel")

    assert len(sim.receipts_for("7001")) == 1
    assert len(fake_time.sleeps) >= 2


def test_the_daily_limit_stops_until_midnight(sim: KoronaSimulator, korona, till) -> None:
    sim.fail_next(1, 429, group="receipts-add", code="DAILY_LIMIT_EXCEEDED")

    with pytest.raises(DailyLimitReached, match="daily request limit") as raised:
        korona().create_order(webshop_order(till), tag="koppel")

    assert raised.value.retry_after is not None and 0 < raised.value.retry_after <= 86_400
    assert sim.receipts_for("7001") == []
    assert seconds_to_midnight(datetime(2026, 12, 3, 23, 0, tzinfo=UTC)) == 3600


def test_a_lost_answer_is_outcome_unknown_and_found_again(sim: KoronaSimulator, korona, till) -> None:
    sim.fail_next(1, 504, group="receipts-add", after_execution=True)
    connector = korona()

    with pytest.raises(TransientConnectorError):
        connector.create_order(webshop_order(till), tag="koppel")

    found = connector.find_order("shopify", "7001")
    assert found is not None and [r["id"] for r in sim.receipts_for("7001")] == [found.backoffice_order_id]


def test_koronas_refusal_names_the_reason(sim: KoronaSimulator, korona, till) -> None:
    order = webshop_order(till)
    order = order.model_copy(update={"backoffice_payment_method": "99"})

    with pytest.raises(PermanentConnectorError, match="payment method 99 not found"):
        korona().create_order(order, tag="koppel")
    assert sim.stock("TEA-100", till["store"]) == 20


@pytest.mark.parametrize(
    ("settings", "order_changes", "reason"),
    [
        ({"shipping_article": ""}, {}, "no shipping article"),
        ({"shipping_article": "NOPE"}, {}, "no article 'NOPE'"),
        ({"payment_method": ""}, {"backoffice_payment_method": ""}, "no KORONA payment method for ideal"),
        ({"point_of_sale": ""}, {}, "no KORONA point of sale"),
    ],
)
def test_what_is_missing_to_book_is_named(korona, till, settings, order_changes, reason) -> None:
    order = webshop_order(till).model_copy(update=order_changes)

    with pytest.raises(NeedsAttention, match=reason):
        korona(**settings).create_order(order, tag="koppel")


def test_an_order_in_another_currency_waits(korona, till) -> None:
    with pytest.raises(NeedsAttention, match="in USD"):
        korona().create_order(webshop_order(till, currency="USD"), tag="koppel")


def test_a_wrong_coupling_id_is_a_set_up_error(sim: KoronaSimulator, connect, till) -> None:
    connector = connect(point_of_sale=till["pos"], payment_method="1", shipping_article="SHIP")
    connector.coupling_id = "wrong"

    with pytest.raises(PermanentConnectorError, match="coupling_id"):
        connector.create_order(webshop_order(till), tag="koppel")
    assert sim.receipts == {}
