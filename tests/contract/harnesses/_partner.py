"""A partner taking stock by signed webhook, for each system whose connector is koppel's outgoing
stock webhook: the generic partner (`koppel_local.simulators.partner`), which takes any SKU and
answers for the whole batch, and Copernicus for Winkelstraat.nl (`koppel_local.simulators.copernicus`),
which lists what its feed gave it and names the SKUs it does not list in its answer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import httpx
from contract.harnesses import Interruptions, build

from koppel.connectors.declaration import Capability
from koppel_local.simulators.copernicus import CopernicusSimulator
from koppel_local.simulators.partner import StockPartner

COVERS = frozenset({Capability.STOCK_TARGET})

SIGNING_SECRET = "contract-partner-signing-secret"  # made up for the simulator
STOCK_URL = "https://partner.test/stock"


class PartnerHarness:
    knows_every_sku = True  # the partner knows the merchant's SKUs as they are; it says which it lacks on a push

    def __init__(self, system: str, partner: StockPartner, front: Interruptions, client: httpx.Client) -> None:
        self.system = system
        self.partner = partner
        self.front = front
        self.connector = build(system, {"stock_url": STOCK_URL}, {"signing_secret": SIGNING_SECRET}, client)
        # Copernicus names the SKUs it does not list (`unknown_skus`); the generic partner's refusals
        # in these cases are about the whole batch (any 2xx accepts all of it).
        self.refuses_per_sku = isinstance(partner, CopernicusSimulator)

    def add_listing(self, sku: str, ean: str, title: str = "", price: Decimal = Decimal("9.99")) -> None:
        """Copernicus lists what a feed gave it; the generic partner takes any SKU."""
        if isinstance(self.partner, CopernicusSimulator):
            self.partner.list_product(sku, title or f"Product {sku}", f"{price} EUR")

    def stock_ref(self, sku: str) -> str:
        return sku

    def stock_of(self, sku: str) -> int | None:
        return self.partner.stock.get(sku)

    def refuse_stock(self, sku: str) -> None:
        """Copernicus no longer lists the SKU: it names it in its answer."""
        if not self.refuses_per_sku:
            raise NotImplementedError("the partner accepts or refuses a batch as a whole")
        self.partner.unlisted.add(sku)

    def refuse_batch(self, status: int) -> None:
        """The partner answers the next stock request with `status`, about the whole batch."""
        self.partner.fail_next.append(status)

    def throttle_next(self, retry_after: int | None) -> None:
        if retry_after is None:
            self.partner.fail_next.append(429)  # the partner's own: a bare 429 once the signature checks out
        else:
            self.front.throttle_next(retry_after)

    def throttled(self) -> int:
        return self.front.served + sum(1 for logged in self.partner.request_log if logged.status == 429)


@contextmanager
def partner_started(system: str, partner: StockPartner | None = None) -> Iterator[PartnerHarness]:
    partner = partner if partner is not None else StockPartner(secret=SIGNING_SECRET)
    front = Interruptions(partner)
    with httpx.Client(transport=httpx.WSGITransport(app=front)) as client:
        yield PartnerHarness(system, partner, front, client)
        # Every delivery was signed as the partner checks it; a refusal would show here.
        assert partner.refused == [], partner.refused
