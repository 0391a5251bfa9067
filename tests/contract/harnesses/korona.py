"""KORONA: the KORONA.cloud API v3 simulator in-process, the connector from a KORONA account."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal

import httpx
from contract.harnesses import build

from koppel.connectors.declaration import Capability
from koppel.connectors.korona.client import PAGE_SIZE
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.korona import DEMO_PASSWORD, DEMO_USER, KoronaSimulator, load_contract

COVERS = frozenset(
    {
        Capability.PRODUCT_SOURCE,
        Capability.STOCK_SOURCE,
        Capability.STOCK_CHANGES,
        Capability.ORDER_SINK,
        Capability.RETURN_SINK,
    }
)

BASE_URL = "https://korona.test/web/api/v3"
DEFAULT_GROUP = "Standard"  # the account's price group, what `add_product` prices in
COUPLING_ID = "webshop-till"
PAYMENT = "7"  # the payment method receipts are paid with


class KoronaHarness:
    system = "korona"
    has_price_lists = True  # KORONA's price groups
    product_page_size = PAGE_SIZE
    stock_page_size = PAGE_SIZE

    def __init__(self, sim: KoronaSimulator, client: httpx.Client) -> None:
        self.sim = sim
        self.standard = sim.add_price_group(DEFAULT_GROUP)
        self.store = sim.add_unit("Store")
        sim.add_payment_method(PAYMENT, "Webshop")
        self.till = sim.add_point_of_sale(self.store, coupling_id=COUPLING_ID)
        settings = {
            "account_id": sim.account_id,
            "base_url": BASE_URL,
            "price_group": DEFAULT_GROUP,
            "point_of_sale": self.till,
            "payment_method": PAYMENT,
        }
        secret = {"user": DEMO_USER, "password": DEMO_PASSWORD, "coupling_id": COUPLING_ID}
        self.connector = build("korona", settings, secret, client)

    # --- product source -------------------------------------------------------------------------
    def add_product(self, sku: str, ean: str, title: str, price: Decimal) -> str:
        return self.sim.add_product(sku, title, codes=[ean], prices={self.standard: price})

    def add_price_list(self, name: str, prices: Mapping[str, Decimal]) -> str:
        group = self.sim.add_price_group(name)
        for sku, price in prices.items():
            self.sim.set_price(sku, group, price)
        return group

    # --- order sink and return sink ---------------------------------------------------------------
    def lose_next_order_answer(self) -> None:
        self.sim.fail_next(1, 502, group="receipts-add", after_execution=True)

    def faults_pending(self) -> int:
        return self.sim.faults.pending

    def orders_for(self, channel: str, channel_order_id: str) -> list[str]:
        # The sales receipts KORONA shows for the order number (returns are receipts of their own).
        return [
            receipt["id"]
            for receipt in self.sim.receipts_for(channel_order_id)
            if receipt["externalReferences"].get("koppel.channel") == channel
            and "koppel.return" not in receipt["externalReferences"]
        ]

    def order_lines(self, backoffice_order_id: str) -> list[tuple[str, int]]:
        items = self.sim.receipts[backoffice_order_id]["items"]
        return [(item["product"]["number"], int(item["quantity"])) for item in items]

    def stock_of(self, sku: str) -> int:
        """On hand where the connector books, as the merchant sees it in KORONA."""
        found = self.sim.stock(sku, self.store)
        return int(found) if found is not None else 0

    def set_stock(self, sku: str, units: int) -> None:
        self.sim.set_stock(sku, self.store, units)

    # --- stock source ---------------------------------------------------------------------------
    def default_location(self) -> str:
        return self.store

    def add_location(self, name: str) -> str:
        return self.sim.add_unit(name)

    def add_stocked_item(self, sku: str, on_hand: Mapping[str, int]) -> str:
        product = self.sim.add_product(sku, sku)
        for unit, units in on_hand.items():
            self.sim.set_stock(sku, unit, units)
        return product

    def change_stock(self, sku: str, location: str, units: int) -> None:
        self.sim.set_stock(sku, location, units)

    def warehouse_of(self, location: str) -> str:
        return location  # a KORONA warehouse is the organizational unit that holds it


@contextmanager
def started() -> Iterator[KoronaHarness]:
    sim = KoronaSimulator(contract=contract_or_skip(load_contract))
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        yield KoronaHarness(sim, client)
