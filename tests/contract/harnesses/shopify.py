"""Shopify: the Admin GraphQL simulator in-process, the connector from a Shopify account."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from itertools import count

import httpx
from contract.harnesses import Interruptions, SeedLine, body_mentions, build, koppel_order

from koppel.connectors.declaration import Capability
from koppel.models import CancelReason
from koppel_local.simulators.shopify import ShopifySimulator, load_schema

COVERS = frozenset(
    {
        Capability.ORDER_SINK,
        Capability.PROGRESS_SOURCE,
        Capability.STOCK_TARGET,
        Capability.STOCK_SOURCE,
        Capability.INVENTORY_ITEMS,
        Capability.PRODUCT_SOURCE,
        Capability.PRODUCT_TARGET,
    }
)

TOKEN = "shpat_contract_token"  # the simulator's made-up token
SHOP = "koppel-contract.myshopify.com"
# The merchant's words for cancelling in the admin, per koppel reason.
CANCEL_REASONS = {
    CancelReason.BUYER_REQUEST: "CUSTOMER",
    CancelReason.OUT_OF_STOCK: "INVENTORY",
    CancelReason.FRAUD: "FRAUD",
    CancelReason.PAYMENT_DECLINED: "DECLINED",
    CancelReason.OTHER: "OTHER",
}


def numeric(gid: str) -> str:
    """A gid as Shopify's webhooks and admin URLs name it: the number alone."""
    return gid.rsplit("/", 1)[-1]


class ShopifyHarness:
    system = "shopify"
    knows_every_sku = False
    refuses_per_sku = True
    takes_titles = True
    has_price_lists = True
    stock_page_size = 30  # inventory items per page of the connector's read
    product_page_size = 50

    def __init__(self, sim: ShopifySimulator, front: Interruptions, client: httpx.Client) -> None:
        self.sim = sim
        self.front = front
        self.connector = build("shopify", {"shop_domain": SHOP}, {"access_token": TOKEN}, client)
        self._imported = count(1)

    # --- order sink -----------------------------------------------------------------------------
    def add_product(self, sku: str, ean: str, title: str, price: Decimal) -> str:
        return str(self.sim.add_variant(sku, barcode=ean, title=title, price=price, inventory=10)["id"])

    def lose_next_order_answer(self) -> None:
        self.sim.fail_next(1, 502, after_execution=True, operation="orderCreate")

    def faults_pending(self) -> int:
        return self.sim.faults.pending

    def orders_for(self, channel: str, channel_order_id: str) -> list[str]:
        # What the merchant finds searching the admin for the tag koppel puts on the order.
        tag = f"{channel}-{channel_order_id}"
        return [str(order["id"]) for order in self.sim.orders if tag in order["tags"]]

    def order_lines(self, backoffice_order_id: str) -> list[tuple[str, int]]:
        return [(line["sku"], int(line["quantity"])) for line in self.sim.order(backoffice_order_id)["lines"]]

    # --- progress source ------------------------------------------------------------------------
    def add_imported_order(self, lines: Sequence[SeedLine]) -> tuple[str, tuple[str, ...]]:
        mapped = [(line, self.add_product(line.sku, line.ean, line.title, line.unit_price)) for line in lines]
        order = koppel_order("bol", f"imported-{next(self._imported)}", mapped)
        created = self.connector.create_order(order, tag="koppel")
        return created.backoffice_order_id, tuple(line.line_id for line in order.lines)

    def fulfil(self, backoffice_order_id: str, tracking_code: str, company: str) -> None:
        self.sim.fulfill(backoffice_order_id, None, [tracking_code], company=company)

    def cancel_as_merchant(self, backoffice_order_id: str, reason: CancelReason) -> None:
        self.sim.cancel(backoffice_order_id, CANCEL_REASONS[reason])

    def is_cancelled(self, backoffice_order_id: str) -> bool:
        return self.sim.order(backoffice_order_id)["cancelledAt"] is not None

    # --- stock and products on Shopify as a channel ---------------------------------------------
    def add_listing(self, sku: str, ean: str, title: str = "", price: Decimal = Decimal("9.99")) -> None:
        self.sim.add_variant(sku, barcode=ean, title=title or sku, price=price, inventory=0)

    def stock_ref(self, sku: str) -> str:
        return str(self.sim.variant(sku)["inventory_item_id"])

    def product_ref(self, sku: str) -> str:
        return str(self.sim.variant(sku)["id"])

    def stock_of(self, sku: str) -> int | None:
        return self.sim.inventory(sku)

    def refuse_stock(self, sku: str) -> None:
        # The merchant stops stocking the item at the shop's location: Shopify refuses a quantity there.
        self.sim.variant(sku)["levels"].pop(self.sim.location()["id"])

    def throttle_next(self, retry_after: int | None) -> None:
        if retry_after is None:
            self.sim.fail_next(1, 429, operation="inventorySetQuantities")
        else:
            self.front.throttle_next(retry_after, body_mentions("inventorySetQuantities"))

    def throttled(self) -> int:
        return self.front.served + sum(1 for call in self.sim.calls if call.get("status") == 429)

    def price_of(self, sku: str) -> Decimal:
        return Decimal(self.sim.variant(sku)["price"])

    def title_of(self, sku: str) -> str:
        return str(self.sim.product_of(sku)["title"])

    def refuse_product(self, sku: str) -> None:
        # The merchant deleted the product since koppel looked it up.
        self.sim.variants.remove(self.sim.variant(sku))

    # --- Shopify as the backoffice: stock and products --------------------------------------------
    def default_location(self) -> str:
        return numeric(self.sim.location()["id"])

    def add_location(self, name: str) -> str:
        return numeric(self.sim.add_location(name)["id"])

    def add_stocked_item(self, sku: str, on_hand: Mapping[str, int]) -> str:
        stock = {f"gid://shopify/Location/{location}": units for location, units in on_hand.items()}
        return numeric(self.sim.add_variant(sku, barcode="", title=sku, stock=stock)["inventory_item_id"])

    def warehouse_of(self, location: str) -> str:
        return location  # koppel names a Shopify warehouse by its numeric location id, as webhooks do

    def add_price_list(self, name: str, prices: Mapping[str, Decimal]) -> str:
        return numeric(self.sim.add_price_list(name, dict(prices))["id"])


@contextmanager
def started() -> Iterator[ShopifyHarness]:
    sim = ShopifySimulator(access_token=TOKEN, schema=load_schema())
    front = Interruptions(sim)
    with httpx.Client(transport=httpx.WSGITransport(app=front), base_url=f"https://{SHOP}") as client:
        yield ShopifyHarness(sim, front, client)
