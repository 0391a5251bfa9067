"""SnelStart: the B2B API v2 simulator in-process, the connector from a SnelStart account."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal

import httpx
from contract.harnesses import build

from koppel.connectors.declaration import Capability
from koppel.connectors.snelstart.articles import BATCH
from koppel.connectors.snelstart.client import LIST_PAGE
from koppel.connectors.snelstart.orders import reference
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.snelstart import (
    DEMO_CLIENT_KEY,
    DEMO_SUBSCRIPTION_KEY,
    SnelStartSimulator,
    load_contract,
)

COVERS = frozenset(
    {
        Capability.ORDER_SINK,
        Capability.STOCK_SOURCE,
        Capability.STOCK_CHANGES,
        Capability.PRODUCT_SOURCE,
        Capability.BALANCE_SOURCE,
    }
)

BASE_URL = "https://snelstart.test/v2"
TOKEN_URL = "https://auth.snelstart.test/b2b/token"
BARCODE = "EAN"  # the extra field the merchant keeps barcodes in
LOCATION = ""  # SnelStart keeps one stock per article: one location, koppel's warehouse ""


class SnelStartHarness:
    system = "snelstart"
    has_price_lists = True  # SnelStart's action prices
    product_page_size = BATCH
    stock_page_size = BATCH
    balance_page_size = LIST_PAGE

    def __init__(self, sim: SnelStartSimulator, client: httpx.Client) -> None:
        self.sim = sim
        settings = {"base_url": BASE_URL, "token_url": TOKEN_URL, "barcode_field": BARCODE}
        secret = {"subscription_key": DEMO_SUBSCRIPTION_KEY, "client_key": DEMO_CLIENT_KEY}
        self.connector = build("snelstart", settings, secret, client)

    # --- product source and order sink ------------------------------------------------------------
    def add_product(self, sku: str, ean: str, title: str, price: Decimal) -> str:
        return self.sim.add_article(sku, title, price, technical=10, extra={BARCODE: ean})

    def add_price_list(self, name: str, prices: Mapping[str, Decimal]) -> str:
        self.sim.add_action_price(name, prices)
        return name  # an action is named by its description

    def lose_next_order_answer(self) -> None:
        self.sim.fail_next(1, 502, group="verkooporders-create", after_execution=True)

    def faults_pending(self) -> int:
        return self.sim.faults.pending

    def orders_for(self, channel: str, channel_order_id: str) -> list[str]:
        return [order["id"] for order in self.sim.orders_with_reference(reference(channel, channel_order_id))]

    def order_lines(self, backoffice_order_id: str) -> list[tuple[str, int]]:
        lines = self.sim.verkooporders[backoffice_order_id]["regels"]
        return [(self.sim.artikelen[line["artikel"]["id"]]["artikelcode"], int(line["aantal"])) for line in lines]

    # --- stock source and changes -------------------------------------------------------------------
    def default_location(self) -> str:
        return LOCATION

    def add_location(self, name: str) -> str:
        return LOCATION  # no second warehouse: a case's "other location" is the same stock

    def add_stocked_item(self, sku: str, on_hand: Mapping[str, int]) -> str:
        units = sum(on_hand.values()) if len(on_hand) > 1 else next(iter(on_hand.values()), 0)
        return self.sim.add_article(sku, sku, "1.00", technical=units)

    def change_stock(self, sku: str, location: str, units: int) -> None:
        self.sim.set_stock(sku, units)

    def warehouse_of(self, location: str) -> str:
        return ""

    # --- balance source ---------------------------------------------------------------------------
    def add_customer(self, email: str, name: str) -> str:
        return self.sim.add_relatie(name, email=email)

    def add_open_invoice(self, customer_ref: str, amount: Decimal) -> str:
        return self.sim.add_invoice(customer_ref, amount)

    def pay_invoice(self, invoice_ref: str, amount: Decimal) -> None:
        self.sim.pay_invoice(invoice_ref, amount)


@contextmanager
def started() -> Iterator[SnelStartHarness]:
    sim = SnelStartSimulator(contract=contract_or_skip(load_contract))
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        yield SnelStartHarness(sim, client)
