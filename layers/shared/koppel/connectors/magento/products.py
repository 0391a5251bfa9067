"""Products in a Magento store: kept current (`ProductTarget`) and created (`ProductCreation`).

Magento names a product by its SKU in every path, so the SKU is koppel's ref for it. The store's
products are matched with `GET /V1/products` filtered on `sku in (...)` (the EAN has no standard
attribute in Magento; a link maps it onto one through `products.attributes`). An update is
`PUT /V1/products/{sku}` with the name, price, weight and the link's attributes as
`custom_attributes`; a create is `POST /V1/products` as a simple product in the account's attribute
set and websites. A create is sent once: when its answer is lost, the SKU is looked up, and a product
found there counts as made; never a second POST.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from koppel.connectors.base import ProductPushResult, ProductUpdate
from koppel.connectors.magento.client import MagentoClient, MagentoPart, Search, path_sku
from koppel.connectors.webshop import create_or_update, created, written
from koppel.connectors.wire import chunks
from koppel.errors import NotFound, TransientConnectorError

LOOKUP_BATCH = 50  # SKUs per `sku in` look-up: keeps the query string short
ENABLED = 1
SIMPLE = "simple"
GRAMS_PER_UNIT = {"kgs": Decimal(1000), "lbs": Decimal("453.59237")}


class MagentoProducts(MagentoPart):
    """`ProductTarget` and `ProductCreation`."""

    def product_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        """(sku, ean) → the store's SKU for it, for the SKUs the store has (matched without regard to case)."""
        return {sku: found["sku"] for sku, found in self.products_by_sku([sku for sku, _ in skus]).items()}

    def products_by_sku(self, skus: Sequence[str]) -> dict[str, dict[str, Any]]:
        return find_products(self.magento, skus)

    def push_products(self, updates: Sequence[ProductUpdate]) -> list[ProductPushResult]:
        return [self._update(update) for update in updates]

    def create_products(self, updates: Sequence[ProductUpdate]) -> list[ProductPushResult]:
        """Create each product the store does not have; one it has already is updated instead."""
        existing = self.products_by_sku([update.product.sku for update in updates])
        refs = {sku: str(found["sku"]) for sku, found in existing.items()}
        return create_or_update(updates, refs, self._update, self._create)

    def _update(self, update: ProductUpdate) -> ProductPushResult:
        sku = update.product.sku
        ref = update.channel_ref.strip() or sku
        return written(
            ProductPushResult,
            sku,
            "Magento",
            lambda: self.magento.write("PUT", f"/products/{path_sku(ref)}", {"product": self._body(update, ref)}),
            missing="Magento has no product with this SKU (deleted since koppel looked?)",
            refused="magento refused a product update",
        )

    def _create(self, update: ProductUpdate) -> ProductPushResult:
        sku = update.product.sku
        body = self._body(update, sku) | {
            "type_id": SIMPLE,
            "attribute_set_id": self.settings.attribute_set_id,
            "status": ENABLED,
            "visibility": self.settings.visibility,
            "extension_attributes": {"website_ids": list(self.settings.website_ids)},
        }
        body.setdefault("price", 0)  # Magento needs a price to save a simple product
        return created(
            sku, "Magento", lambda: self.magento.write("POST", "/products", {"product": body}, once=True), self._exists
        )

    def _exists(self, sku: str) -> bool:
        try:
            self.magento.get(f"/products/{path_sku(sku)}")
        except NotFound:
            return False
        except TransientConnectorError:
            return False
        return True

    def _body(self, update: ProductUpdate, sku: str) -> dict[str, Any]:
        product = update.product
        body: dict[str, Any] = {"sku": sku, "name": product.title}
        if product.price is not None:
            body["price"] = product.price.amount
        if product.weight_grams is not None:
            body["weight"] = (Decimal(product.weight_grams) / GRAMS_PER_UNIT[self.settings.weight_unit]).quantize(
                Decimal("0.0001")
            )
        if update.attributes:
            body["custom_attributes"] = [
                {"attribute_code": code, "value": str(value)} for code, value in update.attributes.items()
            ]
        return body


def find_products(magento: MagentoClient, skus: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The store's products for these SKUs, by the SKU asked (Magento compares SKUs without case).

    A SKU holding a comma cannot be asked with `in` (Magento splits the value on commas): it is left out."""
    wanted = list(dict.fromkeys(sku.strip() for sku in skus if sku.strip() and "," not in sku))
    found: dict[str, dict[str, Any]] = {}
    for part in chunks(wanted, LOOKUP_BATCH):
        page = magento.search("/products", Search(groups=((("sku", ",".join(part), "in"),),), page_size=len(part)))
        by_folded = {str(item.get("sku") or "").casefold(): item for item in page.items}
        for sku in part:
            item = by_folded.get(sku.casefold())
            if item is not None:
                found[sku] = item
    return found
