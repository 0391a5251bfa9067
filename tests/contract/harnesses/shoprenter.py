"""Shoprenter: the API simulator in-process (3 requests a second, as the shop), the connector from a
Shoprenter account."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal

import httpx
from contract.harnesses import SeedLine, build
from contract.harnesses._webshop import PAGE_SIZE, STARTED, PolledShopHarness

from koppel.connectors.declaration import Capability
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.shoprenter import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SHOP,
    ShoprenterSimulator,
    load_contract,
)

COVERS = frozenset(
    {
        Capability.ORDER_CHANGES,
        Capability.ORDER_LOOKUP,
        Capability.PRODUCT_TARGET,
        Capability.STOCK_TARGET,
        Capability.PRODUCT_SOURCE,
        Capability.STOCK_SOURCE,
    }
)

PENDING, SHIPPED, COMPLETE, CANCELLED, FAILED = 1, 3, 5, 7, 10  # the shop's default status ids


class ShoprenterHarness(PolledShopHarness):
    system = "shoprenter"
    has_price_lists = False
    product_page_size = PAGE_SIZE  # products, like orders, a small page so cases cross pages
    stock_page_size = PAGE_SIZE

    def __init__(self, sim: ShoprenterSimulator, client: httpx.Client) -> None:
        self.sim = sim
        settings = {
            "shop_name": DEMO_SHOP,
            "page_size": PAGE_SIZE,
            "currency": "EUR",
            "read_stock_fields": ["stock1", "stock2"],
        }
        secret = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
        self.connector = build("shoprenter", settings, secret, client)
        self._locations = ["stock2", "stock3", "stock4"]

    # --- order changes --------------------------------------------------------------------------
    def add_order(self, lines: Sequence[SeedLine], status_id: int = PENDING) -> str:
        order = self.sim.add_order(
            [(line.sku, line.quantity, line.unit_price) for line in lines], status_id=status_id, currency="EUR"
        )
        return str(order["innerId"])

    def add_unpaid_order(self, lines: Sequence[SeedLine]) -> str:
        return self.add_order(lines, status_id=FAILED)

    def ship(self, order_id: str) -> None:
        self.sim.update_order(order_id, status_id=COMPLETE)

    def cancel(self, order_id: str) -> None:
        self.sim.update_order(order_id, status_id=CANCELLED)

    # --- products -------------------------------------------------------------------------------
    def add_listing(self, sku: str, ean: str, title: str = "", price: Decimal = Decimal("9.99")) -> None:
        self.sim.add_product(sku, title or sku, gross=price, gtin=ean)

    def add_product(self, sku: str, ean: str, title: str, price: Decimal) -> str:
        return str(self.sim.add_product(sku, title, gross=price, gtin=ean)["id"])

    def add_price_list(self, name: str, prices: Mapping[str, Decimal]) -> str:
        raise NotImplementedError("koppel reads the default customer group's price only")

    def product_ref(self, sku: str) -> str:
        return str((self.sim.product(sku) or {})["id"])

    stock_ref = product_ref  # a product's stock is in its own fields

    def price_of(self, sku: str) -> Decimal:
        return self.sim.gross_price(sku)

    def title_of(self, sku: str) -> str:
        return self.sim.name_of(sku)

    def refuse_product(self, sku: str) -> None:
        self.sim.refuse_next_save(sku, "The price parameter has wrong data. The data is not scalar.")

    # --- stock ----------------------------------------------------------------------------------
    def stock_of(self, sku: str) -> int | None:
        return self.sim.stock(sku, "stock1")

    def throttle_next(self, retry_after: int | None) -> None:
        self.sim.faults.add(1, 429, target="batch", retry_after=retry_after)

    # --- stock source ---------------------------------------------------------------------------
    def default_location(self) -> str:
        return "stock1"

    def add_location(self, name: str) -> str:
        return self._locations.pop(0)

    def add_stocked_item(self, sku: str, on_hand: Mapping[str, int]) -> str:
        return str(self.sim.add_product(sku, sku, stock=dict(on_hand))["id"])

    def warehouse_of(self, location: str) -> str:
        return location  # the warehouse is the stock field's name


@contextmanager
def started() -> Iterator[ShoprenterHarness]:
    sim = ShoprenterSimulator(contract=contract_or_skip(load_contract), now=STARTED, currency="EUR")
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        yield ShoprenterHarness(sim, client)
