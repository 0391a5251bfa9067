"""InnVoice's products as koppel's products (`ProductSource`), and the catalogue orders are matched on.

`GET /{reg}/product` answers every product at once (no paging, no change cursor documented), so koppel
reads the list once per pass and hands it out a page at a time from memory; the cursor is the offset.
A product's `CikkSzam` is its SKU (products without one are left out), `Nev` its title, `EAN` its
barcode. Its prices are one `Arak` per price group, in order: the account's `price_group` (1: the
first), or the link's `price_list` naming another group by its number. `Arcsoport_Brutto` says whether
the price is gross (1) or net (0); koppel's prices include VAT, so a net price is raised by the
account's `net_price_vat` (the product list names no VAT rate of its own) and rounded to the cent.
Its stock is the sum of its warehouses' `Raktar_Keszlet` (`stock.py` reports them one by one). Every
other plain field of a product is in `attributes`. The promo price ("akciós ár") is the price of the
account's `promo_price_group`, the product's `sale_price` when it is lower than its price. Its group
is the field `group_field` names (`TermekCsoport` unless set: no source names InnVoice's field), so a
link's `products.excluded_groups` keeps a group off the webshop.

Built from public facts (two apps reading this list, `FACTS-systems-2.md` §2.1), not from a spec.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from koppel.connectors.base import ProductPage
from koppel.connectors.innvoice.client import InnVoicePart, fields, value
from koppel.errors import ConfigurationError
from koppel.models import Money, Product

PAGE_SIZE = 100  # products handed out per page of the in-memory list
CENT = Decimal("0.01")
SHOWN = frozenset({"Nev", "CikkSzam", "EAN"})


@dataclass(frozen=True)
class Listed:
    """One product of InnVoice's list as koppel reads it."""

    sku: str
    title: str
    ean: str
    prices: tuple[tuple[Decimal, bool] | None, ...]  # per price group: (price, gross)
    stock: tuple[Decimal, ...]  # per warehouse, in order
    attributes: dict[str, str]


def listed(node: Element) -> Listed | None:
    sku = value(node, "CikkSzam")
    if not sku:
        return None
    prices: list[tuple[Decimal, bool] | None] = []
    for group in node.findall("Arak"):
        price = number(value(group, "Arcsoport_Ar"))
        prices.append(None if price is None else (price, value(group, "Arcsoport_Brutto") != "0"))
    stock = tuple(number(value(entry, "Raktar_Keszlet")) or Decimal(0) for entry in node.findall("Keszletek/Keszlet"))
    plain = {name: text for name, text in fields(node).items() if name not in SHOWN}
    return Listed(sku, value(node, "Nev") or sku, value(node, "EAN"), tuple(prices), stock, plain)


def number(text: str) -> Decimal | None:
    if not text:
        return None
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


class InnVoiceProducts(InnVoicePart):
    """`ProductSource`: InnVoice's product list at a price group's prices."""

    _catalogue: tuple[Listed, ...] | None = None

    def catalogue(self, *, fresh: bool = False) -> tuple[Listed, ...]:
        """Every product with an article number, read once per connector (or again when `fresh`)."""
        if self._catalogue is None or fresh:
            document = self.innvoice.get("/product")
            self._catalogue = tuple(item for node in document.findall("product") if (item := listed(node)))
        return self._catalogue

    def product_page(self, cursor: str | None, *, price_list: str = "") -> ProductPage:
        group = self._price_group(price_list)
        offset = int(cursor) if cursor and cursor.isdigit() else 0
        everything = self.catalogue(fresh=cursor is None)
        products = []
        for item in everything[offset : offset + PAGE_SIZE]:
            price = self.gross_price(item, group)
            if price_list.strip() and price is None:
                continue  # no price in the link's price group: not for this channel
            promo = self.gross_price(item, self.settings.promo_price_group) if self.settings.promo_price_group else None
            if promo is not None and price is not None and promo >= price:
                promo = None  # a "promo" at or above the price is no sale
            products.append(
                Product(
                    sku=item.sku,
                    title=item.title,
                    ean=item.ean,
                    price=self._money(price),
                    sale_price=self._money(promo),
                    quantity=math.floor(sum(item.stock, Decimal(0))),
                    group=item.attributes.get(self.settings.group_field, ""),
                    attributes=item.attributes,
                )
            )
        following = offset + PAGE_SIZE
        return ProductPage(products=tuple(products), cursor=str(following) if following < len(everything) else None)

    def _money(self, amount: Decimal | None) -> Money | None:
        return Money(amount=amount, currency=self.settings.currency) if amount is not None else None

    def gross_price(self, item: Listed, group: int) -> Decimal | None:
        found = item.prices[group - 1] if group <= len(item.prices) else None
        if found is None:
            return None
        price, gross = found
        if not gross:
            price = price * (100 + self.settings.net_price_vat) / 100
        return price.quantize(CENT, rounding=ROUND_HALF_UP)

    def _price_group(self, price_list: str) -> int:
        name = price_list.strip()
        if not name:
            return self.settings.price_group
        if not name.isdigit() or int(name) < 1:
            raise ConfigurationError(
                f"an InnVoice price list is a price group's number (1: the first), not {name!r}: set the link's "
                "products.price_list to one, or leave it empty for the account's price_group",
                field="price_list",
            )
        return int(name)
