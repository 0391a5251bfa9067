"""StoreKeeper's shop products as koppel's products (`ProductSource`), with their publication on the
sales channel the account is connected to.

Read with `ShopModule::naturalSearchShopFlatProductForHooks(query, lang, start, limit, order, filters)`,
the list both public plugins read (`FACTS-systems-2.md` §2.2), ordered by id, products of type
`simple` and `configurable_assign` only (a `configurable` is the parent of its variants and is sold
through them). The cursor is the next `start`. A product is, from its shop product:
- SKU and title: `flat_product.product.sku`, `flat_product.title` (in the account's `language`);
- price: `product_default_price.ppu_wt` (VAT included); sale price: `product_price.ppu_wt` when it is
  below the default price (StoreKeeper's current price is the discounted one);
- stock: `orderable_stock_value` (never below 0), stock-managed unless `product_stock.unlimited`;
- url: the account's `shop_url` (and `product_path`) plus `flat_product.slug`;
- published: the shop product's `active` on this shop (a StoreKeeper shop is one sales channel, and
  the API key is the shop's), or every product when the shop publishes everything by default.
Unverified: where EAN, image and category are (read as `flat_product.product.ean`,
`flat_product.main_image.big_url` and `flat_product.categories[0].title`, none seen in the fixtures);
the shop setting's name (`publish_all_products` of `ShopModule::getShopSettingsForHooks`: the account's
`publish_all` overrides it); that `product_price` is the price a buyer pays now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from koppel.connectors.base import ProductPage
from koppel.connectors.storekeeper.client import StoreKeeperPart, decimal, integer, text
from koppel.errors import ConfigurationError
from koppel.models import Money, Product

MODULE = "ShopModule"
PRODUCTS = "naturalSearchShopFlatProductForHooks"
SETTINGS = "getShopSettingsForHooks"
PUBLISH_ALL = "publish_all_products"  # the shop setting's field (unverified)
SELLABLE = {"name": "flat_product/product/type__in_list", "multi_val": ["simple", "configurable_assign"]}
CENT = Decimal("0.01")


class StoreKeeperProducts(StoreKeeperPart):
    """`ProductSource`, and the shop product reading `StoreKeeperStock` and the orders share."""

    _publish_all: bool | None = None

    def product_page(self, cursor: str | None, *, price_list: str = "") -> ProductPage:
        """StoreKeeper's default price VAT included; it has no price list koppel reads, so a link naming
        one is a set-up error rather than a price silently taken from elsewhere."""
        if price_list:
            raise ConfigurationError(
                f"StoreKeeper has no price list {price_list!r} koppel can read: leave products.price_list empty",
                field="products.price_list",
            )
        start = integer(cursor) if cursor else 0
        rows, more = self.shop_products(start, [SELLABLE])
        products = tuple(product for row in rows if (product := self.koppel_product(row)) is not None)
        return ProductPage(products, str(start + len(rows)) if more else None)

    # --- shared reading -----------------------------------------------------------------------------
    def shop_products(
        self, start: int, filters: Sequence[Mapping[str, Any]]
    ) -> tuple[tuple[dict[str, Any], ...], bool]:
        """One page of shop products from `start`, and whether more follow."""
        limit = self.settings.page_size
        found = self.storekeeper.page(MODULE, PRODUCTS, start, limit, filters, 0, self.settings.language or 0)
        return found.rows, len(found.rows) == limit and start + len(found.rows) < found.total

    def koppel_product(self, row: Mapping[str, Any]) -> Product | None:
        flat = mapping(row.get("flat_product"))
        product = mapping(flat.get("product"))
        sku = text(product.get("sku"))
        if not sku:
            return None
        price = decimal(mapping(row.get("product_default_price")).get("ppu_wt"))
        current = decimal(mapping(row.get("product_price")).get("ppu_wt"))
        if price is None:
            price = current
        currency = (
            text(mapping(row.get("product_default_price")).get("currency_iso3")).upper() or self.settings.currency
        )
        sale = current if current is not None and price is not None and current < price else None
        return Product(
            sku=sku,
            title=text(flat.get("title")) or sku,
            ean=text(product.get("ean")),
            price=money(price, currency),
            sale_price=money(sale, currency),
            stock_managed=stock_managed(row),
            quantity=orderable(row),
            image_url=text(mapping(flat.get("main_image")).get("big_url")),
            category=category_of(flat),
            url=self.url_of(flat),
            published=self.published(row),
        )

    def published(self, row: Mapping[str, Any]) -> bool:
        """Whether the shop product is offered on this sales channel."""
        return bool(row.get("active")) or self.publishes_all()

    def publishes_all(self) -> bool:
        """The account's `publish_all`, else the shop's "publish everything" setting (read once)."""
        if self.settings.publish_all is not None:
            return self.settings.publish_all
        if self._publish_all is None:
            answered = self.storekeeper.call(MODULE, SETTINGS)
            self._publish_all = bool(mapping(answered).get(PUBLISH_ALL))
        return self._publish_all

    def url_of(self, flat: Mapping[str, Any]) -> str:
        slug = text(flat.get("slug"))
        if not self.settings.shop_url or not slug:
            return ""
        parts = [self.settings.shop_url.rstrip("/"), self.settings.product_path.strip("/"), slug]
        return "/".join(part for part in parts if part)


def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def money(amount: Decimal | None, currency: str) -> Money | None:
    return None if amount is None else Money(amount=amount.quantize(CENT), currency=currency)


def stock_of_row(row: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(mapping(mapping(row.get("flat_product")).get("product")).get("product_stock"))


def stock_managed(row: Mapping[str, Any]) -> bool:
    return not stock_of_row(row).get("unlimited")


def orderable(row: Mapping[str, Any]) -> int:
    """`orderable_stock_value`, whole units, never below 0 (as both plugins read it)."""
    units = decimal(row.get("orderable_stock_value"))
    if units is None:
        units = decimal(stock_of_row(row).get("value")) or Decimal(0)
    return max(0, int(units))


def observed_at(row: Mapping[str, Any]) -> datetime:
    """When the level last changed: `product_stock.date_updated` (`2020-01-14 19:23:17+01:00`), else now."""
    value = text(stock_of_row(row).get("date_updated")) or text(row.get("date_updated"))
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T")) if value else None
    except ValueError:
        moment = None
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def category_of(flat: Mapping[str, Any]) -> str:
    categories = flat.get("categories")
    if isinstance(categories, list) and categories and isinstance(categories[0], dict):
        return text(categories[0].get("title"))
    return ""
