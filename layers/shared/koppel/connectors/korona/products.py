"""KORONA articles as koppel's products (`ProductSource`), read by revision.

`GET /accounts/{koronaAccountId}/products?revision=R&sort=revision` a page at a time: every article
carries a `revision`, raised by each change to it (its name, codes, prices, image), and the list
answers only the articles changed after R. koppel goes on from the highest revision of each page
(keyset paging, see `stock.py`), and the last page of a pass hands the flow a `resume` cursor,
`{UTC date}:{revision}`, so the next run reads only what changed since. The first run of a new UTC
day reads every article again: a price whose `validFrom` has come since changes no revision.

An article's number is its SKU, its first code that is a GTIN its EAN, `trackInventory` says whether
its stock is managed, its commodity group is its group and category, its first media URL its image.
Its price is the one current in a price group: the link's price list, else the account's
`price_group` (default "Shopify"). `Product.prices[]` holds one entry per price group,
organizational unit and start date (`validFrom`) or product code; koppel takes the group's price for
every unit (no organizational unit, no product code) that has started most recently.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from koppel.connectors.base import ProductPage
from koppel.connectors.korona.client import PAGE_SIZE, KoronaPart, reference_id, reference_name
from koppel.errors import ConfigurationError
from koppel.models import Money, Product

GTIN_LENGTHS = frozenset({8, 12, 13, 14})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class KoronaProductSource(KoronaPart):
    """`ProductSource`: KORONA's articles, at one price group's prices."""

    _price_groups: dict[str, str] | None = None  # id, number and name (folded) -> price group id

    def product_page(self, cursor: str | None, *, price_list: str = "") -> ProductPage:
        """Active articles with a number changed after `cursor`; with `price_list` (a price group),
        only those it prices. Without it, the account's `price_group` prices them, and an article it
        does not price comes without one."""
        named = price_list.strip()
        group = self._price_group(named, "price_list") if named else ""
        if not group and self.settings.price_group:
            group = self._price_group(self.settings.price_group, "price_group")
        now = datetime.now(UTC)
        since = revision_since(cursor, now)
        page = self.korona.page("/products", 1, revision=since or None, sort="revision")
        products = []
        for article in page.results:
            price = current_price(article, group, now) if group else None
            if named and price is None:
                continue  # not in the link's price list: not for this channel
            product = article_product(article, price, self.settings.currency)
            if product is not None:
                products.append(product)
        seen = [int(article["revision"]) for article in page.results if str(article.get("revision", "")).isdigit()]
        reached = max([since, *seen])
        if seen and len(page.results) >= PAGE_SIZE:
            return ProductPage(products=tuple(products), cursor=str(reached))
        return ProductPage(products=tuple(products), cursor=None, resume=f"{now.date().isoformat()}:{reached}")

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
            raise ConfigurationError(
                f"KORONA has no price group {wanted!r} (by id, number or name): create it in KORONA, or name "
                "the group the webshop's prices are in as the account's price_group or the link's "
                "products.price_list",
                field=field,
            )
        return found


def revision_since(cursor: str | None, now: datetime) -> int:
    """Where a read starts: a page's cursor (`R`) goes on; a pass's resume (`{date}:R`) only on its
    own UTC day; anything else (None, a cursor of another day) from the beginning."""
    day, _, revision = (cursor or "").rpartition(":")
    if not revision.isdigit() or (day and day != now.date().isoformat()):
        return 0
    return int(revision)


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
