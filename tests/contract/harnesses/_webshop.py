"""What the harnesses of the polled webshops (Magento, PrestaShop, OpenCart, Shoprenter) do alike: the shop's
clock moved and an order saved late, a deleted product, planned faults and throttles counted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from contract.harnesses import SeedLine

STARTED = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
PAGE_SIZE = 5  # orders per read, small so cases cross page boundaries


class PolledShopHarness:
    """A shop simulator with the kit's shop clock and planned faults that counts the requests it throttled;
    `add_order` is the shop's."""

    knows_every_sku = False
    refuses_per_sku = True
    takes_titles = True
    order_page_size = PAGE_SIZE
    since = STARTED - timedelta(days=1)
    sim: Any

    def add_order(self, lines: Sequence[SeedLine]) -> str:
        raise NotImplementedError

    def tick(self, seconds: int = 1) -> None:
        self.sim.advance(seconds)

    def add_late_order(self, lines: Sequence[SeedLine], seconds_before: int) -> str:
        """An order stamped `seconds_before` the shop's clock, seen only now (its save committed late)."""
        now = self.sim.moment
        self.sim.freeze(now - timedelta(seconds=seconds_before))
        try:
            return self.add_order(lines)
        finally:
            self.sim.freeze(now)

    def faults_pending(self) -> int:
        return self.sim.faults.pending

    def refuse_stock(self, sku: str) -> None:
        self.sim.remove_product(sku)  # the merchant deleted the product since koppel looked it up

    def throttled(self) -> int:
        return self.sim.throttled
