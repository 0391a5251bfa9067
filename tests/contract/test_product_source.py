"""ProductSource: read with its cursor until the last page, every product once; a price list respected."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from contract.harnesses import ean13

from koppel.connectors.base import ProductPage
from koppel.connectors.declaration import Capability
from koppel.errors import ConfigurationError
from koppel.models import Money, Product

CAPABILITY = Capability.PRODUCT_SOURCE

MAX_PAGES = 100


def read_all(connector: Any, price_list: str = "") -> tuple[list[Product], int]:
    products: list[Product] = []
    cursor: str | None = None
    for pages in range(1, MAX_PAGES + 1):
        page: ProductPage = connector.product_page(cursor, price_list=price_list)
        products.extend(page.products)
        cursor = page.cursor
        if cursor is None:
            return products, pages
    raise AssertionError(f"no last page after {MAX_PAGES} pages")


def seed(harness: Any, count: int) -> dict[str, tuple[str, str, Money]]:
    expected = {}
    for number in range(count):
        sku, price = f"PROD-{number:04d}", Decimal(10) + Decimal(number) / 100
        harness.add_product(sku, ean13(500 + number), f"Product {number}", price)
        expected[sku] = (f"Product {number}", ean13(500 + number), Money(amount=price, currency="EUR"))
    return expected


def test_every_product_is_read_once_across_pages(harness: Any, connector: Any) -> None:
    expected = seed(harness, harness.product_page_size * 2 + 3)

    products, pages = read_all(connector)

    assert pages >= 3
    assert len(products) == len({product.sku for product in products}), "a product was read twice"
    assert {product.sku: (product.title, product.ean, product.price) for product in products} == expected
    assert all(type(product.price.amount) is Decimal for product in products if product.price)


def test_a_price_list_gives_only_its_products_at_its_prices(harness: Any, connector: Any) -> None:
    seed(harness, 5)
    if not harness.has_price_lists:
        # A system without price lists says so; it never hands out another price under the list's name.
        with pytest.raises(ConfigurationError):
            connector.product_page(None, price_list="Marketplace")
        return
    price_list = harness.add_price_list("Marketplace", {"PROD-0001": Decimal("7.50"), "PROD-0003": Decimal("8.25")})

    products, _ = read_all(connector, price_list)

    assert {product.sku: product.price for product in products} == {
        "PROD-0001": Money(amount=Decimal("7.50"), currency="EUR"),
        "PROD-0003": Money(amount=Decimal("8.25"), currency="EUR"),
    }
