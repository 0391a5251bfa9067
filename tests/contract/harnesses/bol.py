"""bol.com: the Retailer API simulator in-process, the connector from a bol account."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from itertools import count

import httpx
from contract.harnesses import SeedLine, build

from koppel.connectors.declaration import Capability
from koppel.models import Order
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, PAGE_SIZE, BolSimulator, SimItem
from koppel_local.simulators.kit import RateLimit

COVERS = frozenset(
    {
        Capability.ORDER_SOURCE,
        Capability.SHIPMENT_CHANNEL,
        Capability.CHANNEL_CANCELLATIONS,
        Capability.STOCK_TARGET,
        Capability.PRODUCT_TARGET,
    }
)

API_URL = "https://api.bol.test"
TOKEN_URL = "https://login.bol.test/token"
OFFERS = uuid.UUID("0b7e6a1c-3f52-4d8e-9a41-6c2d5e8f1a90")  # offer ids follow from the SKU
# bol's own limit is 25 calls a second per endpoint group; the connector's pacing against it is
# tested in tests/bol. Here a full batch should not wait out real seconds.
ROOMY = RateLimit(calls=10_000, window_seconds=1.0)


class BolHarness:
    system = "bol"
    order_page_size = PAGE_SIZE
    knows_every_sku = False
    refuses_per_sku = True
    takes_titles = False  # title and images are bol's catalogue, not the retailer's

    def __init__(self, sim: BolSimulator, client: httpx.Client) -> None:
        self.sim = sim
        self.connector = build(
            "bol",
            {"base_url": API_URL, "token_url": TOKEN_URL},
            {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
            client,
        )
        self._order_ids = count(1_100_000_001)
        self._offers: dict[str, str] = {}  # sku → offer id

    # --- order source ---------------------------------------------------------------------------
    def add_open_order(self, lines: Sequence[SeedLine]) -> str:
        order_id = str(next(self._order_ids))
        items = [
            SimItem(
                ean=line.ean,
                title=line.title,
                unit_price=line.unit_price,
                quantity=line.quantity,
                offer_reference=line.sku,
            )
            for line in lines
        ]
        self.sim.add_order(order_id, items)
        return order_id

    def line_ids(self, order_id: str) -> tuple[str, ...]:
        return tuple(str(item["orderItemId"]) for item in self.sim.order(order_id)["orderItems"])

    def request_cancellation(self, order_id: str, line_id: str) -> None:
        self.sim.request_cancellation(line_id)

    # --- shipments and cancellations --------------------------------------------------------------
    def carrier_code(self, carrier: str | None) -> str:
        # As bol lists its transporter codes: PostNL is still TNT, DPD from the Netherlands DPD-NL,
        # and a carrier koppel does not know goes as OTHER.
        return {"postnl": "TNT", "dpd": "DPD-NL", "dhl_parcel": "DHL", None: "OTHER"}[carrier]

    def open_order(self, lines: Sequence[SeedLine]) -> Order:
        return self.current_order(self.add_open_order(lines))

    def current_order(self, order_id: str) -> Order:
        return self.connector.get_order(order_id)

    def shipments_of(self, order_id: str) -> list[tuple[tuple[str, ...], str, str]]:
        return [
            (shipment.order_item_ids, shipment.transporter_code, shipment.track_and_trace)
            for shipment in self.sim.shipments
            if shipment.order_id == order_id
        ]

    def cancelled_lines(self, order_id: str) -> set[str]:
        return {
            str(item["orderItemId"])
            for item in self.sim.order(order_id)["orderItems"]
            if int(item["quantityCancelled"]) >= int(item["quantity"])
        }

    # --- stock and products ---------------------------------------------------------------------
    def add_listing(self, sku: str, ean: str, title: str = "", price: Decimal = Decimal("9.99")) -> None:
        offer_id = str(uuid.uuid5(OFFERS, sku))
        self.sim.add_offer(offer_id, ean, reference=sku, stock=0, price=price)
        self._offers[sku] = offer_id

    def stock_ref(self, sku: str) -> str:
        return self._offers[sku]

    product_ref = stock_ref  # on bol a retailer's product is its offer

    def stock_of(self, sku: str) -> int | None:
        return self.sim.offer_stock(self._offers[sku])

    def refuse_stock(self, sku: str) -> None:
        self.sim.refuse_stock(self._offers[sku], "The offer is on hold by bol.com.")

    def throttle_next(self, retry_after: int | None) -> None:
        self.sim.retry_after_header = retry_after is not None
        self.sim.fail_next(1, 429, group="offer-stock", retry_after=retry_after or 1)

    def throttled(self) -> int:
        return sum(1 for call in self.sim.calls("offer-stock") if call.status == 429)

    def price_of(self, sku: str) -> Decimal:
        return self.sim.offer_price(self._offers[sku])

    def title_of(self, sku: str) -> str:
        raise NotImplementedError("bol keeps titles in its catalogue")

    def refuse_product(self, sku: str) -> None:
        self.sim.refuse_price(self._offers[sku], "The price is outside the allowed range for this product.")


@contextmanager
def started() -> Iterator[BolHarness]:
    sim = BolSimulator(rate_limit=ROOMY)
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        yield BolHarness(sim, client)
