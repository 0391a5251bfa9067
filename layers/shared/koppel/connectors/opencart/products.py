"""Products in an OpenCart shop: found by SKU, kept current (`ProductTarget`) and created (`ProductCreation`).

The extension names a product by its `product_id` only, and has no search by SKU that koppel knows
of. So the shop's products are listed once (`GET products/limit/{n}/page/{p}` until a page comes
back short) and kept as an index for `INDEX_SECONDS`: a koppel SKU matches a product's `sku`, or,
for a product without one, its `model` (OpenCart requires a model; many shops keep the SKU there),
without regard to case. The ref koppel keeps is the `product_id`.

An update is `PUT products/{id}` with the price (and the name in the account's language); a create
is `POST products` with the model and SKU set to koppel's SKU, the name, the price, quantity 0 and
the account's `new_product_status`, in the default store (0); the answer's `data.product_id` is the
new product. A create is sent once: when its answer is lost, the index is listed again and a product
found with the SKU counts as made; never a second POST. Not verified: the PUT and POST bodies the
extension takes (OpenCart's admin form also asks a meta title, which koppel sends as the name), and
whether the price is before tax (OpenCart's is, for a product with a tax class): the link's price
list must hold the prices the shop expects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from koppel.connectors.base import ProductPushResult, ProductUpdate
from koppel.connectors.opencart import routes
from koppel.connectors.opencart.client import OpenCartPart
from koppel.connectors.webshop import create_or_update, created, written
from koppel.errors import TransientConnectorError
from koppel.observability import logger

LIST_PAGE = 100
MAX_PAGES = 500  # 50,000 products: a shop larger than that is listed in part, with a warning
INDEX_SECONDS = 300.0
DEFAULT_STORE = 0


class OpenCartCatalogue(OpenCartPart):
    """The SKU → product index both targets find products with."""

    _index: dict[str, dict[str, Any]] | None = None
    _indexed_at: float = 0.0

    def products_by_sku(self, skus: Sequence[str], *, fresh: bool = False) -> dict[str, dict[str, Any]]:
        index = self._catalogue(fresh=fresh)
        return {sku: index[sku.strip().casefold()] for sku in skus if sku.strip().casefold() in index}

    def forget_catalogue(self) -> None:
        self._index = None

    def _catalogue(self, *, fresh: bool) -> dict[str, dict[str, Any]]:
        now = self.opencart.api.clock.now()
        if self._index is not None and not fresh and now - self._indexed_at < INDEX_SECONDS:
            return self._index
        by_sku: dict[str, dict[str, Any]] = {}
        by_model: dict[str, dict[str, Any]] = {}
        for page in range(1, MAX_PAGES + 1):
            data = self.opencart.get(routes.products_page(LIST_PAGE, page))
            rows = [row for row in (data.values() if isinstance(data, dict) else data or ()) if isinstance(row, dict)]
            for row in rows:
                sku, model = str(row.get("sku") or "").strip(), str(row.get("model") or "").strip()
                if sku:
                    by_sku.setdefault(sku.casefold(), row)
                elif model:
                    by_model.setdefault(model.casefold(), row)
            if len(rows) < LIST_PAGE:
                break
        else:
            logger.warning("opencart catalogue listed in part", pages=MAX_PAGES)
        self._index = by_model | by_sku  # a product's own SKU wins over another's model
        self._indexed_at = now
        return self._index


class OpenCartProducts(OpenCartCatalogue):
    """`ProductTarget` and `ProductCreation`."""

    def product_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        found = self.products_by_sku([sku for sku, _ in skus])
        return {sku: str(row["product_id"]) for sku, row in found.items() if row.get("product_id") is not None}

    def push_products(self, updates: Sequence[ProductUpdate]) -> list[ProductPushResult]:
        return [self._update(update) for update in updates]

    def create_products(self, updates: Sequence[ProductUpdate]) -> list[ProductPushResult]:
        """Create each product the shop does not have; one it has already is updated instead."""
        existing = self.products_by_sku([update.product.sku for update in updates], fresh=True)
        refs = {sku: str(found["product_id"]) for sku, found in existing.items()}
        return create_or_update(updates, refs, self._update, self._create)

    def _update(self, update: ProductUpdate) -> ProductPushResult:
        sku, ref = update.product.sku, update.channel_ref.strip()
        if not ref:
            return ProductPushResult(sku, False, "OpenCart has no product with this SKU")
        body: dict[str, Any] = {"product_description": [self._description(update)]}
        if update.product.price is not None:
            body["price"] = update.product.price.amount
        return written(
            ProductPushResult,
            sku,
            "OpenCart",
            lambda: self.opencart.write("PUT", routes.product(ref), body),
            missing="OpenCart has no product with this id (deleted since koppel looked?)",
            refused="opencart refused a product update",
        )

    def _create(self, update: ProductUpdate) -> ProductPushResult:
        product = update.product
        body: dict[str, Any] = {
            "model": product.sku[:64],
            "sku": product.sku[:64],
            "quantity": 0,
            "price": product.price.amount if product.price is not None else 0,
            "status": self.settings.new_product_status,
            "product_store": [DEFAULT_STORE],
            "product_description": [self._description(update)],
        }
        if product.ean:
            body["ean"] = product.ean[:14]
        try:
            return created(
                product.sku,
                "OpenCart",
                lambda: self.opencart.write("POST", routes.products(), body, once=True),
                self._exists,
            )
        finally:
            self.forget_catalogue()  # the next look-up lists the shop again, the new product with it

    def _exists(self, sku: str) -> bool:
        try:
            return bool(self.products_by_sku([sku], fresh=True))
        except TransientConnectorError:
            return False

    def _description(self, update: ProductUpdate) -> dict[str, Any]:
        name = update.product.title.strip()[:255] or update.product.sku
        return {"language_id": self.settings.language_id, "name": name, "meta_title": name}
