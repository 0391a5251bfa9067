"""Magento: the admin REST API simulator in-process (an MSI store), the connector from a Magento account."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal

import httpx
from contract.harnesses import SeedLine, build
from contract.harnesses._webshop import PAGE_SIZE, STARTED, PolledShopHarness

from koppel.connectors.declaration import Capability
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.magento import DEMO_TOKEN, MagentoSimulator, item, load_contract

COVERS = frozenset(
    {
        Capability.ORDER_CHANGES,
        Capability.PRODUCT_TARGET,
        Capability.PRODUCT_CREATION,
        Capability.STOCK_TARGET,
        Capability.BALANCE_TARGET,
    }
)

BASE_URL = "https://magento.test"


class MagentoHarness(PolledShopHarness):
    system = "magento"

    def __init__(self, sim: MagentoSimulator, client: httpx.Client) -> None:
        self.sim = sim
        settings = {"base_url": BASE_URL, "page_size": PAGE_SIZE, "inventory": "msi"}
        self.connector = build("magento", settings, {"access_token": DEMO_TOKEN}, client)

    # --- order changes --------------------------------------------------------------------------
    def add_order(self, lines: Sequence[SeedLine]) -> str:
        order = self.sim.add_order([item(line.sku, line.quantity, line.unit_price, name=line.title) for line in lines])
        return str(order["increment_id"])

    def add_unpaid_order(self, lines: Sequence[SeedLine]) -> str:
        order = self.sim.add_order(
            [item(line.sku, line.quantity, line.unit_price) for line in lines], state="pending_payment"
        )
        return str(order["increment_id"])

    def ship(self, order_id: str) -> None:
        self.sim.update_order(order_id, state="complete")

    def cancel(self, order_id: str) -> None:
        self.sim.update_order(order_id, state="canceled")

    # --- products -------------------------------------------------------------------------------
    def add_listing(self, sku: str, ean: str, title: str = "", price: Decimal = Decimal("9.99")) -> None:
        self.sim.add_product(sku, title or sku, price=price)

    def product_ref(self, sku: str) -> str:
        return str((self.sim.product(sku) or {})["sku"])

    stock_ref = product_ref  # Magento names a product's stock by its SKU too

    def price_of(self, sku: str) -> Decimal:
        return Decimal(str((self.sim.product(sku) or {})["price"]))

    def title_of(self, sku: str) -> str:
        return str((self.sim.product(sku) or {})["name"])

    def products_named(self, sku: str) -> int:
        return sum(1 for product in self.sim.products.values() if product["sku"].casefold() == sku.casefold())

    def refuse_product(self, sku: str) -> None:
        # Another product of the store took the URL key this one's name gives.
        self.sim.refuse_next_save(sku, 'URL key for specified store already exists: "%1".', [sku.lower()])

    def lose_next_create_answer(self) -> None:
        self.sim.fail_next(1, 502, group="product-create", after_execution=True)

    # --- stock ----------------------------------------------------------------------------------
    def stock_of(self, sku: str) -> int | None:
        return self.sim.quantity(sku)

    def throttle_next(self, retry_after: int | None) -> None:
        self.sim.faults.add(1, 429, target="source-items-save", retry_after=retry_after)

    # --- balances -------------------------------------------------------------------------------
    balance_attribute = "koppel_open_amount"

    def add_customer(self, email: str) -> None:
        self.sim.add_customer(email)

    def balance_of(self, email: str) -> Decimal | None:
        found = self.sim.customer_attribute(email, self.balance_attribute)
        return Decimal(found) if found is not None else None


@contextmanager
def started() -> Iterator[MagentoHarness]:
    sim = MagentoSimulator(contract=contract_or_skip(load_contract), now=STARTED)
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        yield MagentoHarness(sim, client)
