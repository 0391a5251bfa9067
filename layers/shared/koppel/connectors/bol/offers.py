"""Stock and prices to bol.com offers (`StockTarget`, `ProductTarget`).

Stock goes to offers (`PUT /retailer/offers/{offer-id}/stock`), asynchronous as well: `push_stock`
sends a whole batch first, then polls the pending processes within one budget for the batch.
`channel_refs` finds the offers in the offers export (`koppel.connectors.bol.export`).

Products are offers too, as far as a retailer can change them: `push_products` sets an offer's
price (`PUT /retailer/offers/{offer-id}/price`), sent and settled like stock. Title, description
and images are bol's catalogue content, changed through bol's content API, which koppel does not
use; `product_refs` is `channel_refs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar
from urllib.parse import quote

from koppel.connectors.base import ProductPushResult, ProductUpdate, StockPushResult, StockUpdate
from koppel.connectors.bol.export import BolOfferExport, match_offers
from koppel.connectors.bol.processes import ProcessResult, process_result
from koppel.connectors.http import HttpStatusError
from koppel.errors import AuthenticationFailed, RateLimited, TransientConnectorError
from koppel.models import ProcessState, Product
from koppel.observability import logger

MAX_STOCK_BATCH = 100  # the updates a flow hands over per push call
MAX_STOCK_AMOUNT = 999  # UpdateOfferStockRequest.amount maximum
NOT_CONFIRMED = "bol has not confirmed the stock update yet"
PRICE_NOT_CONFIRMED = "bol has not confirmed the price update yet"
# BundlePrice.unitPrice in retailer.json: incl. VAT, in euros, 1..9999.
BOL_CURRENCY = "EUR"
MIN_UNIT_PRICE = Decimal("1.00")
MAX_UNIT_PRICE = Decimal("9999.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class _OfferChange:
    """One kind of asynchronous offer update: where it is sent and how its outcome reads."""

    path: str  # under /retailer/offers/{offer-id}/
    noun: str  # in an operator's words: "stock update"
    not_confirmed: str  # the error of one bol has not settled within the batch's budget


_STOCK_CHANGE = _OfferChange("stock", "stock update", NOT_CONFIRMED)
_PRICE_CHANGE = _OfferChange("price", "price update", PRICE_NOT_CONFIRMED)


@dataclass(frozen=True)
class _OfferRequest:
    """One offer update to send: its body, or why there is none to send."""

    sku: str
    offer_id: str
    body: Mapping[str, Any] | None = None
    refusal: str = ""


# Stock and product results have the same fields; a batch push makes one kind or the other.
_Result = TypeVar("_Result", StockPushResult, ProductPushResult)


class BolOffers(BolOfferExport):
    """`StockTarget` and `ProductTarget` (prices only): updates to the account's offers."""

    max_batch: int = MAX_STOCK_BATCH  # updates per push call

    # --- StockTarget ----------------------------------------------------------------------------
    def push_stock(self, updates: Sequence[StockUpdate]) -> list[StockPushResult]:
        """Set each offer's stock (`channel_ref` is bol's offer id), clamped to
        0..999 and managed by the retailer; one result per update, in order.

        Every request is sent first; the processes still PENDING are then polled together within
        one budget for the batch, in bulk (one status request per round for the whole batch). One
        that bol has not settled by then is not called accepted: it comes back retryable, as does
        an update whose request HttpApi gave up on. An offer bol does not know is refused, naming
        the offer id. Wrong credentials stop the batch (they would fail every update the same way).
        """
        requests = [_OfferRequest(update.sku, update.channel_ref, stock_request(update.quantity)) for update in updates]
        return self._push_offers(_STOCK_CHANGE, requests, StockPushResult)

    def channel_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        """(sku, ean) pairs → bol offer id, for the SKUs bol has an offer for.

        An offer is found by its reference equal to the SKU first, then by EAN. bol v10 looks
        offers up by id only, so this reads the offers export, once per connector: the export
        takes bol minutes and is rate limited. An export not ready within the connector's budget
        raises `TransientConnectorError`; the next call picks up the same export.
        """
        return match_offers(self.offer_export(), skus)

    # --- ProductTarget --------------------------------------------------------------------------
    def product_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        """The same offer ids as `channel_refs` (reference, then EAN), from the
        same offers export: on bol a retailer's product is its offer."""
        return self.channel_refs(skus)

    def push_products(self, updates: Sequence[ProductUpdate]) -> list[ProductPushResult]:
        """Set each offer's price (`channel_ref` is bol's offer id) to what the
        buyer pays, the sale price when it is lower than the price; one result per update, in order.

        Only the price is the retailer's to set: title, description and images belong to bol's
        catalogue and change through bol's content API, which koppel does not use, so they (and
        `image_changed`) are left alone here. A product without a price, in another currency than
        EUR, or outside bol's 1.00..9999.00 is refused without asking bol. The price goes as one
        bundle price for a single unit, rounded half up to the cent; a bol offer's other bundle
        prices (quantity discounts) are replaced by it.

        Sending and settling are as `push_stock`'s: all requests first, then one budget for the
        batch; unconfirmed or unreachable is retryable, a long rate limit leaves the rest of the
        batch for a later run, wrong credentials raise.
        """
        requests = []
        for update in updates:
            sku = update.product.sku
            try:
                requests.append(_OfferRequest(sku, update.channel_ref, price_request(update.product)))
            except ValueError as exc:
                requests.append(_OfferRequest(sku, update.channel_ref, refusal=str(exc)))
        return self._push_offers(_PRICE_CHANGE, requests, ProductPushResult)

    # --- offer updates, stock and price alike -----------------------------------------------------
    def _push_offers(
        self, change: _OfferChange, requests: Sequence[_OfferRequest], result_type: type[_Result]
    ) -> list[_Result]:
        """Send every request, then settle the pending processes within one budget for the batch."""
        results: list[_Result | None] = [None] * len(requests)
        pending: dict[int, ProcessResult] = {}
        for index, request in enumerate(requests):
            try:
                sent = self._send_offer_change(change, request, result_type)
            except RateLimited as exc:
                # bol wants a longer pause than koppel waits: the rest would only collect 429s,
                # which bol counts against the account. They all go again in a later run.
                logger.warning(
                    "bol rate limit outlasts this run", retry_after=exc.retry_after, left=len(requests) - index
                )
                for later in range(index, len(requests)):
                    results[later] = result_type(
                        requests[later].sku,
                        accepted=False,
                        error=f"bol is rate limiting: {exc.message}",
                        retryable=True,
                    )
                break
            if isinstance(sent, ProcessResult):
                if sent.finished:
                    results[index] = offer_result(change, request.sku, sent, result_type)
                else:
                    pending[index] = sent
            else:
                results[index] = sent
        settled = self.settle(pending, self.clock.now() + max(0.0, self.stock_wait_seconds))
        for index, process in settled.items():
            results[index] = offer_result(change, requests[index].sku, process, result_type)
        done = [result for result in results if result is not None]
        logger.info(
            "bol offer updates pushed",
            update=change.path,
            updates=len(requests),
            accepted=sum(result.accepted for result in done),
            retryable=sum(result.retryable for result in done),
        )
        return done

    def _send_offer_change(
        self, change: _OfferChange, request: _OfferRequest, result_type: type[_Result]
    ) -> ProcessResult | _Result:
        offer_id, sku = request.offer_id, request.sku
        if not offer_id:
            return result_type(sku, accepted=False, error="no bol offer id is known for this SKU")
        if request.body is None:
            return result_type(sku, accepted=False, error=request.refusal or f"koppel has no {change.noun} to send")
        url = f"{self.bol.retailer}/offers/{quote(offer_id, safe='')}/{change.path}"
        try:
            body = self.bol.call("PUT", url, body=request.body)
        except (AuthenticationFailed, RateLimited):
            raise
        except TransientConnectorError as exc:
            logger.warning("bol offer update not sent", update=change.path, offer_id=offer_id, reason=exc.message)
            return result_type(sku, accepted=False, error=f"bol could not be reached: {exc.message}", retryable=True)
        except HttpStatusError as exc:
            if exc.status_code == 404:
                return result_type(sku, accepted=False, error=f"bol has no offer {offer_id}")
            logger.warning(
                "bol refused an offer update", update=change.path, offer_id=offer_id, status_code=exc.status_code
            )
            return result_type(
                sku, accepted=False, error=f"bol refused the {change.noun} for offer {offer_id} ({exc.status_code})"
            )
        process = process_result(body)
        logger.info(
            "bol offer update accepted",
            update=change.path,
            offer_id=offer_id,
            process_status_id=process.process_id,
            process_status=process.status,
        )
        return process


def stock_request(quantity: int) -> dict[str, Any]:
    """bol's UpdateOfferStockRequest: the amount clamped to what bol takes (0..999). koppel keeps
    the stock itself, so bol is told not to correct it for orders it already knows of."""
    return {"amount": max(0, min(MAX_STOCK_AMOUNT, int(quantity))), "managedByRetailer": True}


def stock_result(update: StockUpdate, process: ProcessResult) -> StockPushResult:
    """What bol's process for one stock update means for that SKU."""
    return offer_result(_STOCK_CHANGE, update.sku, process, StockPushResult)


def price_request(product: Product) -> dict[str, Any]:
    """bol's UpdateOfferPriceRequest: one bundle price for a single unit, the price the buyer pays
    (the sale price when it is lower than the price), in EUR, rounded half up to the cent.

    Raises ValueError, saying why, for a product bol cannot be given a price for.
    """
    if product.price is None:
        raise ValueError("the product has no price to send to bol")
    offered = [money for money in (product.price, product.sale_price) if money is not None]
    foreign = sorted({money.currency for money in offered if money.currency != BOL_CURRENCY})
    if foreign:
        raise ValueError(f"bol takes prices in {BOL_CURRENCY} only, not {', '.join(foreign)}")
    paid = product.price.amount
    if product.sale_price is not None and product.sale_price.amount < paid:
        paid = product.sale_price.amount
    unit_price = paid.quantize(CENT, rounding=ROUND_HALF_UP)
    if not MIN_UNIT_PRICE <= unit_price <= MAX_UNIT_PRICE:
        raise ValueError(f"bol takes prices from {MIN_UNIT_PRICE} to {MAX_UNIT_PRICE} {BOL_CURRENCY}, not {unit_price}")
    return {"pricing": {"bundlePrices": [{"quantity": 1, "unitPrice": unit_price}]}}


def offer_result(change: _OfferChange, sku: str, process: ProcessResult, result_type: type[_Result]) -> _Result:
    """What bol's process for one offer update (stock or price) means for that SKU."""
    if process.status == ProcessState.SUCCESS:
        return result_type(sku, accepted=True)
    if process.status == ProcessState.FAILURE:
        reason = process.error or f"bol refused the {change.noun} without a reason"
        return result_type(sku, accepted=False, error=reason)
    if process.status == ProcessState.TIMEOUT:
        return result_type(sku, accepted=False, error=f"bol timed out processing the {change.noun}", retryable=True)
    return result_type(sku, accepted=False, error=change.not_confirmed, retryable=True)
