"""A Shopify store (the simulator) and the connector wired to it in-process, on a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from graphql import GraphQLSchema
from helpers import FakeTime

from koppel.connectors.shopify.connector import ShopifyConnector
from koppel.connectors.shopify.settings import ShopifySettings
from koppel.models import Address, Customer, Money, Order, OrderLine
from koppel_local.simulators.shopify import ShopifySimulator, load_schema

TOKEN = "shpat_test_token"
SHOP = "koppel-demo.myshopify.com"


@pytest.fixture(scope="session")
def shopify_schema() -> GraphQLSchema | None:
    # Building the 3 MB SDL takes a second or two: once per test session (load_schema caches it).
    return load_schema()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def simulator(shopify_schema: GraphQLSchema | None, fake_time: FakeTime) -> ShopifySimulator:
    sim = ShopifySimulator(access_token=TOKEN, schema=shopify_schema, clock=fake_time.time, sleep=fake_time.sleep)
    sim.add_variant("TSHIRT-RED-M", barcode="8712345678906", title="T-shirt red M", price="19.95", inventory=10)
    sim.add_variant("MUG-BLUE", barcode="8712345678913", title="Mug blue", price="8.50", inventory=3)
    return sim


@pytest.fixture
def http_client(simulator: ShopifySimulator) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=simulator), base_url=f"https://{SHOP}")


@pytest.fixture
def connector(http_client: httpx.Client, fake_time: FakeTime) -> ShopifyConnector:
    settings = ShopifySettings(shop_domain=SHOP)
    return ShopifyConnector(http_client, TOKEN, settings, clock=fake_time.clock())


@pytest.fixture
def variant_id(simulator: ShopifySimulator) -> Callable[[str], str]:
    def lookup(sku: str) -> str:
        return next(variant["id"] for variant in simulator.variants if variant["sku"] == sku)

    return lookup


@pytest.fixture
def make_order(variant_id: Callable[[str], str]) -> Callable[..., Order]:
    """A bol.com order as the channel connector would hand it over, lines already mapped."""

    def build(channel_order_id: str = "123", email: str = "jan@example.nl", **changes: Any) -> Order:
        address = Address(
            first_name="Jan",
            last_name="Jansen",
            street="Kerkstraat",
            house_number="12",
            house_number_extension="A",
            postal_code="1234 AB",
            city="Utrecht",
            country_code="NL",
            phone="0612345678",
        )
        order = Order(
            channel="bol",
            channel_order_id=channel_order_id,
            placed_at=datetime(2025, 5, 1, 9, 30, tzinfo=UTC),
            customer=Customer(email=email, first_name="Jan", last_name="Jansen"),
            billing_address=address,
            shipping_address=address.model_copy(update={"street": "Dorpsweg", "house_number": "7"}),
            lines=(
                OrderLine(
                    line_id="L1",
                    channel_sku="TSHIRT-RED-M",
                    quantity=2,
                    unit_price=Money(amount=Decimal("19.95")),
                    vat_rate=Decimal("21"),
                    backoffice_variant_id=variant_id("TSHIRT-RED-M"),
                ),
                OrderLine(
                    line_id="L2",
                    channel_sku="MUG-BLUE",
                    quantity=1,
                    unit_price=Money(amount=Decimal("8.10")),
                    backoffice_variant_id=variant_id("MUG-BLUE"),
                ),
            ),
            shipping_cost=Money(amount=Decimal("4.95")),
        )
        return order.model_copy(update=changes) if changes else order

    return build
