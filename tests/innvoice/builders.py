"""Orders as a Hungarian webshop hands them over, in forints, for the InnVoice tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from koppel.models import Address, Customer, Money, Order, OrderLine

TODAY = date(2026, 12, 2)


def huf(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="HUF")


def line(sku: str, quantity: int, price: str, *, title: str = "", vat: int = 27, discount: str = "", **more: Any):
    return OrderLine(
        line_id=f"L-{sku}",
        channel_sku=sku,
        title=title or sku,
        quantity=quantity,
        unit_price=huf(price),
        vat_rate=Decimal(vat),
        discount=huf(discount) if discount else None,
        **more,
    )


def order(*lines: OrderLine, number: str = "1001", shipping: str = "", **more: Any) -> Order:
    address = Address(
        first_name="Kiss",
        last_name="Anna",
        street="Fő utca",
        house_number="12",
        postal_code="1011",
        city="Budapest",
        country_code="HU",
    )
    return Order(
        channel="shoprenter",
        channel_order_id=f"SR-{number}",
        name=f"#{number}",
        placed_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC),  # 1 December in Budapest
        customer=Customer(email="anna.kiss@example.hu", first_name="Kiss", last_name="Anna"),
        billing_address=address,
        shipping_address=address,
        lines=lines,
        currency="HUF",
        shipping_cost=huf(shipping) if shipping else None,
        **more,
    )
