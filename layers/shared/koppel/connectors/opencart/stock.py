"""Stock in an OpenCart shop (`StockTarget`): `PUT products/{id}` with `{"quantity": n}`, one SKU a request.

The refs are the `product_id`s the catalogue index finds for koppel's SKUs (see `products.py`).
Setting an absolute quantity twice does no harm, so these writes are retried like reads. OpenCart
keeps one quantity per product; a product's options (sizes, colours) carry quantities of their own
that this route does not reach (not built: an option's stock is not written).
"""

from __future__ import annotations

from collections.abc import Sequence

from koppel.connectors.base import StockPushResult, StockUpdate
from koppel.connectors.opencart import routes
from koppel.connectors.opencart.products import OpenCartCatalogue
from koppel.connectors.webshop import written

STOCK_BATCH = 50


class OpenCartStockTarget(OpenCartCatalogue):
    """`StockTarget`."""

    def channel_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        found = self.products_by_sku([sku for sku, _ in skus])
        return {sku: str(row["product_id"]) for sku, row in found.items() if row.get("product_id") is not None}

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[StockPushResult]:
        return [self._set(update) for update in updates]

    def _set(self, update: StockUpdate) -> StockPushResult:
        ref = update.channel_ref.strip()
        if not ref:
            return StockPushResult(update.sku, False, "OpenCart has no product with this SKU")
        return written(
            StockPushResult,
            update.sku,
            "OpenCart",
            lambda: self.opencart.write("PUT", routes.product(ref), {"quantity": max(update.quantity, 0)}),
            missing="OpenCart has no product with this id (deleted since koppel looked?)",
            refused="opencart refused a quantity",
        )
