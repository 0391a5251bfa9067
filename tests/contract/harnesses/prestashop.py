"""PrestaShop: the webservice simulator in-process, the connector from a PrestaShop account."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal

import httpx
from contract.harnesses import SeedLine, build
from contract.harnesses._webshop import PAGE_SIZE, STARTED, PolledShopHarness

from koppel.connectors.declaration import Capability
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.prestashop import DEMO_WS_KEY, PrestaShopSimulator, load_contract, row
from koppel_local.simulators.prestashop.app import TAX_GROUPS, text

COVERS = frozenset(
    {Capability.ORDER_CHANGES, Capability.PRODUCT_TARGET, Capability.PRODUCT_CREATION, Capability.STOCK_TARGET}
)

BASE_URL = "https://prestashop.test"
PAID, AWAITING_WIRE, SHIPPED, CANCELLED = 2, 10, 4, 6


class PrestaShopHarness(PolledShopHarness):
    system = "prestashop"

    def __init__(self, sim: PrestaShopSimulator, client: httpx.Client) -> None:
        self.sim = sim
        settings = {"base_url": BASE_URL, "page_size": PAGE_SIZE}
        self.connector = build("prestashop", settings, {"ws_key": DEMO_WS_KEY}, client)

    # --- order changes --------------------------------------------------------------------------
    def _order(self, lines: Sequence[SeedLine], state: int) -> str:
        placed = self.sim.add_order([row(line.sku, line.quantity, line.unit_price, name=line.title) for line in lines])
        self.sim.set_state(text(placed, "reference"), state)
        return text(placed, "id")

    def add_order(self, lines: Sequence[SeedLine]) -> str:
        return self._order(lines, PAID)

    def add_unpaid_order(self, lines: Sequence[SeedLine]) -> str:
        return self._order(lines, AWAITING_WIRE)

    def _state(self, order_id: str, state: int) -> None:
        self.sim.set_state(text(self.sim.data["orders"][int(order_id)], "reference"), state)

    def ship(self, order_id: str) -> None:
        self._state(order_id, SHIPPED)

    def cancel(self, order_id: str) -> None:
        self._state(order_id, CANCELLED)

    # --- products -------------------------------------------------------------------------------
    def add_listing(self, sku: str, ean: str, title: str = "", price: Decimal = Decimal("9.99")) -> None:
        excl = (Decimal(price) / (1 + TAX_GROUPS[1] / 100)).quantize(Decimal("0.000001"), ROUND_HALF_UP)
        self.sim.add_product(sku, title or sku, price=excl, ean13=ean)

    def product_ref(self, sku: str) -> str:
        return text(self.sim.product(sku), "id")  # type: ignore[arg-type]

    def stock_ref(self, sku: str) -> str:
        return f"{self.product_ref(sku)}:0"

    def price_of(self, sku: str) -> Decimal:
        """What the buyer sees: the price without tax plus the rate of its tax rules group, to the cent."""
        product = self.sim.product(sku)
        rate = TAX_GROUPS.get(int(text(product, "id_tax_rules_group") or 0), Decimal(0))  # type: ignore[arg-type]
        excl = Decimal(text(product, "price"))  # type: ignore[arg-type]
        return (excl * (1 + rate / 100)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def title_of(self, sku: str) -> str:
        return text(self.sim.product(sku), "name")  # type: ignore[arg-type]

    def products_named(self, sku: str) -> int:
        return len(self.sim.products_with(sku))

    def refuse_product(self, sku: str) -> None:
        product_id = int(self.product_ref(sku))
        self.sim.refuse_next_write("products", product_id, "Property Product->link_rewrite is not valid")

    def lose_next_create_answer(self) -> None:
        self.sim.fail_next(1, 502, group="create:products", after_execution=True)

    # --- stock ----------------------------------------------------------------------------------
    def stock_of(self, sku: str) -> int | None:
        return self.sim.quantity(sku)  # None: no such row; a new product's row holds 0

    def throttle_next(self, retry_after: int | None) -> None:
        self.sim.faults.add(1, 429, target="list:stock_availables", retry_after=retry_after)


@contextmanager
def started() -> Iterator[PrestaShopHarness]:
    sim = PrestaShopSimulator(contract=contract_or_skip(load_contract), now=STARTED)
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        yield PrestaShopHarness(sim, client)
