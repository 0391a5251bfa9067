"""ProductTarget: refs for what the channel has, a pushed price (and title) visible there, a refusal per SKU."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from contract.harnesses import ean13

from koppel.connectors.base import ProductUpdate
from koppel.connectors.declaration import Capability
from koppel.models import Money, Product

CAPABILITY = Capability.PRODUCT_TARGET


def update(sku: str, ean: str, title: str, price: str, ref: str) -> ProductUpdate:
    product = Product(sku=sku, title=title, ean=ean, price=Money(amount=Decimal(price)))
    return ProductUpdate(product=product, channel_ref=ref)


def test_product_refs_name_the_skus_the_channel_has(harness: Any, connector: Any) -> None:
    harness.add_listing("KNOWN-1", ean13(1))
    harness.add_listing("KNOWN-2", ean13(2))

    refs = connector.product_refs([("KNOWN-1", ean13(1)), ("KNOWN-2", ""), ("UNKNOWN", ean13(3))])

    assert refs == {"KNOWN-1": harness.product_ref("KNOWN-1"), "KNOWN-2": harness.product_ref("KNOWN-2")}


def test_a_pushed_price_and_title_show_on_the_channel(harness: Any, connector: Any) -> None:
    harness.add_listing("MUG-BLUE", ean13(2), "Mug", Decimal("9.99"))
    ref = connector.product_refs([("MUG-BLUE", ean13(2))])["MUG-BLUE"]

    results = connector.push_products([update("MUG-BLUE", ean13(2), "Mug blue, 300 ml", "12.50", ref)])

    assert [(result.sku, result.accepted, result.error) for result in results] == [("MUG-BLUE", True, "")]
    assert harness.price_of("MUG-BLUE") == Decimal("12.50")
    if harness.takes_titles:
        assert harness.title_of("MUG-BLUE") == "Mug blue, 300 ml"


def test_a_refused_product_is_reported_while_the_others_are_taken(harness: Any, connector: Any) -> None:
    skus = ["PROD-A", "PROD-B", "PROD-C"]
    for number, sku in enumerate(skus):
        harness.add_listing(sku, ean13(10 + number), sku, Decimal("9.99"))
    refs = connector.product_refs([(sku, ean13(10 + number)) for number, sku in enumerate(skus)])
    harness.refuse_product("PROD-B")

    results = connector.push_products(
        [update(sku, ean13(10 + number), sku, "14.95", refs[sku]) for number, sku in enumerate(skus)]
    )

    accepted = [(result.sku, result.accepted) for result in results]
    assert accepted == [("PROD-A", True), ("PROD-B", False), ("PROD-C", True)]
    assert results[1].error and not results[1].retryable
    assert (harness.price_of("PROD-A"), harness.price_of("PROD-C")) == (Decimal("14.95"), Decimal("14.95"))
