"""Products in a Shoprenter shop: kept current (`ProductTarget`) and read (`ProductSource`).

The shop's products are found by SKU with `GET /productExtend?sku={sku}&full=1`, as many look-ups as
needed in one `POST /batch`; the product's resource id is koppel's ref for it. An update is, per
product, `PUT /products/{id}` with the net `price` and `PUT /productDescriptions/{id}` with the name
in the account's language, all in one batch; each product's result comes from its own requests'
answers in the batch. A sale price (`sale_price`) is koppel's own special for the product, created,
changed or deleted in that same batch (see `specials`); the specials are read from the same
`productExtend` answers, so a sale price costs no extra request unless the shop lists them as links.

Shoprenter keeps prices net (`price`), koppel's are VAT included: the net price is the gross one over
(1 + the product's rate). The rate is read from the product itself (its default customer group's
`productPrices` net and gross, which the shop computes with the product's tax class); a product
without them takes the account's `vat_rate` (27, Hungary's standard rate, unless set).

A read (`ProductSource`) pages through `GET /productExtend?full=1` (from page 0); a pass that ends
hands back `resume`, from which the next pass asks `updatedAfter` (the newest change seen less the
overlap), so it reads only what changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from koppel.connectors.base import ProductPage, ProductPushResult, ProductUpdate
from koppel.connectors.shoprenter.client import (
    ShoprenterClient,
    ShoprenterPart,
    SubRequest,
    decimal,
    items_of,
    page_count,
)
from koppel.connectors.shoprenter.orders import SHOP_TIME, decoded, shop_time, text
from koppel.connectors.shoprenter.specials import listed_specials, special_writes, specials_answered, specials_read
from koppel.errors import ConfigurationError, PermanentConnectorError, RateLimited, TransientConnectorError
from koppel.models import Money, Product

NET_PLACES = Decimal("0.0001")  # Shoprenter keeps prices with four decimals
RATES = (Decimal(0), Decimal(5), Decimal(18), Decimal(27))  # Hungary's VAT rates


class ShoprenterProducts(ShoprenterPart):
    """`ProductTarget` and `ProductSource`."""

    # --- ProductTarget --------------------------------------------------------------------------
    def product_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        found = find_products(self.shoprenter, [sku for sku, _ in skus])
        return {sku: str(product["id"]) for sku, product in found.items()}

    def push_products(self, updates: Sequence[ProductUpdate]) -> list[ProductPushResult]:
        results: list[ProductPushResult | None] = [None] * len(updates)
        sendable = [index for index, update in enumerate(updates) if update.channel_ref.strip()]
        for index, update in enumerate(updates):
            if index not in sendable:
                results[index] = ProductPushResult(update.product.sku, False, "Shoprenter has no product with this SKU")
        try:
            current = self.shoprenter.batch(
                [SubRequest("GET", f"productExtend/{updates[index].channel_ref.strip()}") for index in sendable]
            )
        except (ConfigurationError, RateLimited):
            raise
        except TransientConnectorError as exc:
            return [
                result
                or ProductPushResult(update.product.sku, False, f"Shoprenter could not be reached: {exc.message}", True)
                for update, result in zip(updates, results, strict=True)
            ]
        read = {index: answer for index, answer in zip(sendable, current, strict=True)}
        specials = self._specials(updates, read, results)
        writes: list[SubRequest] = []
        owners: list[int] = []
        for index, answer in read.items():
            update = updates[index]
            if results[index] is not None:
                continue  # its specials could not be read
            if not answer.ok or not isinstance(answer.body, dict):
                gone = answer.status == 404
                results[index] = ProductPushResult(
                    update.product.sku,
                    False,
                    "Shoprenter has no product with this SKU (deleted since koppel looked?)"
                    if gone
                    else answer.error(),
                    retryable=answer.status >= 500 or answer.status == 429,
                )
                continue
            requests, problem = self._writes(update, answer.body, specials.get(index, []))
            if problem:
                results[index] = ProductPushResult(update.product.sku, False, problem)
            for request in requests:
                writes.append(request)
                owners.append(index)
            if results[index] is None and not any(owner == index for owner in owners):
                results[index] = ProductPushResult(update.product.sku, True)  # nothing to change
        if writes:
            try:
                answers = self.shoprenter.batch(writes)
            except (ConfigurationError, RateLimited):
                raise
            except TransientConnectorError as exc:
                for index in set(owners):
                    results[index] = ProductPushResult(
                        updates[index].product.sku, False, f"Shoprenter could not be reached: {exc.message}", True
                    )
                answers = []
            except PermanentConnectorError as exc:
                for index in set(owners):
                    results[index] = ProductPushResult(updates[index].product.sku, False, exc.message)
                answers = []
            refused: dict[int, list[str]] = {}
            for index, request, answer in zip(owners, writes, answers, strict=False):
                if not answer.ok and not (request.method == "DELETE" and answer.status == 404):  # 404: gone already
                    refused.setdefault(index, []).append(answer.error())
            for index in dict.fromkeys(owners):
                if results[index] is None:
                    errors = refused.get(index)
                    sku = updates[index].product.sku
                    results[index] = (
                        ProductPushResult(sku, False, "Shoprenter refused the product: " + "; ".join(errors))
                        if errors
                        else ProductPushResult(sku, True)
                    )
        return [result for result in results if result is not None]

    def _specials(
        self,
        updates: Sequence[ProductUpdate],
        read: dict[int, Any],
        results: list[ProductPushResult | None],
    ) -> dict[int, list[dict[str, Any]]]:
        """Each product's specials: as its `productExtend` answer lists them, else read in one more batch
        (a product whose specials cannot be read gets its result here, nothing written for it)."""
        found: dict[int, list[dict[str, Any]]] = {}
        unread: list[int] = []
        for index, answer in read.items():
            if not answer.ok or not isinstance(answer.body, dict):
                continue
            listed = listed_specials(answer.body)
            if listed is None:
                unread.append(index)
            else:
                found[index] = listed
        if not unread:
            return found
        try:
            answers = self.shoprenter.batch(specials_read([updates[index].channel_ref.strip() for index in unread]))
        except (ConfigurationError, RateLimited):
            raise
        except TransientConnectorError as exc:
            for index in unread:
                results[index] = ProductPushResult(
                    updates[index].product.sku, False, f"Shoprenter could not be reached: {exc.message}", True
                )
            return found
        for index, answer in zip(unread, answers, strict=True):
            if answer.ok:
                found[index] = specials_answered(answer)
            else:
                results[index] = ProductPushResult(
                    updates[index].product.sku,
                    False,
                    "Shoprenter did not list the product's sale prices: " + answer.error(),
                    retryable=answer.status >= 500 or answer.status == 429,
                )
        return found

    def _writes(
        self, update: ProductUpdate, current: dict[str, Any], specials: Sequence[dict[str, Any]]
    ) -> tuple[list[SubRequest], str]:
        """The product's requests, and what kept its sale price from being set ("" when nothing did)."""
        ref = update.channel_ref.strip()
        product = update.product
        requests: list[SubRequest] = []
        rate = self.rate_of(current)
        if product.price is not None:
            requests.append(SubRequest("PUT", f"products/{ref}", {"price": net_of(product.price.amount, rate)}))
        description = self.description_of(current)
        if product.title and description is not None and text(description.get("name")) != product.title:
            requests.append(SubRequest("PUT", f"productDescriptions/{description['id']}", {"name": product.title}))
        sale = net_of(product.sale_price.amount, rate) if product.sale_price is not None else None
        sale_requests, problem = special_writes(ref, current, specials, sale, self.settings.sale_priority)
        return requests + sale_requests, problem

    def rate_of(self, product: dict[str, Any]) -> Decimal:
        """The product's VAT %: from its default group's net and gross price, else `vat_rate`."""
        for price in product.get("productPrices") or ():
            if not isinstance(price, dict) or not (price.get("customerGroup") or {}).get("default"):
                continue
            net, gross = decimal(price.get("net")), decimal(price.get("gross"))
            if net > 0 and gross >= net:
                found = (gross / net - 1) * 100
                return min(RATES, key=lambda rate: abs(rate - found))
        return Decimal(self.settings.vat_rate)

    def description_of(self, product: dict[str, Any]) -> dict[str, Any] | None:
        """The product's description (its name) in the account's language."""
        wanted = f"language_id={self.settings.language_id}"
        listed = [entry for entry in product.get("productDescriptions") or () if isinstance(entry, dict)]
        for entry in listed:
            language = entry.get("language") or {}
            link = str(language.get("id") or language.get("href") or "") if isinstance(language, dict) else ""
            if str((language or {}).get("innerId") or "") == self.settings.language_id or decoded(link).endswith(
                wanted
            ):
                return entry if entry.get("id") else None
        return None

    # --- ProductSource --------------------------------------------------------------------------
    def product_page(self, cursor: str | None, *, price_list: str = "") -> ProductPage:
        """The default customer group's gross price; Shoprenter has no price list koppel reads, so a link
        naming one is a set-up error rather than a price silently taken from elsewhere."""
        if price_list:
            raise ConfigurationError(
                f"Shoprenter has no price list {price_list!r} koppel can read: leave products.price_list empty",
                field="products.price_list",
            )
        page, after, newest = product_cursor(cursor)
        params: dict[str, Any] = {"full": 1, "limit": self.settings.page_size, "page": page}
        if after:
            params["updatedAfter"] = after
        answered = self.shoprenter.get("productExtend", params)
        items = items_of(answered)
        zone = ZoneInfo(self.settings.time_zone)
        for item in items:
            changed = shop_time(item.get("dateUpdated"), zone)
            if changed is not None:
                stamp = changed.astimezone(zone).strftime(SHOP_TIME)
                newest = max(newest, stamp) if newest else stamp
        products = tuple(product for item in items if (product := self.koppel_product(item)) is not None)
        if page + 1 < page_count(answered) and items:
            return ProductPage(products, f"{page + 1}|{after}|{newest}")
        return ProductPage(products, None, resume=self._resume(after, newest))

    def _resume(self, after: str, newest: str) -> str:
        zone = ZoneInfo(self.settings.time_zone)
        moment = shop_time(newest, zone) if newest else None
        if moment is None:
            return f"0|{after}|"
        start = (moment - timedelta(seconds=self.settings.overlap_seconds)).astimezone(zone).strftime(SHOP_TIME)
        return f"0|{start}|"

    def koppel_product(self, item: dict[str, Any]) -> Product | None:
        sku = text(item.get("sku"))
        if not sku:
            return None
        description = self.description_of(item)
        title = text((description or {}).get("name")) or sku
        price, currency = self.gross_of(item)
        return Product(
            sku=sku,
            title=title,
            ean=text(item.get("gtin")),
            price=Money(amount=price, currency=currency) if price is not None else None,
            quantity=max(0, int(decimal(item.get(self.settings.stock_field)))),
        )

    def gross_of(self, item: dict[str, Any]) -> tuple[Decimal | None, str]:
        for price in item.get("productPrices") or ():
            if isinstance(price, dict) and (price.get("customerGroup") or {}).get("default"):
                currency = text(price.get("currencyCode")).upper() or self.settings.currency
                return decimal(price.get("gross")), currency
        if item.get("price") in (None, "", {}):
            return None, self.settings.currency
        gross = decimal(item.get("price")) * (1 + Decimal(self.settings.vat_rate) / 100)
        return gross.quantize(Decimal("0.01"), ROUND_HALF_UP), self.settings.currency


def net_of(gross: Decimal, rate: Decimal) -> Decimal:
    """A VAT-included amount as Shoprenter keeps it: net, to four places."""
    return (gross / (1 + rate / 100)).quantize(NET_PLACES, ROUND_HALF_UP)


def product_cursor(cursor: str | None) -> tuple[int, str, str]:
    page, _, rest = (cursor or "").partition("|")
    after, _, newest = rest.partition("|")
    return (int(page) if page.isdigit() else 0), after, newest


def find_products(shoprenter: ShoprenterClient, skus: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The shop's products for these SKUs (compared exactly), by the SKU asked, in one or more batches."""
    wanted = list(dict.fromkeys(sku.strip() for sku in skus if sku.strip()))
    if not wanted:
        return {}
    answers = shoprenter.batch([SubRequest("GET", f"productExtend?{query_of(sku)}") for sku in wanted])
    found: dict[str, dict[str, Any]] = {}
    for sku, answer in zip(wanted, answers, strict=True):
        if not answer.ok or not isinstance(answer.body, dict):
            continue
        for item in items_of(answer.body):
            if text(item.get("sku")) == sku and item.get("id"):
                found[sku] = item
                break
    return found


def query_of(sku: str) -> str:
    return urlencode({"sku": sku, "full": 1})
