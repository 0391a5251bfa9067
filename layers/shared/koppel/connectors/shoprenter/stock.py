"""Stock in a Shoprenter shop: written (`StockTarget`) and read (`StockSource`).

A product holds its stock in four warehouse fields, `stock1` to `stock4`. koppel writes the account's
`stock_field` with `PUT /products/{id}` per SKU, up to 200 in one `POST /batch`, each SKU's result
from its own answer in the batch. Setting an absolute quantity twice does no harm, so a batch whose
answer is lost is sent again. The refs are the products' resource ids, found by SKU.

A read pages through `GET /products?full=1` (from page 0) and reports a level per field in
`read_stock_fields`, the field's name as the warehouse. A field at zero is reported only for the
`stock_field` koppel keeps: Shoprenter has no "not stocked here", and a product carries all four
fields whether the shop uses them or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from koppel.connectors.base import StockPage, StockPushResult, StockUpdate
from koppel.connectors.shoprenter.client import ShoprenterPart, SubRequest, decimal, items_of, page_count
from koppel.connectors.shoprenter.orders import text
from koppel.connectors.shoprenter.products import find_products
from koppel.errors import ConfigurationError, PermanentConnectorError, RateLimited, TransientConnectorError
from koppel.models import WarehouseStock

STOCK_BATCH = 200


class ShoprenterStock(ShoprenterPart):
    """`StockTarget` and `StockSource`."""

    def channel_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        found = find_products(self.shoprenter, [sku for sku, _ in skus])
        return {sku: str(product["id"]) for sku, product in found.items()}

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[StockPushResult]:
        results: list[StockPushResult | None] = [None] * len(updates)
        sendable: list[int] = []
        for index, update in enumerate(updates):
            if update.channel_ref.strip():
                sendable.append(index)
            else:
                results[index] = StockPushResult(update.sku, False, "Shoprenter has no product with this SKU")
        field = self.settings.stock_field
        requests = [
            SubRequest(
                "PUT", f"products/{updates[index].channel_ref.strip()}", {field: max(updates[index].quantity, 0)}
            )
            for index in sendable
        ]
        try:
            answers = self.shoprenter.batch(requests) if requests else []
        except (ConfigurationError, RateLimited):
            raise
        except TransientConnectorError as exc:
            for index in sendable:
                results[index] = StockPushResult(
                    updates[index].sku, False, f"Shoprenter could not be reached: {exc.message}", retryable=True
                )
            answers = []
        except PermanentConnectorError as exc:
            for index in sendable:
                results[index] = StockPushResult(updates[index].sku, False, exc.message)
            answers = []
        for index, answer in zip(sendable, answers, strict=False):
            sku = updates[index].sku
            if answer.ok:
                results[index] = StockPushResult(sku, True)
            elif answer.status == 404:
                results[index] = StockPushResult(sku, False, "Shoprenter has no product with this SKU (deleted since?)")
            else:
                retry = answer.status == 429 or answer.status >= 500
                results[index] = StockPushResult(sku, False, f"Shoprenter refused the stock: {answer.error()}", retry)
        return [result for result in results if result is not None]

    def stock_page(self, cursor: str | None) -> StockPage:
        page = int(cursor) if cursor and cursor.isdigit() else 0
        answered = self.shoprenter.get("products", {"full": 1, "limit": self.settings.page_size, "page": page})
        items = items_of(answered)
        now = datetime.now(UTC)
        levels: list[WarehouseStock] = []
        for item in items:
            sku = text(item.get("sku"))
            if not sku:
                continue
            for field in self.settings.read_stock_fields:
                units = int(decimal(item.get(field)))
                if units == 0 and field != self.settings.stock_field:
                    continue
                levels.append(WarehouseStock(sku=sku, warehouse=field, on_hand=units, observed_at=now))
        more = page + 1 < page_count(answered) and bool(items)
        return StockPage(tuple(levels), str(page + 1) if more else None)
