"""Stock in a Magento store (`StockTarget`), in whichever inventory the account names.

- `msi` (Multi-Source Inventory, 2.3+): `POST /V1/inventory/source-items` with
  `{sku, source_code, quantity, status}` per SKU, a batch per request (status 1, in stock, when the
  quantity is above zero). Magento refuses a batch as a whole; a refused batch is sent again one SKU
  at a time, so the refusal lands on the SKU it is about and the others are taken.
- `legacy` (the single default stock): `GET /V1/stockItems/{sku}` for the stock item, then
  `PUT /V1/products/{sku}/stockItems/{itemId}` with that item, its `qty` and `is_in_stock` set.

Setting an absolute quantity twice does no harm, so these writes are retried like reads. The refs are
the SKUs of the store's products that hold stock themselves (a configurable or bundle parent holds none).
"""

from __future__ import annotations

from collections.abc import Sequence

from koppel.connectors.base import StockPushResult, StockUpdate
from koppel.connectors.magento.client import MagentoPart, path_sku
from koppel.connectors.magento.products import find_products
from koppel.connectors.webshop import written
from koppel.connectors.wire import chunks
from koppel.errors import ConfigurationError, NotFound, PermanentConnectorError, RateLimited, TransientConnectorError
from koppel.observability import logger

STOCK_BATCH = 100
IN_STOCK, OUT_OF_STOCK = 1, 0
STOCKLESS_TYPES = frozenset({"configurable", "bundle", "grouped"})


class MagentoStockTarget(MagentoPart):
    """`StockTarget`."""

    def channel_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        found = find_products(self.magento, [sku for sku, _ in skus])
        return {
            sku: str(item["sku"])
            for sku, item in found.items()
            if str(item.get("type_id") or "simple") not in STOCKLESS_TYPES
        }

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[StockPushResult]:
        results: list[StockPushResult | None] = [None] * len(updates)
        sendable: list[int] = []
        for index, update in enumerate(updates):
            if update.channel_ref.strip():
                sendable.append(index)
            else:
                results[index] = StockPushResult(update.sku, False, "Magento has no product with this SKU")
        if self.settings.inventory == "msi":
            for part in chunks(sendable, STOCK_BATCH):
                self._source_items(updates, list(part), results)
        else:
            for index in sendable:
                results[index] = self._stock_item(updates[index])
        return [result for result in results if result is not None]

    # --- MSI ------------------------------------------------------------------------------------
    def _source_items(
        self, updates: Sequence[StockUpdate], indexes: list[int], results: list[StockPushResult | None]
    ) -> None:
        outcome = self._send_sources([updates[index] for index in indexes])
        if outcome is None:
            for index in indexes:
                results[index] = StockPushResult(updates[index].sku, True)
            return
        if len(indexes) == 1 or outcome.retryable:
            for index in indexes:
                results[index] = StockPushResult(updates[index].sku, False, outcome.error, outcome.retryable)
            return
        for index in indexes:  # a refused batch: which SKU is it about?
            self._source_items(updates, [index], results)

    def _send_sources(self, batch: Sequence[StockUpdate]) -> StockPushResult | None:
        items = [
            {
                "sku": update.channel_ref,
                "source_code": self.settings.source_code,
                "quantity": max(update.quantity, 0),
                "status": IN_STOCK if update.quantity > 0 else OUT_OF_STOCK,
            }
            for update in batch
        ]
        try:
            self.magento.write("POST", "/inventory/source-items", {"sourceItems": items})
        except (ConfigurationError, RateLimited):
            raise
        except TransientConnectorError as exc:
            return StockPushResult("", False, f"Magento could not be reached: {exc.message}", retryable=True)
        except (NotFound, PermanentConnectorError) as exc:
            logger.warning("magento refused source items", count=len(batch))
            return StockPushResult("", False, exc.message)
        return None

    # --- the legacy single stock ----------------------------------------------------------------
    def _stock_item(self, update: StockUpdate) -> StockPushResult:
        sku = update.channel_ref

        def send() -> StockPushResult | None:
            item = self.magento.get(f"/stockItems/{path_sku(sku)}")
            if item.get("item_id") is None:
                return StockPushResult(update.sku, False, "Magento has no stock item for this SKU")
            # The stock item as Magento has it, with koppel's quantity: the item's own settings
            # (backorders, minimum quantities) stay as the merchant set them.
            changed = {key: value for key, value in item.items() if value is not None}
            changed.update(qty=max(update.quantity, 0), is_in_stock=update.quantity > 0)
            self.magento.write("PUT", f"/products/{path_sku(sku)}/stockItems/{item['item_id']}", {"stockItem": changed})
            return None

        return written(
            StockPushResult,
            update.sku,
            "Magento",
            send,
            missing="Magento has no product with this SKU (deleted since?)",
        )
