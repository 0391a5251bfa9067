"""ProductCreation: a missing product is made with its title and price, one the channel has already is
updated instead, and a create whose answer is lost is made once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from contract.harnesses import Harness, ean13

from koppel.connectors.base import ProductUpdate
from koppel.connectors.declaration import Capability
from koppel.models import Money, Product

CAPABILITY = Capability.PRODUCT_CREATION


class ProductCreationHarness(Harness, Protocol):
    def add_listing(self, sku: str, ean: str, title: str = "", price: Decimal = Decimal("9.99")) -> None: ...

    def price_of(self, sku: str) -> Decimal: ...

    def title_of(self, sku: str) -> str: ...

    def products_named(self, sku: str) -> int: ...  # how many products the channel holds with this SKU

    def lose_next_create_answer(self) -> None: ...  # the next create is made, its answer lost

    def faults_pending(self) -> int: ...


def new(sku: str, title: str, price: str) -> ProductUpdate:
    product = Product(sku=sku, title=title, ean=ean13(7), price=Money(amount=Decimal(price)))
    return ProductUpdate(product=product, channel_ref="")


def test_a_missing_product_is_created_with_its_title_and_price(harness: ProductCreationHarness, connector: Any) -> None:
    results = connector.create_products([new("LAMP-01", "Desk lamp", "39.95")])

    assert [(result.sku, result.accepted, result.error) for result in results] == [("LAMP-01", True, "")]
    assert harness.products_named("LAMP-01") == 1
    assert (harness.title_of("LAMP-01"), harness.price_of("LAMP-01")) == ("Desk lamp", Decimal("39.95"))
    assert "LAMP-01" in connector.product_refs([("LAMP-01", ean13(7))])


def test_a_product_the_channel_has_is_updated_not_made_twice(harness: ProductCreationHarness, connector: Any) -> None:
    harness.add_listing("LAMP-02", ean13(8), "Lamp", Decimal("19.95"))

    results = connector.create_products([new("LAMP-02", "Floor lamp", "49.95")])

    assert [(result.sku, result.accepted) for result in results] == [("LAMP-02", True)]
    assert harness.products_named("LAMP-02") == 1
    assert harness.price_of("LAMP-02") == Decimal("49.95")


def test_a_create_whose_answer_is_lost_is_made_once(harness: ProductCreationHarness, connector: Any) -> None:
    harness.lose_next_create_answer()

    first = connector.create_products([new("LAMP-03", "Wall lamp", "29.95")])
    assert harness.faults_pending() == 0
    # whatever the first call could tell, a second one (the flow's retry) makes nothing more
    second = connector.create_products([new("LAMP-03", "Wall lamp", "29.95")])

    assert first[0].accepted or first[0].retryable
    assert second[0].accepted
    assert harness.products_named("LAMP-03") == 1
    assert harness.price_of("LAMP-03") == Decimal("29.95")
