"""KORONA articles as koppel's products (`ProductSource`).

`GET /accounts/{koronaAccountId}/products` a page at a time. An article's number is its SKU, its
first code that is a GTIN its EAN, `trackInventory` says whether its stock is managed, its commodity
group is its group and category. Its price is the one current in a price group (the link's price
list, else the account's `price_group`): `Product.prices[]` holds one entry per price group,
organizational unit and start date (`validFrom`) or product code. koppel takes the group's price for
every unit (no organizational unit, no product code) that has started most recently.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from koppel.connectors.base import ProductPage
from koppel.connectors.korona.client import KoronaPart, reference_id, reference_name
from koppel.errors import ConfigurationError
from koppel.models import Money, Product

GTIN_LENGTHS = frozenset({8, 12, 13, 14})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class KoronaProductSource(KoronaPart):
    """`ProductSource`: KORONA's articles, at one price group's prices."""

    _price_groups: dict[str, str] | None = None  # id, number and name (folded) -> price group id

    def product_page(self, cursor: str | None, *, price_list: str = "") -> ProductPage:
        """Active articles with a number; with `price_list` (a price group), only those it prices.

        Without `price_list` the account's `price_group` prices them; an article it does not price
        comes without a price. No group at all: no prices (koppel does not guess one).
        """
        named = price_list.strip()
        group = self._price_group(named, "price_list") if named else ""
        if not group and self.settings.price_group:
            group = self._price_group(self.settings.price_group, "price_group")
        page = self.korona.page("/products", int(cursor or 1))
        now = datetime.now(UTC)
        products = []
        for article in page.results:
            price = current_price(article, group, now) if group else None
            if named and price is None:
                continue  # not in the link's price list: not for this channel
            product = article_product(article, price, self.settings.currency)
            if product is not None:
                products.append(product)
        following = page.next_page
        return ProductPage(products=tuple(products), cursor=str(following) if following else None)

    def _price_group(self, wanted: str, field: str) -> str:
        """The id of the price group named by id, number or name."""
        if self._price_groups is None:
            known: dict[str, str] = {}
            for group in self.korona.every("/priceGroups"):
                group_id = str(group.get("id") or "")
                for key in (group_id, group.get("number"), group.get("name")):
                    if key:
                        known.setdefault(str(key).strip().casefold(), group_id)
            self._price_groups = known
        found = self._price_groups.get(wanted.strip().casefold())
        if not found:
            raise ConfigurationError(f"KORONA has no price group {wanted!r} (by id, number or name)", field=field)
        return found


def current_price(article: dict[str, Any], group: str, now: datetime) -> Decimal | None:
    """The group's price for every unit and organizational unit that started last, not in the future."""
    best: tuple[datetime, Decimal] | None = None
    for price in article.get("prices") or ():
        if reference_id(price.get("priceGroup")) != group or price.get("value") is None:
            continue
        if price.get("productCode") or reference_id(price.get("organizationalUnit")):
            continue  # a price for one container size or one store, not the article's
        start = parse_time(price.get("validFrom")) or EPOCH
        if start > now:
            continue
        if best is None or start >= best[0]:
            best = (start, Decimal(str(price["value"])))
    return best[1] if best else None


def article_product(article: dict[str, Any], price: Decimal | None, currency: str) -> Product | None:
    """An article as koppel's Product; None for a deactivated one or one without a number."""
    number = str(article.get("number") or "").strip()
    if not number or article.get("deactivated") or article.get("active") is False:
        return None
    group = reference_name(article.get("commodityGroup"))
    media = [str(entry.get("url") or "") for entry in article.get("mediaUrls") or () if isinstance(entry, dict)]
    return Product(
        sku=number,
        title=str(article.get("name") or "").strip() or number,
        ean=gtin(article.get("codes") or ()),
        price=Money(amount=price, currency=currency) if price is not None else None,
        stock_managed=article.get("trackInventory") is not False,
        image_url=next((url for url in media if url), ""),
        category=group,
        group=group,
    )


def gtin(codes: Any) -> str:
    """The first of an article's codes that is a GTIN (EAN-8/13, UPC-12, GTIN-14); "" when none is."""
    for code in codes:
        text = str((code or {}).get("productCode") or "").strip() if isinstance(code, dict) else ""
        if text.isdigit() and len(text) in GTIN_LENGTHS:
            return text
    return ""


def parse_time(value: object) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
