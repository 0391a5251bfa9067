"""OpenCart: a shop with the REST Admin extension simulated in-process, the connector from an OpenCart account."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal

import httpx
from contract.harnesses import SeedLine, build
from contract.harnesses._webshop import PAGE_SIZE, STARTED, PolledShopHarness

from koppel.connectors.declaration import Capability
from koppel_local.simulators.opencart import DEMO_SECRET, OpenCartSimulator, item

COVERS = frozenset(
    {
        Capability.ORDER_CHANGES,
        Capability.PRODUCT_TARGET,
        Capability.PRODUCT_CREATION,
        Capability.STOCK_TARGET,
    }
)

BASE_URL = "https://opencart.test"
PENDING, PROCESSING, COMPLETE, CANCELED = 1, 2, 5, 7


class OpenCartHarness(PolledShopHarness):
    system = "opencart"

    def __init__(self, sim: OpenCartSimulator, client: httpx.Client) -> None:
        self.sim = sim
        settings = {"base_url": BASE_URL, "page_size": PAGE_SIZE}
        self.connector = build("opencart", settings, {"restadmin_secret": DEMO_SECRET}, client)

    # --- order changes --------------------------------------------------------------------------
    def add_order(self, lines: Sequence[SeedLine], status_id: int = PROCESSING) -> str:
        order = self.sim.add_order(
            [item(line.sku, line.quantity, line.unit_price, name=line.title) for line in lines], status_id=status_id
        )
        return str(order["order_id"])

    def add_unpaid_order(self, lines: Sequence[SeedLine]) -> str:
        return self.add_order(lines, status_id=PENDING)

    def ship(self, order_id: str) -> None:
        self.sim.update_order(order_id, status_id=COMPLETE)

    def cancel(self, order_id: str) -> None:
        self.sim.update_order(order_id, status_id=CANCELED)

    # --- products -------------------------------------------------------------------------------
    def add_listing(self, sku: str, ean: str, title: str = "", price: Decimal = Decimal("9.99")) -> None:
        self.sim.add_product(sku, title or sku, price=price)

    def product_ref(self, sku: str) -> str:
        return str((self.sim.product(sku) or {})["product_id"])

    stock_ref = product_ref  # a product's quantity is addressed by its id too

    def price_of(self, sku: str) -> Decimal:
        return Decimal(str((self.sim.product(sku) or {})["price"]))

    def title_of(self, sku: str) -> str:
        return self.sim.name_of(self.sim.product(sku) or {"product_description": []})

    def products_named(self, sku: str) -> int:
        return sum(1 for product in self.sim.products.values() if product["sku"].casefold() == sku.casefold())

    def refuse_product(self, sku: str) -> None:
        self.sim.refuse_next_save(sku, "Product Model must be between 1 and 64 characters!")

    def lose_next_create_answer(self) -> None:
        self.sim.fail_next(1, 502, group="product-create", after_execution=True)

    # --- stock ----------------------------------------------------------------------------------
    def stock_of(self, sku: str) -> int | None:
        return self.sim.quantity(sku)

    def throttle_next(self, retry_after: int | None) -> None:
        self.sim.faults.add(1, 429, target="product-save", retry_after=retry_after)


@contextmanager
def started() -> Iterator[OpenCartHarness]:
    sim = OpenCartSimulator(now=STARTED)
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        yield OpenCartHarness(sim, client)
