"""Webshop orders into KORONA as receipts (`OrderSink`), returns and cancellations as receipts that
put the units back (`ReturnSink`).

A receipt is booked at an *external* point of sale (`POST /pointsOfSale/{id}/receipts?couplingId=`,
a batch answered with one `AddOrUpdateResult` each); booking it moves the stock of the point of
sale's organizational unit, so KORONA's stock drops without a separate stock call.

- The channel's order id is the receipt's `orderNumber`; `externalReferences` carry the channel,
  the order id, its name (#1001) and, on a return, the return's key. `find_order`/`find_return`
  look receipts up by `GET /receipts?orderNumber=` and tell them apart by those references.
- A line is an article (`product.id`) with its quantity and `total`: `base` is the line after its
  discount with its VAT included, `discount` what came off, `gross` = `base` (every tax included),
  `net` without VAT, one `taxPayments` entry of the line's rate. The spec does not say whether
  `taxRate` is a percentage or a fraction; koppel sends the percentage (21) and KORONA's own sector
  of the article decides the tax it books (not verified against the real API).
- Shipping is one line of the account's `shipping_article`, at the highest VAT rate of the order.
- The payment is the order's total in one payment of the link's payment method for the gateway.
- A receipt goes out once: an answer lost (5xx, a timeout) means KORONA may have booked it, so the
  flow looks it up before it sends again. 429 means KORONA did nothing: a parallel-update refusal
  is waited out and asked again; the daily limit stops until the next day (`DailyLimitReached`).
- KORONA's receipts carry no webshop customer: `create_customer` has nothing to create here.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from koppel.connectors.base import BackofficeOrder, Variant
from koppel.connectors.korona.client import KoronaPart
from koppel.connectors.korona.products import gtin
from koppel.errors import NeedsAttention, PermanentConnectorError
from koppel.models import Order, OrderLine

CHANNEL = "koppel.channel"
ORDER = "koppel.order"
NAME = "koppel.name"
RETURN = "koppel.return"
LINE = "koppel.line"
CENT = Decimal("0.01")


class KoronaReceipts(KoronaPart):
    """`OrderSink` and `ReturnSink`: receipts at the webshop's point of sale."""

    coupling_id: str = ""
    _shipping: Variant | None = None

    # --- OrderSink --------------------------------------------------------------------------------
    def find_variant(self, sku: str, ean: str = "") -> Variant | None:
        """The active article numbered `sku`, else the one with `ean` among its codes."""
        if sku:
            for article in self.korona.page("/products", 1, number=sku).results:
                if _sellable(article) and str(article.get("number") or "") == sku:
                    return _variant(article)
        if ean:
            for article in self.korona.page("/products", 1, productCodes=ean).results:
                codes = {str((code or {}).get("productCode") or "") for code in article.get("codes") or ()}
                if _sellable(article) and ean in codes:
                    return _variant(article)
        return None

    def find_order(self, channel: str, channel_order_id: str) -> BackofficeOrder | None:
        receipt = self._receipt(channel, channel_order_id, return_id="")
        return _booked(receipt) if receipt is not None else None

    def create_order(self, order: Order, *, tag: str, create_customer: bool = True) -> BackofficeOrder:
        receipt = self._receipt_for(order, sign=1, return_id="")
        return self._book(order, receipt)

    # --- ReturnSink -------------------------------------------------------------------------------
    def find_return(self, channel: str, channel_order_id: str, return_id: str) -> BackofficeOrder | None:
        receipt = self._receipt(channel, channel_order_id, return_id=return_id)
        return _booked(receipt) if receipt is not None else None

    def book_return(self, booked: BackofficeOrder, returned: Order, *, return_id: str, whole: bool) -> BackofficeOrder:
        receipt = self._receipt_for(returned, sign=-1, return_id=return_id)
        if whole:
            receipt["reversal"] = True
            receipt["reversedReceipt"] = {"id": booked.backoffice_order_id}
        return self._book(returned, receipt)

    # --- receipts ---------------------------------------------------------------------------------
    def _receipt(self, channel: str, channel_order_id: str, *, return_id: str) -> dict[str, Any] | None:
        for receipt in self.korona.every("/receipts", orderNumber=channel_order_id):
            refs = receipt.get("externalReferences") or {}
            if receipt.get("voided") or receipt.get("cancelled"):
                continue
            if (
                refs.get(CHANNEL) == channel
                and refs.get(ORDER) == channel_order_id
                and refs.get(RETURN, "") == return_id
            ):
                return receipt
        return None

    def _receipt_for(self, order: Order, *, sign: int, return_id: str) -> dict[str, Any]:
        if order.currency != self.settings.currency:
            raise NeedsAttention(
                f"the order is in {order.currency}, the KORONA account books {self.settings.currency}: "
                "book it by hand or set the account's currency"
            )
        method = order.backoffice_payment_method or self.settings.payment_method
        if not method:
            raise NeedsAttention(
                f"no KORONA payment method for {order.payment_method or 'this order'}: set the link's "
                "orders.payment_methods or default_payment_method, or the account's payment_method"
            )
        items = [_item(line, sign) for line in order.lines]
        shipping = order.shipping_cost.amount if order.shipping_cost is not None else Decimal(0)
        if shipping > 0:
            rate = max((line.vat_rate or Decimal(0) for line in order.lines), default=Decimal(0))
            items.append(_shipping_item(self._shipping_article(), shipping, rate, sign))
        total = sum((Decimal(str(item["total"]["gross"])) for item in items), Decimal(0))
        moment = order.placed_at.astimezone(UTC).isoformat(timespec="seconds") if sign > 0 else _now()
        refs = {CHANNEL: order.channel, ORDER: order.channel_order_id}
        if order.name:
            refs[NAME] = order.name
        if return_id:
            refs[RETURN] = return_id
        return {
            "orderNumber": order.channel_order_id,
            "bookingTime": moment,
            "creationTime": moment,
            "externalReferences": refs,
            "items": items,
            "payments": [{"amount": total, "paymentMethod": {"number": method}}],
        }

    def _book(self, order: Order, receipt: dict[str, Any]) -> BackofficeOrder:
        pos = order.book_at or self.settings.point_of_sale
        if not pos:
            raise NeedsAttention(
                "no KORONA point of sale to book webshop orders at: set the account's point_of_sale "
                "or the link's orders.point_of_sale"
            )
        if not self.coupling_id:
            raise NeedsAttention("the KORONA account's secret has no coupling_id for its point of sale")
        with _writes(self.settings.account_id):  # KORONA refuses parallel updates of one account
            response = self.korona.write(
                "POST",
                f"/pointsOfSale/{pos}/receipts",
                params={"couplingId": self.coupling_id},
                body=[receipt],
            )
        results = response.json(parse_float=Decimal)
        result = results[0] if isinstance(results, list) and results else {}
        if not isinstance(result, dict) or result.get("status") != "OK" or not result.get("id"):
            message = str(result.get("message") or "no result") if isinstance(result, dict) else "no result"
            raise PermanentConnectorError(f"korona refused the receipt for order {order.channel_order_id}: {message}")
        return BackofficeOrder(backoffice_order_id=str(result["id"]), name=str(result.get("number") or ""))

    def _shipping_article(self) -> Variant:
        if self._shipping is None:
            number = self.settings.shipping_article
            found = self.find_variant(number) if number else None
            if found is None:
                raise NeedsAttention(
                    "the order has shipping costs and the KORONA account has no shipping article"
                    + (f" (no article {number!r})" if number else ": set shipping_article to an article number")
                )
            self._shipping = found
        return self._shipping


def _item(line: OrderLine, sign: int) -> dict[str, Any]:
    gross = line.total.amount
    discount = line.discount.amount if line.discount is not None else Decimal(0)
    item = _priced(line.backoffice_variant_id, line.quantity, gross, discount, line.vat_rate or Decimal(0), sign)
    item["description"] = line.title[:100]
    item["externalReferences"] = {LINE: line.line_id}
    return item


def _shipping_item(article: Variant, amount: Decimal, rate: Decimal, sign: int) -> dict[str, Any]:
    item = _priced(article.variant_id, 1, amount, Decimal(0), rate, sign)
    item["description"] = "Shipping"
    return item


def _priced(
    product_id: str, quantity: int, gross: Decimal, discount: Decimal, rate: Decimal, sign: int
) -> dict[str, Any]:
    tax = (gross * rate / (100 + rate)).quantize(CENT) if rate else Decimal(0)
    return {
        "product": {"id": product_id},
        "quantity": sign * quantity,
        "type": "PRODUCT",
        "total": {
            "base": sign * gross,
            "discount": sign * discount,
            "gross": sign * gross,
            "net": sign * (gross - tax),
            "taxPayments": [{"amount": sign * tax, "taxRate": rate, "included": True}],
        },
    }


def _sellable(article: dict[str, Any]) -> bool:
    return not article.get("deactivated") and article.get("active") is not False and bool(article.get("id"))


def _variant(article: dict[str, Any]) -> Variant:
    return Variant(
        variant_id=str(article["id"]), sku=str(article.get("number") or ""), barcode=gtin(article.get("codes") or ())
    )


def _booked(receipt: dict[str, Any]) -> BackofficeOrder:
    return BackofficeOrder(backoffice_order_id=str(receipt.get("id") or ""), name=str(receipt.get("number") or ""))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# One write at a time per KORONA account in this process: KORONA answers 429
# TOO_MANY_PARALLEL_UPDATE_REQUESTS to parallel writes. Writers in other Lambda containers are not
# held back by this; their refusals are waited out and asked again (`KoronaClient.write`).
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _writes(account: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(account, threading.Lock())
