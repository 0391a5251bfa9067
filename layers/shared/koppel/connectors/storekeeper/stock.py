"""Stock of a StoreKeeper shop's products: read page by page (`StockSource`) and for the products a
hook names (`StockLookup`).

A level is the shop product's `orderable_stock_value` (never below 0), observed when
`product_stock.date_updated` says, under warehouse "" (StoreKeeper keeps one orderable stock per shop
product). Only products that are published on the account's sales channel and keep stock report a
level: an unpublished product reports none to the link's channel, and one with unlimited stock
(`product_stock.unlimited`) has no level to report. Products are read with the same list call as
`products.py`, by `id__in_list` for a hook's products, so the hook's body is never trusted for a level.
Unverified: that `orderable_stock_value` is what the channel may sell (both plugins read it so);
that a product whose `flat_product.dirty` is set already carries its new stock (it is read as it is).
"""

from __future__ import annotations

from collections.abc import Sequence

from koppel.connectors.base import StockPage
from koppel.connectors.storekeeper.client import integer
from koppel.connectors.storekeeper.products import SELLABLE, StoreKeeperProducts, observed_at, orderable, stock_managed
from koppel.connectors.wire import chunks
from koppel.models import WarehouseStock

WAREHOUSE = ""


class StoreKeeperStock(StoreKeeperProducts):
    """`StockSource` and `StockLookup`."""

    def stock_page(self, cursor: str | None) -> StockPage:
        start = integer(cursor) if cursor else 0
        rows, more = self.shop_products(start, [SELLABLE])
        levels = tuple(level for row in rows if (level := self.level_of(row)) is not None)
        return StockPage(levels, str(start + len(rows)) if more else None)

    def stock_of(self, product_ids: Sequence[str]) -> list[WarehouseStock]:
        wanted = list(dict.fromkeys(each.strip() for each in product_ids if each.strip().isdigit()))
        levels: list[WarehouseStock] = []
        for part in chunks(wanted, self.settings.page_size):
            named = {"name": "id__in_list", "multi_val": [int(each) for each in part]}
            rows, _ = self.shop_products(0, [named, SELLABLE])
            levels.extend(level for row in rows if (level := self.level_of(row)) is not None)
        return levels

    def level_of(self, row: dict) -> WarehouseStock | None:
        product = self.koppel_product(row)
        if product is None or not stock_managed(row) or not self.published(row):
            return None
        return WarehouseStock(
            sku=product.sku, warehouse=WAREHOUSE, on_hand=orderable(row), observed_at=observed_at(row)
        )
