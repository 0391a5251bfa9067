"""Products in a PrestaShop shop: kept current (`ProductTarget`) and created (`ProductCreation`).

A product is matched by its `reference` (koppel's SKU), else by its `ean13`
(`GET /api/products?filter[reference]=[A|B|...]&display=full`); koppel's ref for it is the product id.
An update reads the whole product (`GET /api/products/{id}`), sets the name (in the account's `id_lang`,
the other languages kept), the price and the weight, drops the fields the webservice refuses on a write
(`manufacturer_name`, `quantity`: the page marks them not writable; `position_in_category`, which a PUT
takes as a move in the category), and sends the rest back as it was read (`PUT /api/products/{id}`): a PUT
replaces the whole resource, so nothing is left out.

Prices: PrestaShop keeps a product's `price` without tax and adds the rate of its tax rules group; koppel's
price includes VAT. The rate is read from the group's tax rule (`tax_rules?filter[id_tax_rules_group]`,
then `taxes/{id}`), once per group per connector; when it cannot be read (no rule, no right on the
resource), the account's `vat_rate` is used. The price sent has six decimals, as PrestaShop stores it,
so the shop shows koppel's price to the cent.

A create is the blank product filled (reference, EAN, name and `link_rewrite` in `id_lang`, price, weight,
the account's tax rules group and category, active) and sent once (`POST /api/products`). PrestaShop does
not keep references unique, so a second POST would make a second product: when the answer is lost the
reference is looked up, and a product found there counts as made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from xml.etree.ElementTree import Element, SubElement

from koppel.connectors.base import ProductPushResult, ProductUpdate
from koppel.connectors.prestashop.client import PrestaShopPart, field_text, set_field
from koppel.connectors.webshop import create_or_update, created, written
from koppel.errors import ConfigurationError, NotFound, PermanentConnectorError, TransientConnectorError
from koppel.observability import logger

NOT_WRITTEN = ("manufacturer_name", "quantity", "position_in_category")
NOT_IN_A_NAME = re.compile(r"[<>;=#{}]")  # what PrestaShop's isCatalogName refuses
PRICE_PLACES = Decimal("0.000001")
GRAMS_PER_KG = Decimal(1000)


class PrestaShopProducts(PrestaShopPart):
    """`ProductTarget` and `ProductCreation`."""

    _rates: dict[str, Decimal]

    def product_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        """(sku, ean) → the product id, by reference (without regard to case), else by EAN-13."""
        return {sku: field_text(found, "id") for sku, found in self.products_for(skus).items()}

    def products_for(self, skus: Sequence[tuple[str, str]]) -> dict[str, Element]:
        by_reference: dict[str, Element] = {}
        for record in self.shop.find("products", "reference", [sku for sku, _ in skus]):
            by_reference.setdefault(field_text(record, "reference").casefold(), record)
        found = {sku: by_reference[sku.casefold()] for sku, _ in skus if sku.casefold() in by_reference}
        eans = [ean for sku, ean in skus if sku not in found and ean]
        if eans:
            by_ean = {field_text(r, "ean13"): r for r in self.shop.find("products", "ean13", eans)}
            found |= {sku: by_ean[ean] for sku, ean in skus if sku not in found and ean in by_ean}
        return found

    def push_products(self, updates: Sequence[ProductUpdate]) -> list[ProductPushResult]:
        return [self._update(update) for update in updates]

    def create_products(self, updates: Sequence[ProductUpdate]) -> list[ProductPushResult]:
        """Create each product the shop does not have; one it has already is updated instead."""
        existing = self.product_refs([(u.product.sku, u.product.ean or "") for u in updates])
        return create_or_update(updates, existing, self._update, self._create)

    def _update(self, update: ProductUpdate) -> ProductPushResult:
        sku = update.product.sku
        refused = self._unsendable(update)
        if refused:
            return ProductPushResult(sku, False, refused)

        def send() -> None:
            record = self.shop.one("products", update.channel_ref)
            for field in NOT_WRITTEN:
                for node in record.findall(field):
                    record.remove(node)
            self._fill(record, update)
            self.shop.update("products", update.channel_ref, record)

        return written(
            ProductPushResult,
            sku,
            "PrestaShop",
            send,
            missing="PrestaShop has no product with this id (deleted since koppel looked?)",
            refused="prestashop refused a product update",
        )

    def _create(self, update: ProductUpdate) -> ProductPushResult:
        sku = update.product.sku
        refused = self._unsendable(update)
        if refused:
            return ProductPushResult(sku, False, refused)
        record = Element("product")
        for field, value in (
            ("id_category_default", str(self.settings.category_id)),
            ("id_tax_rules_group", str(self.settings.tax_rules_group_id)),
            ("type", "simple"),
            ("reference", sku),
            ("ean13", update.product.ean or ""),
            ("state", "1"),
            ("minimal_quantity", "1"),
            ("price", "0"),
            ("active", "1"),
            ("available_for_order", "1"),
            ("show_price", "1"),
            ("visibility", "both"),
        ):
            SubElement(record, field).text = value
        set_field(record, "link_rewrite", slug(update.product.title or sku), self.settings.id_lang)
        self._fill(record, update)
        categories = SubElement(SubElement(record, "associations"), "categories")
        SubElement(SubElement(categories, "category"), "id").text = str(self.settings.category_id)
        return created(sku, "PrestaShop", lambda: self.shop.create("products", record), self._exists)

    def _exists(self, sku: str) -> bool:
        try:
            return bool(self.shop.find("products", "reference", [sku]))
        except TransientConnectorError:
            return False

    @staticmethod
    def _unsendable(update: ProductUpdate) -> str:
        if NOT_IN_A_NAME.search(update.product.title or ""):
            return "PrestaShop takes no <>;=#{} in a product name; change the title in the backoffice"
        return ""

    def _fill(self, record: Element, update: ProductUpdate) -> None:
        product = update.product
        if product.title:
            set_field(record, "name", product.title[:128], self.settings.id_lang)
        if product.price is not None:
            rate = self._rate(field_text(record, "id_tax_rules_group"))
            excl = (product.price.amount / (1 + rate / 100)).quantize(PRICE_PLACES, ROUND_HALF_UP)
            set_field(record, "price", f"{excl:f}")
        if product.weight_grams is not None:
            set_field(record, "weight", f"{(Decimal(product.weight_grams) / GRAMS_PER_KG):f}")
        if product.ean and not field_text(record, "ean13") and re.fullmatch(r"\d{8,13}", product.ean):
            set_field(record, "ean13", product.ean)

    def _rate(self, group: str) -> Decimal:
        """The VAT percentage of a tax rules group (0: no tax); the account's `vat_rate` when unreadable."""
        cache = self.__dict__.setdefault("_rates", {})
        if group in ("", "0"):
            return Decimal(0) if group == "0" else self.settings.vat_rate
        if group not in cache:
            cache[group] = self.settings.vat_rate
            try:
                for rule in self.shop.find("tax_rules", "id_tax_rules_group", [group]):
                    tax = field_text(rule, "id_tax")
                    if tax and tax != "0":
                        cache[group] = Decimal(field_text(self.shop.one("taxes", tax), "rate") or "0")
                        break
            except (NotFound, ConfigurationError, PermanentConnectorError, ArithmeticError):
                logger.warning("prestashop tax rate not readable; the account's vat_rate is used", group=group)
        return cache[group]


def slug(name: str) -> str:
    """A `link_rewrite` (isLinkRewrite: letters, digits, `-` and `_`)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:128] or "product"
