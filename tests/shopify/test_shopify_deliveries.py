"""Shopify's order and refund webhooks read into koppel's model: the money comes to Shopify's total to the cent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from koppel.connectors.shopify import deliveries
from koppel.models import OrderStatus
from koppel.queue import Envelope
from koppel_local.reference import MISSING_REASON, reference_file


def envelope(topic: str, body: dict[str, Any]) -> Envelope:
    return Envelope(
        account_id="webshop",
        system="shopify",
        topic=topic,
        event_id="e-1",
        dedupe_key="d-1",
        received_at=datetime(2026, 12, 3, tzinfo=UTC),
        body=json.dumps(body),
    )


def shop_order(**changes: Any) -> dict[str, Any]:
    """A webshop order of three mugs and a poster, a 10% code on the mugs, an order discount and shipping."""
    order: dict[str, Any] = {
        "id": 7001,
        "name": "#1042",
        "email": "anna@example.nl",
        "currency": "EUR",
        "processed_at": "2026-12-03T09:15:00+01:00",
        "taxes_included": True,
        "total_discounts": "4.00",
        "total_price": "56.55",
        "payment_gateway_names": ["ideal"],
        "cancelled_at": None,
        "customer": {"first_name": "Anna", "last_name": "de Vries"},
        "shipping_address": {"address1": "Kerkstraat 1", "zip": "1011 AA", "city": "Amsterdam", "country_code": "NL"},
        "line_items": [
            {
                "id": 11,
                "sku": "MUG-1",
                "name": "Mug",
                "quantity": 3,
                "price": "9.99",
                "discount_allocations": [{"amount": "3.00"}],
                "tax_lines": [{"rate": 0.21, "price": "4.68"}],
            },
            {"id": 12, "sku": "POSTER", "name": "Poster", "quantity": 1, "price": "25.00", "tax_lines": []},
            {"id": 13, "sku": "", "name": "Gift card", "quantity": 1, "price": "10.00", "gift_card": True},
        ],
        "shipping_lines": [{"price": "5.58", "discount_allocations": []}, {"price": "3.00", "is_removed": True}],
    }
    order.update(changes)
    return order


def test_an_order_comes_to_shopifys_total_to_the_cent() -> None:
    order = deliveries.order(envelope("orders/create", shop_order()), shop_order())

    assert [line.channel_sku for line in order.lines] == ["MUG-1", "POSTER"]  # a gift card is no article
    assert order.channel_total is not None and order.channel_total.amount == Decimal("56.55")
    assert order.total.amount == Decimal("56.55")
    assert order.shipping_cost is not None and order.shipping_cost.amount == Decimal("5.58")
    mug = order.lines[0]
    assert mug.vat_rate == Decimal(21)
    assert (order.name, order.payment_method, order.status) == ("#1042", "ideal", OrderStatus.OPEN)
    assert order.shipping_address.city == "Amsterdam"


def test_prices_without_tax_get_their_tax_on_top() -> None:
    body = shop_order(taxes_included=False, total_discounts="3.00", total_price="62.23")
    order = deliveries.order(envelope("orders/create", body), body)

    assert order.total.amount == Decimal("62.23")


def test_a_cancelled_order_reads_as_cancelled() -> None:
    body = shop_order(cancelled_at="2026-12-03T10:00:00+01:00")
    assert deliveries.order(envelope("orders/cancelled", body), body).status is OrderStatus.CANCELLED


def test_an_order_without_articles_is_refused() -> None:
    body = shop_order(line_items=[])
    with pytest.raises(ValueError, match="no line items"):
        deliveries.order(envelope("orders/create", body), body)


def test_a_refund_says_which_lines_go_back_to_stock() -> None:
    body = {
        "id": 55,
        "order_id": 7001,
        "refund_line_items": [
            {"line_item_id": 11, "quantity": 2, "restock_type": "return", "line_item": {"sku": "MUG-1"}},
            {"line_item_id": 12, "quantity": 1, "restock_type": "no_restock", "line_item": {"sku": "POSTER"}},
        ],
        "transactions": [{"kind": "refund", "status": "success", "amount": "44.98", "currency": "EUR"}],
    }
    refund = deliveries.refund(envelope("refunds/create", body), body)

    assert refund.order_reference == "7001"
    assert [(line.line_id, line.quantity) for line in refund.restocked] == [("11", 2)]
    assert refund.refunded is not None and refund.refunded.amount == Decimal("44.98")


@pytest.mark.skipif(reference_file("shopify", "orders_create.sample.json") is None, reason=MISSING_REASON)
def test_shopifys_sample_order_adds_up() -> None:
    path = reference_file("shopify", "orders_create.sample.json")
    assert path is not None
    body = json.loads(path.read_text())
    order = deliveries.order(envelope("orders/create", body), body)

    assert order.channel_total is not None
    assert order.total.amount == order.channel_total.amount == Decimal(str(body["total_price"]))


@pytest.mark.skipif(reference_file("shopify", "refunds_create.sample.json") is None, reason=MISSING_REASON)
@pytest.mark.parametrize(
    ("name", "restocked"),
    [("refunds_create.sample.json", 0), ("refund_resource_example_restock_return.json", 2)],
)
def test_shopifys_sample_refunds(name: str, restocked: int) -> None:
    path = reference_file("shopify", name)
    assert path is not None
    body = json.loads(path.read_text())
    body = body.get("refund", body)
    refund = deliveries.refund(envelope("refunds/create", body), body)

    assert refund.order_reference
    assert sum(line.quantity for line in refund.restocked) == restocked
