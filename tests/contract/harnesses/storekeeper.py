"""StoreKeeper: the simulator (built from public facts, not a spec) in-process, the connector from a
StoreKeeper account whose secret holds what the simulator's `init` hook hands over.

StoreKeeper keeps one orderable stock per shop product: every location a case names is that one
stock, koppel's warehouse "" (as SnelStart's harness does)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal

import httpx
from contract.harnesses import build

from koppel.connectors.declaration import Capability
from koppel.connectors.storekeeper.hooks import credentials_of
from koppel.connectors.storekeeper.orders import reference
from koppel_local.simulators.storekeeper import StoreKeeperSimulator

COVERS = frozenset({Capability.ORDER_SINK, Capability.PRODUCT_SOURCE, Capability.STOCK_SOURCE, Capability.STOCK_LOOKUP})

PAGE_SIZE = 5  # a small page, so cases cross pages
LOCATION = ""


class StoreKeeperHarness:
    system = "storekeeper"
    has_price_lists = False
    product_page_size = PAGE_SIZE
    stock_page_size = PAGE_SIZE

    def __init__(self, sim: StoreKeeperSimulator, client: httpx.Client) -> None:
        self.sim = sim
        secret = {"webhook_secret": "contract-hook-token", **credentials_of(sim.init_payload())}
        self.connector = build("storekeeper", {"page_size": PAGE_SIZE}, secret, client)

    # --- product source and order sink -------------------------------------------------------------
    def add_product(self, sku: str, ean: str, title: str, price: Decimal) -> str:
        return str(self.sim.add_product(sku, title, price=price, ean=ean).id)

    def add_price_list(self, name: str, prices: Mapping[str, Decimal]) -> str:
        raise NotImplementedError("koppel reads StoreKeeper's default price only")

    def lose_next_order_answer(self) -> None:
        self.sim.fail_next(1, 502, group="ShopModule::newOrder", after_execution=True)

    def faults_pending(self) -> int:
        return self.sim.faults.pending

    def orders_for(self, channel: str, channel_order_id: str) -> list[str]:
        wanted = reference(channel, channel_order_id)
        return [str(order["id"]) for order in self.sim.orders.values() if order["customer_reference"] == wanted]

    def order_lines(self, backoffice_order_id: str) -> list[tuple[str, int]]:
        items = self.sim.order(backoffice_order_id)["order_items"]
        return [(self.sim.products[i["shop_product_id"]].sku, i["quantity"]) for i in items if "shop_product_id" in i]

    # --- stock source and look-up --------------------------------------------------------------------
    def default_location(self) -> str:
        return LOCATION

    def add_location(self, name: str) -> str:
        return LOCATION  # one stock per shop product: a case's "other location" is the same stock

    def add_stocked_item(self, sku: str, on_hand: Mapping[str, int]) -> str:
        return str(self.sim.add_product(sku, sku, stock=sum(on_hand.values())).id)

    def add_unstocked_item(self, sku: str) -> str:
        return str(self.sim.add_product(sku, sku, unlimited=True).id)

    def warehouse_of(self, location: str) -> str:
        return ""

    def change_stock(self, sku: str, units: int) -> None:
        self.sim.advance(60)
        self.sim.set_stock(sku, units)

    def withdraw(self, sku: str) -> None:
        self.sim.publish(sku, False)  # no longer active on the account's sales channel

    def missing_id(self) -> str:
        return "987654321"


@contextmanager
def started() -> Iterator[StoreKeeperHarness]:
    sim = StoreKeeperSimulator()
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        yield StoreKeeperHarness(sim, client)
