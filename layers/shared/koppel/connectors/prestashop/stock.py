"""Stock in a PrestaShop shop (`StockTarget`), through `stock_availables`.

PrestaShop keeps one stock row per (product, combination, shop): `id_product_attribute` 0 for a product
without combinations, the combination's id for each size or colour. A SKU is a product's `reference` or a
combination's `reference` (combinations first: a product with combinations holds no stock of its own, its
row is the sum of theirs), and koppel's ref for it is `{id_product}:{id_product_attribute}`.

Setting a quantity finds the row (`GET /api/stock_availables?filter[id_product]=[p]&filter[id_product_attribute]=[a]`,
the account's shop's row, else the shop group's shared one, `id_shop` 0), sets its `quantity`, and sends
the whole row back (`PUT /api/stock_availables/{id}`): a PUT replaces the resource, so every other field
(`depends_on_stock`, `out_of_stock`, the location) goes back as read. An absolute quantity set twice does no
harm, so these writes are retried like reads. One result per SKU; a refusal is in PrestaShop's words.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree.ElementTree import Element

from koppel.connectors.base import StockPushResult, StockUpdate
from koppel.connectors.prestashop.client import PrestaShopPart, field_text, set_field
from koppel.connectors.webshop import written

STOCK_BATCH = 50


class PrestaShopStockTarget(PrestaShopPart):
    """`StockTarget`."""

    def channel_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        refs: dict[str, str] = {}
        for field, wanted in (("reference", [sku for sku, _ in skus]), ("ean13", [ean for _, ean in skus if ean])):
            combinations = self._keyed(self.shop.find("combinations", field, wanted), field)
            products = self._keyed(self.shop.find("products", field, wanted), field)
            for sku, ean in skus:
                key = (sku if field == "reference" else ean).casefold()
                if sku in refs or not key:
                    continue
                if key in combinations:
                    found = combinations[key]
                    refs[sku] = f"{field_text(found, 'id_product')}:{field_text(found, 'id')}"
                elif key in products and field_text(products[key], "cache_default_attribute") in ("", "0"):
                    refs[sku] = f"{field_text(products[key], 'id')}:0"
        return refs

    @staticmethod
    def _keyed(records: list[Element], field: str) -> dict[str, Element]:
        keyed: dict[str, Element] = {}
        for record in records:
            keyed.setdefault(field_text(record, field).casefold(), record)
        return keyed

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[StockPushResult]:
        return [self._push(update) for update in updates]

    def _push(self, update: StockUpdate) -> StockPushResult:
        product, _, attribute = update.channel_ref.partition(":")
        if not product.isdigit():
            return StockPushResult(update.sku, False, "PrestaShop has no product or combination with this SKU")
        attribute = attribute if attribute.isdigit() else "0"

        def send() -> StockPushResult | None:
            row = self._row(product, attribute)
            if row is None:
                return StockPushResult(
                    update.sku,
                    False,
                    f"PrestaShop has no stock row for product {product}, combination {attribute} in shop "
                    f"{self.settings.shop_id} (deleted since koppel looked?)",
                )
            set_field(row, "quantity", str(max(update.quantity, 0)))
            self.shop.update("stock_availables", field_text(row, "id"), row)
            return None

        missing = "PrestaShop has no such stock row (deleted since?)"
        return written(StockPushResult, update.sku, "PrestaShop", send, missing=missing)

    def _row(self, product: str, attribute: str) -> Element | None:
        rows = self.shop.list(
            "stock_availables",
            {"display": "full", "filter[id_product]": f"[{product}]", "filter[id_product_attribute]": f"[{attribute}]"},
        )
        shop = str(self.settings.shop_id)
        return next((r for r in rows if field_text(r, "id_shop") == shop), None) or next(
            (r for r in rows if field_text(r, "id_shop") in ("", "0")), None
        )
