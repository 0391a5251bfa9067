"""bol.com Retailer API v10: open orders in; shipments, cancellations and process statuses out.

bol answers in `application/vnd.retailer.v10+json` and authenticates with short-lived OAuth2
client-credentials tokens (about five minutes). The token is fetched once and reused until shortly
before it expires: bol blocks clients that ask for tokens too often. Every call, the token request
included, goes through `HttpApi`, so 429/5xx/rate-limit pacing are handled in one place.

Shipments and cancellations are asynchronous at bol: the request is answered 202 with a process
status (PENDING), and `GET /shared/process-status/{id}` later says SUCCESS, FAILURE (with bol's
errorMessage) or TIMEOUT. `ship` and `cancel_items` return that process; `wait_for` and `follow`
poll it on the connector's clock within a budget.

Stock goes to offers (`PUT /retailer/offers/{offer-id}/stock`), asynchronous as well: `push_stock`
sends a whole batch first, then polls the pending processes within one budget for the batch.
bol v10 finds an offer by its id only; `channel_refs` reads the offers export (a CSV, itself an
asynchronous process) once per connector to map SKUs and EANs to offer ids.

Products are offers too, as far as a retailer can change them: `push_products` sets an offer's
price (`PUT /retailer/offers/{offer-id}/price`), sent and settled like stock. Title, description
and images are bol's catalogue content, changed through bol's content API, which koppel does not
use; `product_refs` is `channel_refs`.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from pydantic import ValidationError

from koppel.config import Account
from koppel.connectors.bol.settings import BolSettings
from koppel.connectors.base import (
    ChannelProcess,
    OrderPage,
    Parcel,
    ProductPushResult,
    ProductUpdate,
    StockPushResult,
    StockUpdate,
)
from koppel.connectors.http import Clock, HttpApi, HttpStatusError, RetryPolicy
from koppel.errors import (
    AuthenticationFailed,
    ConfigurationError,
    PermanentConnectorError,
    RateLimited,
    TransientConnectorError,
)
from koppel.models import Address, Customer, Money, Order, OrderLine, OrderStatus, Product, Shipment
from koppel.observability import logger

MEDIA_TYPE = "application/vnd.retailer.v10+json"
CSV_MEDIA_TYPE = "application/vnd.retailer.v10+csv"  # what the offers export file is asked for with
PAGE_SIZE = 50
# bol's transporter code for "another carrier"; used when a shipment names none.
FALLBACK_TRANSPORTER = "OTHER"
MAX_ITEMS_PER_SHIPMENT = 100  # ShipmentRequest.orderItems maxItems
# The reasonCode enum of OrderItemCancellation in retailer.json (v10).
CANCELLATION_REASONS = frozenset(
    {
        "OUT_OF_STOCK",
        "REQUESTED_BY_CUSTOMER",
        "BAD_CONDITION",
        "HIGHER_SHIPCOST",
        "INCORRECT_PRICE",
        "NOT_AVAIL_IN_TIME",
        "NO_BOL_GUARANTEE",
        "ORDERED_TWICE",
        "RETAIN_ITEM",
        "TECH_ISSUE",
        "UNFINDABLE_ITEM",
        "OTHER",
    }
)
# bol usually settles a shipment or cancellation within seconds; longer waits belong to the next run.
PROCESS_WAIT_SECONDS = 10.0
PROCESS_POLL_SECONDS = 2.0
# Stock: the updates a flow hands over per call, and one wait for the whole batch to settle.
MAX_STOCK_BATCH = 100
STOCK_WAIT_SECONDS = 20.0
MAX_STOCK_AMOUNT = 999  # UpdateOfferStockRequest.amount maximum
# The offers export takes bol minutes rather than seconds, and is rate limited: poll it slowly.
EXPORT_WAIT_SECONDS = 180.0
EXPORT_POLL_SECONDS = 10.0
NOT_CONFIRMED = "bol has not confirmed the stock update yet"
PRICE_NOT_CONFIRMED = "bol has not confirmed the price update yet"
# BundlePrice.unitPrice in retailer.json: incl. VAT, in euros, 1..9999.
BOL_CURRENCY = "EUR"
MIN_UNIT_PRICE = Decimal("1.00")
MAX_UNIT_PRICE = Decimal("9999.00")
# Refresh this long before bol's expiry, so a token never runs out between our check and bol's.
TOKEN_MARGIN_SECONDS = 30.0
CENT = Decimal("0.01")


class _SeenRequests:
    """The buyer's cancellation requests of the Orders `get_order` returned last, kept by object
    identity: an Order carries no such flag yet, and the flows read an order through one connector
    and ask about its cancellations through another. Only the very same Order object answers, so
    the flags always come from the read that produced it; a few dozen are kept, then forgotten."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._seen: dict[int, tuple[Order, tuple[str, ...]]] = {}
        self._lock = threading.Lock()

    def remember(self, order: Order, item_ids: tuple[str, ...]) -> None:
        with self._lock:
            # Holding the Order keeps its id from being reused while it is remembered.
            self._seen[id(order)] = (order, item_ids)
            while len(self._seen) > self._size:
                del self._seen[next(iter(self._seen))]

    def of(self, order: Order) -> tuple[str, ...] | None:
        with self._lock:
            found = self._seen.get(id(order))
        return found[1] if found is not None and found[0] is order else None


_CANCELLATION_REQUESTS = _SeenRequests()


class ProcessState(StrEnum):
    """`ProcessStatus.status` in bol's shared API."""

    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    TIMEOUT = "TIMEOUT"


# From worst to best: what several processes together amount to.
_STATE_RANK = (ProcessState.FAILURE, ProcessState.TIMEOUT, ProcessState.PENDING, ProcessState.SUCCESS)


@dataclass(frozen=True)
class ProcessResult(ChannelProcess):
    """A bol process status: a `ChannelProcess` (id, status, bol's errorMessage as `error`) plus
    what bol says it is about.

    One result can stand for several bol processes (a cancellation of several items is one request
    per item; a shipment of more than 100 items is several): `process_id` then holds their ids
    joined by ',', the status is the worst of them and `error` holds every errorMessage.
    """

    event_type: str = ""  # CREATE_SHIPMENT, CANCEL_ORDER, ...
    entity_id: str = ""  # for shipments and cancellations: the (first) order item id

    @property
    def finished(self) -> bool:
        return self.status != ProcessState.PENDING

    @property
    def process_ids(self) -> tuple[str, ...]:
        return _process_ids(self.process_id)


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


@dataclass(frozen=True)
class ExportedOffer:
    """One row of bol's offers export: what koppel needs to find an offer and check its stock."""

    offer_id: str
    ean: str
    reference: str = ""  # the retailer's own reference, koppel's SKU when the merchant set one
    condition: str = ""  # NEW, AS_NEW, GOOD, ...
    fulfilment_type: str = ""  # FBR or FBB
    stock_amount: int | None = None  # not always current at bol: the export is a snapshot
    price: Decimal | None = None  # bundlePricesPrice, incl. VAT


class BolConnector:
    """Order source, shipment target, shipment channel, stock target and product target (prices
    only) for one bol.com retailer account."""

    max_batch: int = MAX_STOCK_BATCH  # `StockTarget` and `ProductTarget`: updates per push call

    def __init__(
        self,
        client: httpx.Client,
        client_id: str,
        client_secret: str,
        settings: BolSettings | None = None,
        *,
        demo: bool = False,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        process_wait_seconds: float = PROCESS_WAIT_SECONDS,
        process_poll_seconds: float = PROCESS_POLL_SECONDS,
        stock_wait_seconds: float = STOCK_WAIT_SECONDS,
        export_wait_seconds: float = EXPORT_WAIT_SECONDS,
        export_poll_seconds: float = EXPORT_POLL_SECONDS,
    ) -> None:
        self.settings = settings or BolSettings()
        self._clock = clock or Clock()
        self._api = HttpApi(client, system="bol", policy=policy, clock=self._clock)
        self._basic = httpx.BasicAuth(client_id, client_secret)
        self._bearer = _BearerAuth(self)
        root = self.settings.base_url.rstrip("/")
        suffix = "-demo" if demo else ""
        self._retailer = f"{root}/retailer{suffix}"
        self._shared = f"{root}/shared{suffix}"  # process statuses live in bol's shared API
        self._process_wait_seconds = process_wait_seconds
        self._process_poll_seconds = process_poll_seconds
        self._stock_wait_seconds = stock_wait_seconds
        self._export_wait_seconds = export_wait_seconds
        self._export_poll_seconds = export_poll_seconds
        self._token = ""
        self._token_expires_at = 0.0
        # The offers export, read once per connector; an export still running is picked up again
        # by the next `channel_refs` instead of being requested anew.
        self._offers: tuple[ExportedOffer, ...] | None = None
        self._export_process: ProcessResult | None = None
        self._export_lock = threading.Lock()

    # --- OrderSource ----------------------------------------------------------------------------
    def list_open_orders(self, page: int) -> OrderPage:
        body = self._call(
            "GET",
            f"{self._retailer}/orders",
            params={"status": "OPEN", "fulfilment-method": self.settings.fulfilment_method, "page": page},
        )
        # An empty page is `{ }` without the `orders` key: that is the end of the list.
        orders = body.get("orders") or []
        try:
            order_ids = tuple(str(order["orderId"]) for order in orders)
        except (KeyError, TypeError) as exc:
            raise PermanentConnectorError("bol order list has an order without orderId", page=page) from exc
        return OrderPage(order_ids=order_ids, next_page=page + 1 if len(order_ids) >= PAGE_SIZE else None)

    def get_order(self, channel_order_id: str) -> Order:
        body = self._get_raw_order(channel_order_id)
        try:
            order = to_order(body)
            requested = cancellation_requested_items(body)
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            # ValidationError is a ValueError; named for the reader.
            raise PermanentConnectorError(
                "bol order cannot be read as a koppel order", channel_order_id=channel_order_id
            ) from exc
        _CANCELLATION_REQUESTS.remember(order, requested)
        return order

    def cancellation_requests(self, order: Order | str) -> tuple[str, ...]:
        """Order item ids the buyer asked to cancel that are still open: confirm each with
        `cancel_items(..., "REQUESTED_BY_CUSTOMER")` instead of shipping it.

        bol keeps such items OPEN (and the koppel order too) until the retailer confirms. Given an
        Order that `get_order` returned moments ago, this answers from that same read of bol; given
        an order id, or an Order no longer remembered, it asks bol again.
        """
        if isinstance(order, Order) and (seen := _CANCELLATION_REQUESTS.of(order)) is not None:
            return seen
        order_id = order.channel_order_id if isinstance(order, Order) else order
        body = self._get_raw_order(order_id)
        try:
            return cancellation_requested_items(body)
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentConnectorError("bol order items cannot be read", channel_order_id=order_id) from exc

    # --- shipments ------------------------------------------------------------------------------
    def ship(
        self,
        order: Order | str,
        shipment: Shipment | Parcel,
        transporter_code: str,
        *,
        quantities: Mapping[str, int] | None = None,
    ) -> ProcessResult:
        """Tell bol these order items left with `transporter_code` (e.g. TNT for PostNL).

        Only the shipment's items are shipped; with none named, every item still open at bol is
        (bol is asked which, not the Order: its lines include items shipped before). `quantities`
        ships fewer units of an item than it has open; an item without one ships all its open
        units. Without a tracking code, `trackAndTrace` is left out: bol's TransportInstruction
        requires only `transporterCode`, so the shipment goes as "own shipping without T&T" (for
        parcels bol counts that against the retailer's T&T service standard). An empty
        `transporter_code` is sent as OTHER.

        Returns the process bol accepted (normally PENDING); `follow` or `wait_for` tells the
        outcome. More than 100 items go in several requests, returned as one `ProcessResult`.
        """
        order_id = order if isinstance(order, str) else order.channel_order_id
        if isinstance(shipment, Shipment):
            if shipment.channel_order_id and shipment.channel_order_id != order_id:
                raise ValueError(f"shipment is for order {shipment.channel_order_id}, not {order_id}")
            tracking_code = shipment.tracking_code
        else:
            # The caller splits a parcel with several codes; bol takes one code per shipment.
            tracking_code = shipment.tracking_codes[0] if shipment.tracking_codes else ""
        item_ids = shipment.line_ids or self._open_item_ids(order_id)
        transport = {"transporterCode": transporter_code or FALLBACK_TRANSPORTER}
        if tracking_code:
            transport["trackAndTrace"] = tracking_code
        processes = []
        for chunk in _chunks(item_ids, MAX_ITEMS_PER_SHIPMENT):
            request = {"orderItems": [_shipped_item(item_id, quantities) for item_id in chunk], "transport": transport}
            process = _process_result(self._call("POST", f"{self._retailer}/shipments", body=request))
            logger.info(
                "bol shipment accepted",
                channel_order_id=order_id,
                order_items=len(chunk),
                transporter_code=transport["transporterCode"],
                with_track_and_trace=bool(tracking_code),
                process_status_id=process.process_id,
                process_status=process.status,
            )
            processes.append(process)
        return _combined(processes)

    def confirm_shipment(self, order: Order, shipment: Shipment) -> None:
        """`ShipmentTarget`: ship with `shipment.carrier` taken as bol's transporter code, and do not
        wait for bol's verdict (the process id is logged, so a failed shipment can be traced)."""
        self.ship(order, shipment, shipment.carrier)

    # --- cancellations --------------------------------------------------------------------------
    def cancel_items(self, order_item_ids: Sequence[str], reason_code: str) -> tuple[ProcessResult, ...]:
        """Cancel every open unit of these order items, one request per item (bol's
        CancellationRequest takes exactly one). REQUESTED_BY_CUSTOMER confirms a buyer's request;
        any other reason is the retailer's own cancellation and counts against its service score.

        Returns bol's process for each item, in order (normally PENDING).
        """
        if reason_code not in CANCELLATION_REASONS:
            # A reason bol does not know is koppel's mistake; bol would refuse it with a 400.
            raise ValueError(f"{reason_code!r} is not a bol cancellation reason code")
        processes = []
        for item_id in order_item_ids:
            request = {"orderItems": [{"orderItemId": item_id, "reasonCode": reason_code}]}
            process = _process_result(self._call("PUT", f"{self._retailer}/orders/cancellation", body=request))
            logger.info(
                "bol cancellation accepted",
                order_item_id=item_id,
                reason_code=reason_code,
                process_status_id=process.process_id,
                process_status=process.status,
            )
            processes.append(process)
        return tuple(processes)

    def cancel(self, order: Order | str, line_ids: Sequence[str], reason_code: str) -> ProcessResult:
        """`ShipmentChannel`: cancel these items (none named: every item still open at bol) as one
        `ProcessResult` standing for bol's process per item."""
        order_id = order if isinstance(order, str) else order.channel_order_id
        item_ids = tuple(line_ids) or self._open_item_ids(order_id)
        return _combined(list(self.cancel_items(item_ids, reason_code)))

    # --- process status -------------------------------------------------------------------------
    def process_status(self, process_id: str) -> ProcessResult:
        """bol's current status of one process. bol forgets finished processes after a while and
        then answers 404: that raises `PermanentConnectorError` (status_code 404), stop polling."""
        body = self._call("GET", f"{self._shared}/process-status/{quote(process_id, safe='')}")
        result = _process_result(body)
        return result if result.process_id else replace(result, process_id=process_id)

    def wait_for(
        self, process_id: str, *, max_wait_seconds: float | None = None, poll_every: float | None = None
    ) -> ProcessResult:
        """Poll until the process is no longer PENDING or `max_wait_seconds` have passed on the
        connector's clock; the last status seen, which may still be PENDING."""
        budget = self._process_wait_seconds if max_wait_seconds is None else max_wait_seconds
        deadline = self._clock.now() + max(0.0, budget)
        return self._poll(process_id, deadline, self._poll_interval(poll_every))

    def follow(self, process: ChannelProcess) -> ProcessResult:
        """`ShipmentChannel`: `wait_for` within the connector's budget, for every bol process the
        given one stands for (one budget for all of them)."""
        ids = _process_ids(process.process_id)
        if process.status != ProcessState.PENDING or not ids:
            return process if isinstance(process, ProcessResult) else _from_channel_process(process)
        deadline = self._clock.now() + max(0.0, self._process_wait_seconds)
        interval = self._poll_interval(None)
        return _combined([self._poll(process_id, deadline, interval) for process_id in ids])

    def _poll(self, process_id: str, deadline: float, interval: float) -> ProcessResult:
        result = self.process_status(process_id)
        while not result.finished:
            remaining = deadline - self._clock.now()
            if remaining <= 0:
                break
            self._clock.sleep(min(interval, remaining))
            result = self.process_status(process_id)
        return result

    def _poll_interval(self, poll_every: float | None) -> float:
        interval = self._process_poll_seconds if poll_every is None else poll_every
        if interval <= 0:
            raise ValueError("poll_every must be more than zero seconds")
        return interval

    # --- stock ----------------------------------------------------------------------------------
    def push_stock(self, updates: Sequence[StockUpdate]) -> list[StockPushResult]:
        """`StockTarget`: set each offer's stock (`channel_ref` is bol's offer id), clamped to
        0..999 and managed by the retailer; one result per update, in order.

        Every request is sent first; the processes still PENDING are then polled together within
        one budget for the batch. One that bol has not settled by then is not called accepted: it
        comes back retryable, as does an update whose request HttpApi gave up on. An offer bol does
        not know is refused, naming the offer id. Wrong credentials stop the batch (they would
        fail every update the same way).
        """
        requests = [_OfferRequest(update.sku, update.channel_ref, stock_request(update.quantity)) for update in updates]
        return self._push_offers(_STOCK_CHANGE, requests, StockPushResult)

    # --- products -------------------------------------------------------------------------------
    def product_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        """`ProductTarget`: the same offer ids as `channel_refs` (reference, then EAN), from the
        same offers export: on bol a retailer's product is its offer."""
        return self.channel_refs(skus)

    def push_products(self, updates: Sequence[ProductUpdate]) -> list[ProductPushResult]:
        """`ProductTarget`: set each offer's price (`channel_ref` is bol's offer id) to what the
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
        settled = self._settle(pending, self._clock.now() + max(0.0, self._stock_wait_seconds))
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
        url = f"{self._retailer}/offers/{quote(offer_id, safe='')}/{change.path}"
        try:
            body = self._call("PUT", url, body=request.body)
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
        process = _process_result(body)
        logger.info(
            "bol offer update accepted",
            update=change.path,
            offer_id=offer_id,
            process_status_id=process.process_id,
            process_status=process.status,
        )
        return process

    def _settle(self, pending: Mapping[int, ProcessResult], deadline: float) -> dict[int, ProcessResult]:
        """Poll every pending process in rounds until none is PENDING or the deadline has passed;
        the last status seen of each. A poll that fails leaves that process as it was (PENDING: its
        outcome unknown); one bol no longer knows (404) is not asked again."""
        latest = dict(pending)
        interval = self._poll_interval(None)
        waiting = [index for index, process in latest.items() if not process.finished]
        forgotten: set[int] = set()
        while waiting:
            for index in waiting:
                try:
                    latest[index] = self.process_status(latest[index].process_id)
                except AuthenticationFailed:
                    raise
                except (TransientConnectorError, HttpStatusError) as exc:
                    logger.warning(
                        "bol process status not read", process_status_id=latest[index].process_id, reason=exc.message
                    )
                    if isinstance(exc, HttpStatusError):
                        forgotten.add(index)
            waiting = [index for index in waiting if not latest[index].finished and index not in forgotten]
            remaining = deadline - self._clock.now()
            if not waiting or remaining <= 0:
                break
            self._clock.sleep(min(interval, remaining))
        return latest

    def channel_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        """`StockTarget`: (sku, ean) pairs → bol offer id, for the SKUs bol has an offer for.

        An offer is found by its reference equal to the SKU first, then by EAN. bol v10 looks
        offers up by id only, so this reads the offers export, once per connector: the export
        takes bol minutes and is rate limited. An export not ready within the connector's budget
        raises `TransientConnectorError`; the next call picks up the same export.
        """
        return match_offers(self.offer_export(), skus)

    def offer_export(self) -> tuple[ExportedOffer, ...]:
        """Every offer of the account as bol's offers export lists it, read once per connector."""
        with self._export_lock:
            if self._offers is None:
                self._offers = self._read_offer_export()
            return self._offers

    def _read_offer_export(self) -> tuple[ExportedOffer, ...]:
        process = self._export_process
        if process is None:
            process = _process_result(self._call("POST", f"{self._retailer}/offers/export", body={"format": "CSV"}))
            logger.info("bol offer export requested", process_status_id=process.process_id)
            self._export_process = process
        if not process.finished:
            deadline = self._clock.now() + max(0.0, self._export_wait_seconds)
            process = self._poll(process.process_id, deadline, self._export_poll_seconds)
        if process.status == ProcessState.PENDING:
            raise TransientConnectorError(
                "bol has not finished the offer export yet", process_status_id=process.process_id
            )
        self._export_process = None  # finished either way: a new attempt asks for a new export
        if process.status == ProcessState.TIMEOUT:
            raise TransientConnectorError("bol timed out making the offer export", process_status_id=process.process_id)
        if process.status == ProcessState.FAILURE:
            raise PermanentConnectorError(
                f"bol could not make the offer export: {process.error}", process_status_id=process.process_id
            )
        if not process.entity_id:
            raise PermanentConnectorError(
                "bol offer export finished without a report id", process_status_id=process.process_id
            )
        response = self._api.request(
            "GET",
            f"{self._retailer}/offers/export/{quote(process.entity_id, safe='')}",
            headers={"Accept": CSV_MEDIA_TYPE},
            auth=self._bearer,
        )
        offers = parse_offer_export(response.text)
        logger.info("bol offer export read", offers=len(offers))
        return offers

    # --- reading bol's order as bol has it ------------------------------------------------------
    def _get_raw_order(self, channel_order_id: str) -> dict[str, Any]:
        return self._call("GET", f"{self._retailer}/orders/{quote(channel_order_id, safe='')}")

    def _open_item_ids(self, order_id: str) -> tuple[str, ...]:
        body = self._get_raw_order(order_id)
        try:
            item_ids = tuple(str(item["orderItemId"]) for item in body["orderItems"] if _unhandled_units(item) > 0)
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentConnectorError("bol order items cannot be read", channel_order_id=order_id) from exc
        if not item_ids:
            raise PermanentConnectorError("bol order has no open items left", channel_order_id=order_id)
        return item_ids

    # --- HTTP -----------------------------------------------------------------------------------
    def _call(
        self, method: str, url: str, *, params: Mapping[str, Any] | None = None, body: object = None
    ) -> dict[str, Any]:
        headers = {"Accept": MEDIA_TYPE}
        content = None
        if body is not None:
            headers["Content-Type"] = MEDIA_TYPE
            content = _json_text(body)
        response = self._api.request(method, url, params=params, headers=headers, content=content, auth=self._bearer)
        return _json_object(response)

    def access_token(self) -> str:
        """The cached bearer token, fetched again only when it is (nearly) expired."""
        if not self._token or self._clock.now() >= self._token_expires_at:
            self._fetch_token()
        return self._token

    def forget_token(self) -> None:
        self._token = ""

    def _fetch_token(self) -> None:
        response = self._api.request(
            "POST",
            self.settings.token_url,
            params={"grant_type": "client_credentials"},
            headers={"Accept": "application/json"},
            auth=self._basic,
        )
        body = _json_object(response)
        try:
            token = str(body["access_token"])
            expires_in = float(body["expires_in"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentConnectorError("bol token answer lacks access_token or expires_in") from exc
        self._token = token
        self._token_expires_at = self._clock.now() + max(0.0, expires_in - TOKEN_MARGIN_SECONDS)


class _BearerAuth(httpx.Auth):
    """Adds the bearer token; on a 401 (the token expired at bol's side) fetches one new token and
    sends the request once more. Wrong credentials then fail on the token request itself."""

    requires_response_body = True  # read the 401 before the token request reuses the connection

    def __init__(self, connector: BolConnector) -> None:
        self._connector = connector

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._connector.access_token()}"
        response = yield request
        if response.status_code == 401:
            logger.info("bol token refused, fetching a new one")
            self._connector.forget_token()
            request.headers["Authorization"] = f"Bearer {self._connector.access_token()}"
            yield request


def from_account(
    account: Account,
    credentials: Mapping[str, str],
    client: httpx.Client,
    *,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
) -> BolConnector:
    """The connector for a configured bol account; a sandbox account talks to bol's demo API."""
    settings = account.typed_settings()
    if not isinstance(settings, BolSettings):
        raise ConfigurationError(f"account {account.account_id} is not a bol account", field="system")
    missing = [key for key in ("client_id", "client_secret") if not credentials.get(key)]
    if missing:
        raise ConfigurationError(f"bol credentials lack {', '.join(missing)}", field=missing[0])
    return BolConnector(
        client,
        credentials["client_id"],
        credentials["client_secret"],
        settings,
        demo=account.sandbox,
        policy=policy,
        clock=clock,
    )


# --- shipments, cancellations and process statuses, in bol's terms --------------------------------
def cancellation_requested_items(data: Mapping[str, Any]) -> tuple[str, ...]:
    """Ids of the order's items the buyer asked to cancel and that are still open.

    bol leaves `cancellationRequest` true after the cancellation is confirmed; an item with nothing
    left open needs no more action, so it is not listed.
    """
    return tuple(
        str(item["orderItemId"])
        for item in data["orderItems"]
        if item.get("cancellationRequest") and _unhandled_units(item) > 0
    )


def _unhandled_units(item: Mapping[str, Any]) -> int:
    return _open_quantity(item) - int(item.get("quantityShipped", 0))


def _shipped_item(item_id: str, quantities: Mapping[str, int] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"orderItemId": item_id}
    if quantities and item_id in quantities:
        if quantities[item_id] <= 0:
            raise ValueError(f"order item {item_id}: ship at least one unit, not {quantities[item_id]}")
        entry["quantity"] = quantities[item_id]
    return entry


def _process_result(body: Mapping[str, Any]) -> ProcessResult:
    try:
        status = ProcessState(str(body["status"]))
    except (KeyError, ValueError) as exc:
        raise PermanentConnectorError(
            "bol process status has no status koppel knows", status=str(body.get("status", ""))
        ) from exc
    return ProcessResult(
        process_id=_process_id(body),
        status=status,
        error=str(body.get("errorMessage") or ""),
        event_type=str(body.get("eventType") or ""),
        entity_id=str(body.get("entityId") or ""),
    )


def _process_id(body: Mapping[str, Any]) -> str:
    # processStatusId is optional in the spec (older answers said `id`); the self link always
    # ends in the id.
    for key in ("processStatusId", "id"):
        if body.get(key) not in (None, ""):
            return str(body[key])
    for link in body.get("links") or []:
        if isinstance(link, Mapping) and link.get("rel") == "self" and link.get("href"):
            return urlsplit(str(link["href"])).path.rstrip("/").rsplit("/", 1)[-1]
    logger.warning("bol process status without an id", event_type=str(body.get("eventType", "")))
    return ""


def _process_ids(joined: str) -> tuple[str, ...]:
    return tuple(part for part in joined.split(",") if part)


def _from_channel_process(process: ChannelProcess) -> ProcessResult:
    return ProcessResult(process_id=process.process_id, status=process.status, error=process.error)


def _combined(processes: Sequence[ProcessResult]) -> ProcessResult:
    """Several bol processes as one: the worst status, every error, every id."""
    if len(processes) == 1:
        return processes[0]
    if not processes:
        raise ValueError("no bol process to report")
    statuses = [ProcessState(process.status) for process in processes]
    event_types = {process.event_type for process in processes}
    return ProcessResult(
        process_id=",".join(process.process_id for process in processes),
        status=min(statuses, key=_STATE_RANK.index),
        error="; ".join(process.error for process in processes if process.error),
        event_type=event_types.pop() if len(event_types) == 1 else "",
        entity_id=processes[0].entity_id,
    )


# --- stock and the offers export, in bol's terms ------------------------------------------------
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


# Column names of bol's offers export; bol's v10 demo names the reference column `referenceCode`,
# its offer model says `reference`: either is read.
_REFERENCE_COLUMNS = ("referenceCode", "reference")


def parse_offer_export(text: str) -> tuple[ExportedOffer, ...]:
    """bol's offers export CSV, one `ExportedOffer` per row; columns are found by name."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = set(reader.fieldnames or ())
    missing = {"offerId", "ean"} - columns
    if missing:
        raise PermanentConnectorError("bol offer export lacks columns", missing=",".join(sorted(missing)))
    reference_column = next((name for name in _REFERENCE_COLUMNS if name in columns), "")
    offers = []
    for row in reader:
        offer_id = (row.get("offerId") or "").strip()
        if not offer_id:
            continue
        offers.append(
            ExportedOffer(
                offer_id=offer_id,
                ean=(row.get("ean") or "").strip(),
                reference=(row.get(reference_column) or "").strip() if reference_column else "",
                condition=(row.get("conditionName") or "").strip(),
                fulfilment_type=(row.get("fulfilmentType") or "").strip(),
                stock_amount=_optional_int(row.get("stockAmount")),
                price=_optional_decimal(row.get("bundlePricesPrice")),
            )
        )
    return tuple(offers)


def match_offers(offers: Sequence[ExportedOffer], skus: Sequence[tuple[str, str]]) -> dict[str, str]:
    """(sku, ean) → offer id: the offer whose reference is the SKU, else the one with the EAN.

    Several offers can share an EAN (new and second-hand, FBR and FBB): a retailer-fulfilled new
    one is preferred; if that still leaves several, the SKU is left out rather than guessed.
    """
    by_reference: dict[str, list[ExportedOffer]] = {}
    by_ean: dict[str, list[ExportedOffer]] = {}
    for offer in offers:
        if offer.reference:
            by_reference.setdefault(offer.reference, []).append(offer)
        if offer.ean:
            by_ean.setdefault(offer.ean, []).append(offer)
    found: dict[str, str] = {}
    for sku, ean in skus:
        if not sku:
            continue
        candidates = by_reference.get(sku) or (by_ean.get(ean, []) if ean else [])
        chosen = _preferred_offer(candidates)
        if chosen is not None:
            found[sku] = chosen.offer_id
        elif candidates:
            logger.warning("several bol offers match one SKU; none chosen", sku=sku, offers=len(candidates))
    return found


def _preferred_offer(candidates: Sequence[ExportedOffer]) -> ExportedOffer | None:
    for keep in (lambda offer: offer.fulfilment_type != "FBB", lambda offer: offer.condition in ("", "NEW")):
        narrowed = [offer for offer in candidates if keep(offer)]
        candidates = narrowed or candidates
        if len(candidates) == 1:
            return candidates[0]
    return None


def _optional_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _optional_decimal(value: str | None) -> Decimal | None:
    try:
        return Decimal(value) if value not in (None, "") else None
    except ArithmeticError:  # decimal.InvalidOperation
        return None


# --- translation to the canonical model ---------------------------------------------------------
def to_order(data: Mapping[str, Any]) -> Order:
    """A bol `Order` as a koppel `Order`.

    Cancelled units are left out. An order whose every unit is cancelled keeps its lines as ordered
    and gets status CANCELLED, so the caller can see (and pass on) the cancellation.
    """
    shipping = data["shipmentDetails"]
    billing = data.get("billingDetails") or shipping
    items = data["orderItems"]
    lines = [line for item in items if (line := _line(item, _open_quantity(item))) is not None]
    if lines:
        shipped = all(int(item.get("quantityShipped", 0)) >= _open_quantity(item) for item in items)
        status = OrderStatus.SHIPPED if shipped else OrderStatus.OPEN
    else:
        lines = [line for item in items if (line := _line(item, int(item["quantity"]))) is not None]
        status = OrderStatus.CANCELLED
    return Order(
        channel="bol",
        channel_order_id=str(data["orderId"]),
        placed_at=_placed_at(data),
        status=status,
        # The billing party is the buyer; bol only omits billing details when they equal shipping.
        customer=Customer(
            email=billing.get("email") or shipping.get("email", ""),
            first_name=billing.get("firstName", ""),
            last_name=billing.get("surname", ""),
            company=billing.get("company", ""),
            phone=shipping.get("deliveryPhoneNumber", ""),
        ),
        billing_address=_address(billing),
        shipping_address=_address(shipping),
        lines=tuple(lines),
        shipping_cost=None,  # bol charges the buyer no separate shipping line
        note=billing.get("orderReference", ""),
    )


def _open_quantity(item: Mapping[str, Any]) -> int:
    return int(item["quantity"]) - int(item.get("quantityCancelled", 0))


def _line(item: Mapping[str, Any], quantity: int) -> OrderLine | None:
    if quantity <= 0:
        return None
    product = item.get("product") or {}
    offer = item.get("offer") or {}
    ean = str(product.get("ean", ""))
    return OrderLine(
        line_id=str(item["orderItemId"]),
        channel_sku=offer.get("reference") or ean,
        ean=ean,
        title=product.get("title", ""),
        quantity=quantity,
        unit_price=Money(amount=_decimal(item["unitPrice"]), currency="EUR"),
        discount=_discount(item, quantity),
    )


def _discount(item: Mapping[str, Any], quantity: int) -> Money | None:
    """The discount on the `quantity` units koppel passes on; None when bol gave none.

    bol's `discounts` amounts cover the whole item, every unit ordered (its own example: 10 x 12.99
    = 129.90, less a 10.99 promotion, is a totalPrice of 118.91). bol does not say how a discount
    is split when some units are cancelled, so it is taken as spread evenly over the units ordered:
    the units still open keep their share, rounded to the cent. With nothing cancelled (or
    everything, when the lines stay as ordered) the discount is kept exactly as bol reported it.
    """
    discounts = item.get("discounts") or []
    total = sum((_decimal(discount["amount"]) for discount in discounts), Decimal(0))
    ordered = int(item["quantity"])
    if not int(item.get("quantityCancelled", 0)):
        _check_total_price(item, ordered, total)
    if quantity != ordered:
        total = (total * quantity / ordered).quantize(CENT, rounding=ROUND_HALF_UP)
    return Money(amount=total, currency="EUR") if total else None


def _check_total_price(item: Mapping[str, Any], ordered: int, discount: Decimal) -> None:
    # totalPrice is what the buyer paid; it should be the units less the discounts. A difference
    # means bol's semantics are not what this connector assumes: worth a look, not a failed import.
    # Only asked of items without cancellations: whether bol lowers totalPrice for those is unknown.
    if item.get("totalPrice") is None:
        return
    expected = _decimal(item["unitPrice"]) * ordered - discount
    if _decimal(item["totalPrice"]) != expected:
        logger.warning(
            "bol totalPrice differs from unit price times quantity less discounts",
            order_item_id=str(item.get("orderItemId", "")),
            total_price=str(item["totalPrice"]),
            expected=str(expected),
        )


def _address(details: Mapping[str, Any]) -> Address:
    return Address(
        first_name=details.get("firstName", ""),
        last_name=details.get("surname", ""),
        # A pick-up point delivery has the point's address; its name is what the carrier needs.
        company=details.get("company") or details.get("pickupPointName", ""),
        street=details.get("streetName", ""),
        house_number=details.get("houseNumber", ""),
        house_number_extension=details.get("houseNumberExtension", ""),
        address_line_2=details.get("extraAddressInformation", ""),
        postal_code=details.get("zipCode", ""),
        city=details.get("city", ""),
        country_code=details.get("countryCode", "NL"),
        email=details.get("email", ""),
        phone=details.get("deliveryPhoneNumber", ""),
    )


def _placed_at(data: Mapping[str, Any]) -> datetime:
    # orderPlacedDateTime is optional in the spec; an item's first change is the next best moment.
    stamp = data.get("orderPlacedDateTime") or min(item["latestChangedDateTime"] for item in data["orderItems"])
    return datetime.fromisoformat(stamp)


def _decimal(value: object) -> Decimal:
    if isinstance(value, float):  # only reachable if a caller parsed JSON without parse_float
        raise TypeError("bol amounts must be parsed as Decimal, not float")
    return Decimal(str(value))


def _json_object(response: httpx.Response) -> dict[str, Any]:
    # parse_float=Decimal: prices must never pass through a binary float.
    try:
        body = response.json(parse_float=Decimal)
    except ValueError as exc:
        raise PermanentConnectorError(
            "bol answered with a body that is not JSON", status_code=response.status_code
        ) from exc
    if not isinstance(body, dict):
        raise PermanentConnectorError("bol answered with JSON that is not an object", status_code=response.status_code)
    return body


def _json_text(value: object) -> str:
    """JSON as `json.dumps` writes it, with each Decimal written digit for digit as a number
    (12.50, not 12.5 or "12.50"): bol's prices never pass through a binary float."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be sent as a JSON number")
        return format(value, "f")
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(key))}: {_json_text(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_json_text(item) for item in value) + "]"
    return json.dumps(value)


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
