"""SnelStart's articles as koppel's products (`ProductSource`).

`GET /artikelen` a batch of up to 100 at a time (`articles.py`). An article's `artikelcode` is its
SKU, `omschrijving` its title, `verkoopprijs` its price (euro, as the merchant entered it in
SnelStart: SnelStart keeps one sales price per article), `voorraadControle` whether its stock is
managed and its technical stock its quantity. Its omzetgroep (`GET /artikelomzetgroepen`) is its
category and group. Every other plain field and each extra field (`extraVelden`, by its name) is
in `attributes`, for links that map them onto a channel's attributes; the EAN is the extra field the
account's `barcode_field` names. Inactive articles (`isNonActief`) are left out.

Price lists: SnelStart's action prices (`GET /actieprijzen`, scope `settings:read`). A link's
`price_list` names an action by its description; only its articles come, at its price for one unit,
while the action is active (`status` Actief). A price given as a discount is taken off the
article's sales price. Customer price agreements (`/prijsafspraken`) are per customer and not
a list koppel can name.

A pass reads the articles changed since the previous one: its last page hands the flow a `resume`
cursor, the moment the next pass reads from (`modifiedOn ge`), no later than when this one began.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from koppel.connectors.base import ProductPage
from koppel.connectors.snelstart.articles import CLOCK_MARGIN, read_articles
from koppel.connectors.snelstart.client import SnelStartPart, odata_moment, parse_moment
from koppel.errors import ConfigurationError
from koppel.models import Money, Product

CURRENCY = "EUR"  # SnelStart administrations book in euro
SHOWN = frozenset({"artikelcode", "omschrijving", "verkoopprijs", "extraVelden", "subartikelen"})


class SnelStartProducts(SnelStartPart):
    """`ProductSource`: SnelStart's articles at their sales price, or at an action's price."""

    _groups: dict[str, str] | None = None

    def product_page(self, cursor: str | None, *, price_list: str = "") -> ProductPage:
        since, skip, began = pass_position(cursor)
        prices = self._action_prices(price_list.strip()) if price_list.strip() else None
        filter_ = f"modifiedOn ge {odata_moment(since)}" if since else ""
        batch = read_articles(self.snelstart, skip=skip, filter=filter_)
        if began is None:
            began = (batch.answered_at or datetime.now(UTC)) - CLOCK_MARGIN
        products = []
        for article in batch.rows:
            code = str(article.get("artikelcode") or "").strip()
            if prices is not None and code not in prices:
                continue  # not in the link's price list: not for this channel
            product = self.article_product(article, prices.get(code) if prices is not None else None)
            if product is not None:
                products.append(product)
        if not batch.exhausted:
            following = f"page|{odata_moment(since) if since else ''}|{skip + len(batch.rows)}|{odata_moment(began)}"
            return ProductPage(products=tuple(products), cursor=following)
        seen = [moment for article in batch.rows if (moment := parse_moment(article.get("modifiedOn")))]
        newest = max(seen, default=since)
        start = min(newest, began) if newest is not None else began
        if since is not None:
            start = max(start, since)
        return ProductPage(products=tuple(products), cursor=None, resume=f"since|{odata_moment(start)}")

    def article_product(self, article: dict[str, Any], price: Decimal | None = None) -> Product | None:
        code = str(article.get("artikelcode") or "").strip()
        if not code or article.get("isNonActief"):
            return None
        extra = {
            str(entry.get("naam") or ""): str(entry.get("waarde") or "")
            for entry in article.get("extraVelden") or ()
            if isinstance(entry, dict) and entry.get("naam")
        }
        attributes = {key: text(value) for key, value in article.items() if key not in SHOWN and is_scalar(value)}
        attributes |= extra
        group = self._group_name((article.get("artikelOmzetgroep") or {}).get("id"))
        amount = price if price is not None else article.get("verkoopprijs")
        barcode = self.settings.barcode_field.strip()
        technical = article.get("technischeVoorraad")
        return Product(
            sku=code,
            title=str(article.get("omschrijving") or "").strip() or code,
            ean=next((value for name, value in extra.items() if name.casefold() == barcode.casefold()), "")
            if barcode
            else "",
            price=Money(amount=Decimal(str(amount)), currency=CURRENCY) if amount is not None else None,
            stock_managed=bool(article.get("voorraadControle")),
            quantity=math.floor(Decimal(str(technical))) if technical is not None else 0,
            category=group,
            group=group,
            attributes=attributes,
        )

    def _group_name(self, group_id: object) -> str:
        if not group_id:
            return ""
        if self._groups is None:
            response = self.snelstart.get("/artikelomzetgroepen")
            body = response.json()
            self._groups = {
                str(group.get("id")): str(group.get("omschrijving") or "").strip()
                for group in body
                if isinstance(group, dict)
            }
        return self._groups.get(str(group_id), "")

    def _action_prices(self, name: str) -> dict[str, Decimal]:
        """artikelcode -> the price for one unit in the active action described `name`."""
        actions = [
            action
            for action in self.snelstart.every("/actieprijzen")
            if str(action.get("omschrijving") or "").strip().casefold() == name.casefold()
        ]
        active = [action for action in actions if action.get("status") == "Actief"]
        if not active:
            state = "is not active" if actions else "does not exist"
            raise ConfigurationError(
                f"the SnelStart action price {name!r} {state}: name an active action (Actieprijzen in SnelStart) "
                "as the link's products.price_list, or leave it empty for the articles' sales price",
                field="price_list",
            )
        prices: dict[str, Decimal] = {}
        for action in active:
            for entry in action.get("artikelPrijzen") or ():
                found = unit_price(entry)
                if found is not None and entry.get("artikelcode"):
                    prices.setdefault(str(entry["artikelcode"]).strip(), found)
        return prices


def unit_price(entry: dict[str, Any]) -> Decimal | None:
    """The action's price for one unit: its sales price, or its base price less its discount."""
    tiers = sorted(
        (tier for tier in entry.get("prijzen") or () if isinstance(tier, dict)),
        key=lambda tier: Decimal(str(tier.get("vanaf") or 0)),
    )
    for tier in tiers:
        if Decimal(str(tier.get("vanaf") or 0)) > 1:
            break
        if tier.get("verkoopprijs") is not None:
            return Decimal(str(tier["verkoopprijs"]))
        if tier.get("basisprijs") is not None and tier.get("korting") is not None:
            base, off = Decimal(str(tier["basisprijs"])), Decimal(str(tier["korting"]))
            return (base * (100 - off) / 100).quantize(Decimal("0.01"))
    return None


def pass_position(cursor: str | None) -> tuple[datetime | None, int, datetime | None]:
    """(read from, offset, when the pass began) of a cursor: `page|…` goes on with a pass, `since|…`
    (a resume) starts one from that moment; anything else reads everything."""
    kind, _, rest = (cursor or "").partition("|")
    if kind == "since":
        return parse_moment(rest), 0, None
    if kind == "page":
        since, skip, began = [*rest.split("|"), "", "", ""][:3]
        return parse_moment(since), int(skip) if skip.isdigit() else 0, parse_moment(began)
    return None, 0, None


def is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | Decimal | bool)


def text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    return str(value)
