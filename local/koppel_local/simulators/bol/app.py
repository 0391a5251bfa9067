"""A bol.com Retailer API v10 simulator, strict where the real API is strict, built on the kit.

When `../shared/reference/bol/retailer.json` is present, every Retailer request is checked against
the published OpenAPI document (path, method, parameters, Accept, body); a request bol would refuse
gets 400 and lands in `sim.violations` with the spec location of the rule, so a connector bug
fails the test instead of passing against a lenient fake. The simulator also checks its own 2xx
bodies against the response schemas (`sim.response_violations`). Without the reference file it
serves the same answers, unchecked.

What it keeps: orders (spec-shaped dicts), offers, tokens, shipments, cancellations, stock and
price updates, process statuses (one by one, or up to 1,000 at once with
`POST /shared/process-status`), a request log, a fixed-window rate limit per endpoint group,
injected faults and latency. Names and addresses in generated orders are invented.

Offers (`add_offer`) take stock updates (`PUT /retailer/offers/{offer-id}/stock`) and price
updates (`PUT /retailer/offers/{offer-id}/price`; `offer_price` shows the unit price), and are
listed in the offers export (`POST /retailer/offers/export`, then the CSV at
`GET /retailer/offers/export/{report-id}`), all asynchronous like shipments.

Shipments, cancellations, stock and price updates and offer exports are answered 202 PENDING, as
bol does. Their outcome is decided and applied when the request arrives (a shipped item leaves the OPEN list
at once), but its process status says PENDING for the first `pending_polls` polls and only then
SUCCESS, FAILURE (with an errorMessage in bol's manner) or TIMEOUT.
"""

from __future__ import annotations

import copy
import math
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count, islice
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from koppel_local.simulators.bol.answers import (
    bundle_price_violations,
    json_answer,
    json_body,
    offer_export_csv,
    pending,
    problem,
    reduced_order,
    stamp,
    units_open,
)
from koppel_local.simulators.bol.people import billing_from, dutch_person, sample_items
from koppel_local.simulators.bol.records import (
    API_PREFIXES,
    CSV_CONTENT_TYPE,
    DEFAULT_RATE_LIMIT,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    PAGE_SIZE,
    TOKEN_TTL_SECONDS,
    LoggedRequest,
    RateLimit,
    RecordedCancellation,
    RecordedPriceUpdate,
    RecordedShipment,
    RecordedStockUpdate,
    SimItem,
    SpecViolation,
)
from koppel_local.simulators.kit import (
    AuthFailure,
    ClientCredentials,
    Contract,
    ContractViolation,
    Fault,
    FixedWindows,
    OpenApiContract,
    ReferenceMissing,
    WsgiSimulator,
    load_openapi,
    route,
)

_API = r"/retailer(?:-demo)?"
_SHARED = r"/shared(?:-demo)?"
ROUTES = (
    route("POST", r"/token", "token", "_issue_token", public=True),
    route("GET", rf"{_API}/orders", "orders", "_list_orders"),
    route("GET", rf"{_API}/orders/(?P<order_id>[^/]+)", "order", "_get_order"),
    route("POST", rf"{_API}/shipments", "shipments", "_create_shipment"),
    route("PUT", rf"{_API}/orders/cancellation", "cancellation", "_cancel_order_item"),
    route("PUT", rf"{_API}/offers/(?P<offer_id>[^/]+)/stock", "offer-stock", "_update_stock"),
    route("PUT", rf"{_API}/offers/(?P<offer_id>[^/]+)/price", "offer-price", "_update_price"),
    route("POST", rf"{_API}/offers/export", "offer-export", "_create_offer_export"),
    route("GET", rf"{_API}/offers/export/(?P<report_id>[^/]+)", "offer-export-file", "_get_offer_export"),
    route("GET", rf"{_SHARED}/process-status/(?P<process_status_id>[^/]+)", "process-status", "_get_process_status"),
    route("POST", rf"{_SHARED}/process-status", "process-status-bulk", "_get_process_statuses"),
)
_JSON = "application/json;charset=UTF-8"


class BolSimulator(WsgiSimulator):
    """bol.com's token endpoint, orders, shipments, cancellations, offer stock and export, and
    process status, in one WSGI app."""

    system = "bol.com simulator"
    routes = ROUTES
    untargeted_fault_skip = ("token",)

    def __init__(
        self,
        *,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        validate: bool = True,
        rate_limit: RateLimit = DEFAULT_RATE_LIMIT,
        rate_limits: Mapping[str, RateLimit] | None = None,
        retry_after_header: bool = True,
        latency_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        token_ttl_seconds: int = TOKEN_TTL_SECONDS,
        pending_polls: int = 0,
        seed: int = 2004,
    ) -> None:
        self.setup_kit(clock=clock, sleep=sleep, latency_seconds=latency_seconds)
        self.oauth = ClientCredentials(client_id, client_secret, token_ttl_seconds, clock=clock)
        self.rate_limit = rate_limit
        self.rate_limits: dict[str, RateLimit] = dict(rate_limits or {})
        self.retry_after_header = retry_after_header
        # How many polls of a new process status still answer PENDING before its outcome shows.
        self.pending_polls = pending_polls
        self._rng = random.Random(seed)
        self._specs = _specs() if validate else {}
        # What tests look at.
        self.shipments: list[RecordedShipment] = []
        self.cancellations: list[RecordedCancellation] = []
        self.stock_updates: list[RecordedStockUpdate] = []
        self.price_updates: list[RecordedPriceUpdate] = []
        # State.
        self._orders: dict[str, dict[str, Any]] = {}
        self._items: dict[str, tuple[str, dict[str, Any]]] = {}
        self._processes: dict[str, dict[str, Any]] = {}
        self._pending_left: dict[str, int] = {}
        self._slow: dict[str, int] = {}  # entity id → pending polls of its next process
        self._refused_cancellations: dict[str, str] = {}
        self._timeouts = 0
        self._offers: dict[str, dict[str, Any]] = {}
        self._stock_refusals: dict[str, str] = {}  # offer id → the errorMessage of its next update
        self._price_refusals: dict[str, str] = {}  # offer id → the errorMessage of its next price update
        self._exports: dict[str, str] = {}  # report id → the CSV as it was when requested
        self._windows = FixedWindows()
        self._order_ids = count(1_200_000_001)
        self._item_ids = count(2_600_000_001)
        self._process_ids = count(1)

    @property
    def validating(self) -> bool:
        return "/retailer" in self._specs

    @property
    def violations(self) -> list[SpecViolation]:
        """Requests bol would refuse (answered 400); reading them is how a test claims them."""
        return self.request_violations_log.read()

    @property
    def response_violations(self) -> list[SpecViolation]:
        """The simulator's own 2xx answers that its response schemas refuse."""
        return self.answer_violations_log.read()

    @property
    def token_requests(self) -> int:
        return self.oauth.issued

    @property
    def client_id(self) -> str:
        return self.oauth.client_id

    @property
    def client_secret(self) -> str:
        return self.oauth.client_secret

    @property
    def token_ttl_seconds(self) -> float:
        return self.oauth.ttl_seconds

    # --- state API for tests and the demo -------------------------------------------------------
    def add_order(
        self,
        order_id: str,
        items: Sequence[SimItem],
        *,
        shipment_details: Mapping[str, Any] | None = None,
        billing_details: Mapping[str, Any] | None = None,
        placed_at: datetime | None = None,
        pickup_point: bool = False,
    ) -> dict[str, Any]:
        """Store an order as bol would return it; unnamed people get an invented Dutch one."""
        placed = placed_at or datetime.now(UTC).replace(microsecond=0)
        shipping = dict(shipment_details) if shipment_details is not None else dutch_person(self._rng)
        order: dict[str, Any] = {
            "orderId": order_id,
            "pickupPoint": pickup_point,
            "orderPlacedDateTime": stamp(placed),
            "shipmentDetails": shipping,
            "billingDetails": dict(billing_details) if billing_details is not None else billing_from(shipping),
            "orderItems": [self._render_item(item, placed) for item in items],
        }
        with self._lock:
            self._orders[order_id] = order
            for item in order["orderItems"]:
                self._items[item["orderItemId"]] = (order_id, item)
        return copy.deepcopy(order)

    def add_dutch_order(
        self,
        order_id: str | None = None,
        *,
        items: Sequence[SimItem] | None = None,
        placed_at: datetime | None = None,
    ) -> str:
        """A realistic open order with one to three invented products; returns its order id."""
        order_id = order_id or str(next(self._order_ids))
        chosen = items if items is not None else sample_items(self._rng)
        self.add_order(order_id, chosen, placed_at=placed_at)
        return order_id

    def add_dutch_orders(self, number: int) -> list[str]:
        return [self.add_dutch_order() for _ in range(number)]

    def order(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._orders[order_id])

    def cancel_item(self, order_item_id: str, quantity: int | None = None, *, by_customer: bool = True) -> None:
        """Cancel open units of an item, as a buyer (or bol) does before it ships."""
        with self._lock:
            _, item = self._items[order_item_id]
            open_units = units_open(item)
            item["quantityCancelled"] += open_units if quantity is None else min(quantity, open_units)
            item["cancellationRequest"] = by_customer
            item["latestChangedDateTime"] = stamp(datetime.now(UTC))

    def refuse_cancellation(self, order_item_id: str, reason: str) -> None:
        """bol's process for a cancellation of this item ends FAILURE with `reason` (e.g. it is
        already on its way from bol's side)."""
        with self._lock:
            self._refused_cancellations[order_item_id] = reason

    def request_cancellation(self, order_item_id: str) -> None:
        """The buyer asks to cancel an item: it stays open, flagged, until the retailer confirms
        (PUT /orders/cancellation with REQUESTED_BY_CUSTOMER) or ships it anyway."""
        with self._lock:
            _, item = self._items[order_item_id]
            item["cancellationRequest"] = True
            item["latestChangedDateTime"] = stamp(datetime.now(UTC))

    def add_offer(
        self,
        offer_id: str,
        ean: str,
        reference: str = "",
        stock: int = 0,
        *,
        price: Decimal | str = "9.99",
        fulfilment_method: str = "FBR",
        condition: str = "NEW",
        delivery_code: str = "1-2d",
    ) -> None:
        """An offer of the retailer's, as bol keeps it: listed in the export, open to stock updates."""
        with self._lock:
            self._offers[offer_id] = {
                "offerId": offer_id,
                "ean": ean,
                "reference": reference,
                "stock": stock,
                "managedByRetailer": False,
                "price": Decimal(str(price)),
                "fulfilmentMethod": fulfilment_method,
                "condition": condition,
                "deliveryCode": delivery_code,
                "changed": datetime.now(UTC),
            }

    def offer_stock(self, offer_id: str) -> int:
        """The stock bol shows for the offer now."""
        with self._lock:
            return int(self._offers[offer_id]["stock"])

    def stock_managed_by_retailer(self, offer_id: str) -> bool:
        with self._lock:
            return bool(self._offers[offer_id]["managedByRetailer"])

    def refuse_stock(self, offer_id: str, reason: str) -> None:
        """The offer's next stock update ends in FAILURE with `reason` as bol's errorMessage."""
        with self._lock:
            self._stock_refusals[offer_id] = reason

    def offer_price(self, offer_id: str) -> Decimal:
        """The price (incl. VAT) bol shows for one unit of the offer now."""
        with self._lock:
            return Decimal(self._offers[offer_id]["price"])

    def refuse_price(self, offer_id: str, reason: str) -> None:
        """The offer's next price update ends in FAILURE with `reason` as bol's errorMessage."""
        with self._lock:
            self._price_refusals[offer_id] = reason

    def time_out_next(self, times: int = 1) -> None:
        """The next `times` shipments, cancellations, stock or price updates or offer exports end in
        TIMEOUT at bol's side, changing nothing."""
        with self._lock:
            self._timeouts += times

    def expire_tokens(self) -> None:
        """Every issued token is expired from now on (bol answers 401 'Expired JWT')."""
        with self._lock:
            self.oauth.expire_all()

    def fail_next(self, times: int, status: int = 500, *, group: str | None = None, retry_after: int = 4) -> None:
        """Answer the next `times` requests of `group` (default: any API request, not the token
        endpoint) with `status`, shaped like bol's own: a 429 carries `Retry-After: retry_after`
        unless `retry_after_header` is off, and, as in bol's samples, no rate-limit headers."""
        self.faults.add(times, status, target=group, retry_after=retry_after)

    def calls(self, group: str) -> list[LoggedRequest]:
        return self.request_log.of(group)

    def process_status(self, process_status_id: str) -> dict[str, Any]:
        """The process as it ends, however often it has been polled so far."""
        with self._lock:
            return copy.deepcopy(self._processes[process_status_id])

    def slow_process(self, entity_id: str, polls: int) -> None:
        """The next process about `entity_id` (an offer id, or the first order item id of a
        shipment or cancellation) says PENDING for `polls` polls, whatever `pending_polls` says."""
        with self._lock:
            self._slow[entity_id] = polls

    def forget_process(self, process_status_id: str) -> None:
        """bol keeps a process status for a limited time only: from now on a poll of this one
        answers 404, and a bulk poll leaves it out."""
        with self._lock:
            self._processes.pop(process_status_id, None)
            self._pending_left.pop(process_status_id, None)

    # --- the kit's hooks, in bol's words --------------------------------------------------------
    def contract_for(self, request: Request) -> tuple[Contract | None, str]:
        """The spec that covers the path, and the path as that spec spells it (demo paths included)."""
        for prefix in API_PREFIXES:
            for served in (prefix, f"{prefix}-demo"):
                if request.path == served or request.path.startswith(f"{served}/"):
                    return self._specs.get(prefix), prefix + request.path.removeprefix(served)
        # A path under neither API is itself a violation: check it against the Retailer API.
        return self._specs.get("/retailer"), request.path

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.status == 429:
            return self._too_many_requests(fault.retry_after or 4)
        if fault.status >= 500:
            # bol's gateway answers server errors with plain HTML, not a problem body.
            text = HTTP_STATUS_CODES.get(fault.status, "Error")
            return Response(text, fault.status, content_type="text/html; charset=UTF-8")
        return problem(fault.status, HTTP_STATUS_CODES.get(fault.status, "Error"), "Injected fault.", request)

    def admit(self, request: Request, group: str) -> tuple[Response | None, Mapping[str, str]]:
        """Fixed window per endpoint group; the headers bol sends with every answer.

        The reset is the whole seconds until the window reopens, read to the microsecond first: a window
        opened this instant says 1, not the 2 that `ceil` makes of 1.0000000000000009 (a float sum)."""
        limit = self.rate_limits.get(group, self.rate_limit)
        now = self._clock()
        admission = self._windows.admit(group, limit, now)
        opened = self._windows.windows[group].started
        reset = max(1, math.ceil(round(opened + limit.window_seconds - now, 6)))
        headers = {
            "X-RateLimit-Limit": str(admission.limit),
            "X-RateLimit-Remaining": str(admission.remaining),
            "X-RateLimit-Reset": str(reset),
        }
        refused = None if admission.admitted else self._too_many_requests(reset)
        return refused, headers

    def _too_many_requests(self, retry_after: int) -> Response:
        body = {
            "title": "Too Many Requests",
            "status": 429,
            "detail": f"Too many requests, retry in {retry_after} seconds.",
        }
        response = json_answer(429, body)
        if self.retry_after_header:
            response.headers["Retry-After"] = str(retry_after)
        return response

    def authenticate(self, request: Request) -> Response | None:
        failure = self.oauth.check(request)
        if failure is None:
            return None
        if failure.kind == "expired":
            detail = f"JWT expired {failure.seconds_late:.0f} seconds ago. Allowed clock skew: 1000 milliseconds."
            return json_answer(401, {"title": "Expired JWT", "status": 401, "detail": detail})
        if failure.kind == "unknown":
            return json_answer(401, {"title": "Invalid JWT", "status": 401, "detail": "The token was not issued here."})
        return json_answer(401, {"title": "Unauthorized", "status": 401, "detail": "A bearer token is required."})

    def refuse(self, request: Request, error: ContractViolation) -> Response:
        return problem(
            400,
            "Error validating request. Consult the bol.com API documentation for more information.",
            "Bad request",
            request,
            violations=error.violations,
        )

    def not_served(self, request: Request) -> Response:
        detail = f"The simulator does not serve {request.method} {request.path}."
        return problem(501, "Not Implemented", detail, request)

    def answer_is_checked(self, request: Request, response: Response) -> bool:
        # bol answers an empty order page with `{ }`, although the schema requires `orders`.
        return 200 <= response.status_code < 300 and response.get_data() != b"{ }"

    # --- endpoints ------------------------------------------------------------------------------
    def _issue_token(self, request: Request) -> Response:
        issued = self.oauth.issue(request)
        if isinstance(issued, AuthFailure):
            if issued.kind == "bad_grant":
                body = {"error": "unsupported_grant_type", "error_description": "Only client_credentials is supported"}
                return json_answer(400, body, content_type=_JSON)
            body = {"error": "invalid_client", "error_description": "Bad client credentials"}
            return json_answer(401, body, content_type=_JSON)
        body = {
            "access_token": issued,
            "token_type": "Bearer",
            "expires_in": self.oauth.ttl_seconds,
            "scope": "RETAILER",
        }
        return json_answer(200, body, content_type=_JSON)

    def _list_orders(self, request: Request) -> Response:
        status = request.args.get("status", "OPEN")
        method = request.args.get("fulfilment-method", "FBR")
        try:
            page = int(request.args.get("page", "1"))
        except ValueError:
            page = 0
        if page < 1:
            return problem(400, "Bad Request", "page must be a whole number from 1.", request)
        # Only as far as the page asked for: a listing of 10,000 open orders renders 50, not all of them.
        listed = (reduced for order in self._orders.values() if (reduced := reduced_order(order, status, method)))
        chunk = list(islice(listed, (page - 1) * PAGE_SIZE, page * PAGE_SIZE))
        return json_answer(200, {"orders": chunk} if chunk else {})

    def _get_order(self, request: Request, order_id: str) -> Response:
        order = self._orders.get(order_id)
        if order is None:
            return problem(404, "Not Found", f"Order {order_id} not found.", request)
        return json_answer(200, order)

    def _create_shipment(self, request: Request) -> Response:
        body = json_body(request)
        if body is None:
            return problem(400, "Bad Request", "The body is not a JSON object.", request)
        requested = [entry for entry in body.get("orderItems") or [] if isinstance(entry, Mapping)]
        return self._process(
            request,
            event_type="CREATE_SHIPMENT",
            entity_id=str(requested[0].get("orderItemId", "")) if requested else "",
            description=f"Create shipment for {len(requested)} order item(s).",
            apply=lambda process_id: self._ship(process_id, body),
        )

    def _ship(self, process_id: str, body: Mapping[str, Any]) -> str:
        """Apply a shipment request; the error message bol would report, or '' on success."""
        transport = body.get("transport") or {}
        if not transport.get("transporterCode") and not body.get("shippingLabelId"):
            return "Either transport.transporterCode or shippingLabelId is required."
        planned: list[tuple[str, dict[str, Any], int]] = []
        for entry in body.get("orderItems") or []:
            item_id = str(entry.get("orderItemId", ""))
            if item_id not in self._items:
                return f"Order item {item_id} does not exist."
            if any(item["orderItemId"] == item_id for _, item, _ in planned):
                return f"Order item {item_id} is listed more than once."
            order_id, item = self._items[item_id]
            open_units = units_open(item)
            if open_units == 0:
                return f"Order item {item_id} has already been shipped or cancelled."
            # Without a quantity bol ships every unit still open.
            units = open_units if entry.get("quantity") is None else int(entry["quantity"])
            if not 0 < units <= open_units:
                return f"Order item {item_id} has {open_units} open unit(s); cannot ship {units}."
            planned.append((order_id, item, units))
        if len({order_id for order_id, _, _ in planned}) != 1:
            return "All order items of one shipment must belong to the same order."
        changed = stamp(datetime.now(UTC))
        for _, item, units in planned:
            item["quantityShipped"] += units
            item["latestChangedDateTime"] = changed
        self.shipments.append(
            RecordedShipment(
                shipment_id=str(uuid.UUID(int=self._rng.getrandbits(128))),
                process_status_id=process_id,
                order_id=planned[0][0],
                order_item_ids=tuple(item["orderItemId"] for _, item, _ in planned),
                transporter_code=str(transport.get("transporterCode", "")),
                track_and_trace=str(transport.get("trackAndTrace", "")),
                shipment_reference=str(body.get("shipmentReference") or ""),
                shipping_label_id=str(body.get("shippingLabelId") or ""),
            )
        )
        return ""

    def _cancel_order_item(self, request: Request) -> Response:
        body = json_body(request)
        if body is None:
            return problem(400, "Bad Request", "The body is not a JSON object.", request)
        requested = [entry for entry in body.get("orderItems") or [] if isinstance(entry, Mapping)]
        item_id = str(requested[0].get("orderItemId", "")) if requested else ""
        return self._process(
            request,
            event_type="CANCEL_ORDER",
            entity_id=item_id,
            description=f"Cancel order item {item_id}.",
            apply=lambda process_id: self._cancel(process_id, requested),
        )

    def _cancel(self, process_id: str, requested: Sequence[Mapping[str, Any]]) -> str:
        """Apply a cancellation; the error message bol would report, or '' on success."""
        if len(requested) != 1:
            return "Exactly one order item can be cancelled per request."
        item_id = str(requested[0].get("orderItemId", ""))
        if item_id not in self._items:
            return f"Order item {item_id} does not exist."
        order_id, item = self._items[item_id]
        if item_id in self._refused_cancellations:
            return self._refused_cancellations[item_id]
        open_units = units_open(item)
        if open_units == 0:
            return f"Order item {item_id} has already been shipped or cancelled."
        item["quantityCancelled"] += open_units
        item["latestChangedDateTime"] = stamp(datetime.now(UTC))
        self.cancellations.append(
            RecordedCancellation(
                process_status_id=process_id,
                order_id=order_id,
                order_item_id=item_id,
                reason_code=str(requested[0].get("reasonCode", "")),
                units=open_units,
                requested_by_customer=bool(item["cancellationRequest"]),
            )
        )
        return ""

    def _process(
        self,
        request: Request,
        *,
        event_type: str,
        entity_id: str,
        description: str,
        apply: Callable[[str], str],
    ) -> Response:
        """Decide and apply a change now; answer 202 PENDING, as bol does, with its process status."""
        process_id = str(next(self._process_ids))
        if self._timeouts > 0:
            self._timeouts -= 1
            status, error = "TIMEOUT", "The request could not be processed in time. Please try again."
        else:
            error = apply(process_id)
            status = "FAILURE" if error else "SUCCESS"
        # A request on the demo API is followed up on the demo shared API.
        shared = "shared-demo" if request.path.startswith("/retailer-demo/") else "shared"
        process: dict[str, Any] = {
            "processStatusId": process_id,
            "entityId": entity_id,
            "eventType": event_type,
            "description": description,
            "status": status,
            "createTimestamp": stamp(datetime.now(UTC)),
            "links": [
                {"rel": "self", "href": f"{request.host_url}{shared}/process-status/{process_id}", "method": "GET"}
            ],
        }
        if error:
            process["errorMessage"] = error
        self._processes[process_id] = process
        self._pending_left[process_id] = self._slow.pop(entity_id, self.pending_polls)
        return json_answer(202, pending(process))

    def _get_process_status(self, request: Request, process_status_id: str) -> Response:
        shown = self._poll_process(process_status_id)
        if shown is None:
            return problem(404, "Not Found", f"Process status {process_status_id} not found.", request)
        return json_answer(200, shown)

    def _get_process_statuses(self, request: Request) -> Response:
        """The bulk poll (BulkProcessStatusRequest): each known id once, in the order asked; bol
        leaves out the ones it no longer keeps. The spec check has refused more than 1,000 ids."""
        body = json_body(request)
        if body is None:
            return problem(400, "Bad Request", "The body is not a JSON object.", request)
        asked = [
            str(query.get("processStatusId", ""))
            for query in body.get("processStatusQueries") or []
            if isinstance(query, Mapping)
        ]
        shown = [found for process_id in dict.fromkeys(asked) if (found := self._poll_process(process_id))]
        return json_answer(200, {"processStatuses": shown})

    def _poll_process(self, process_status_id: str) -> dict[str, Any] | None:
        """One poll of a process, by either route: PENDING for its first `pending_polls` polls."""
        process = self._processes.get(process_status_id)
        if process is None:
            return None
        if self._pending_left.get(process_status_id, 0) > 0:
            self._pending_left[process_status_id] -= 1
            return pending(process)
        return process

    def _update_stock(self, request: Request, offer_id: str) -> Response:
        if offer_id not in self._offers:
            return problem(404, "Not Found", f"Offer {offer_id} not found.", request)
        body = json_body(request)
        if body is None:
            return problem(400, "Bad Request", "The body is not a JSON object.", request)
        return self._process(
            request,
            event_type="UPDATE_OFFER_STOCK",
            entity_id=offer_id,
            description=f"Update stock for offer {offer_id}.",
            apply=lambda process_id: self._set_stock(process_id, offer_id, body),
        )

    def _set_stock(self, process_id: str, offer_id: str, body: Mapping[str, Any]) -> str:
        """Apply a stock update; the error message bol would report, or '' on success."""
        offer = self._offers[offer_id]
        amount, managed = int(body.get("amount", 0)), bool(body.get("managedByRetailer"))
        error = self._stock_refusals.pop(offer_id, "")
        if not error and offer["fulfilmentMethod"] == "FBB":
            error = f"Offer {offer_id} is fulfilled by bol.com; its stock cannot be updated by the retailer."
        if not error:
            offer["stock"], offer["managedByRetailer"] = amount, managed
            offer["changed"] = datetime.now(UTC)
        self.stock_updates.append(RecordedStockUpdate(process_id, offer_id, amount, managed, applied=not error))
        return error

    def _update_price(self, request: Request, offer_id: str) -> Response:
        if offer_id not in self._offers:
            return problem(404, "Not Found", f"Offer {offer_id} not found.", request)
        body = json_body(request)
        if body is None:
            return problem(400, "Bad Request", "The body is not a JSON object.", request)
        try:
            bundle_prices = [
                (int(entry["quantity"]), Decimal(entry["unitPrice"])) for entry in body["pricing"]["bundlePrices"]
            ]
        except (KeyError, TypeError, ValueError, ArithmeticError):  # only reachable without the spec
            return problem(400, "Bad Request", "The body holds no valid bundle prices.", request)
        # What the spec says in words, beyond its schema: a price for one unit, quantities rising,
        # prices falling, in cents.
        found = bundle_price_violations(bundle_prices)
        if found:
            # The rule is stated in words in the spec's description of the request body.
            where = "bol/retailer.json#/paths/~1retailer~1offers~1{offer-id}~1price/put/requestBody"
            for v in found:
                self.request_violations_log.record(SpecViolation(request.method, request.path, v.name, v.reason, where))
            return problem(400, "Bad Request", "The bundle prices are not valid.", request, violations=found)
        return self._process(
            request,
            event_type="UPDATE_OFFER_PRICE",
            entity_id=offer_id,
            description=f"Update price for offer {offer_id}.",
            apply=lambda process_id: self._set_price(process_id, offer_id, bundle_prices),
        )

    def _set_price(self, process_id: str, offer_id: str, bundle_prices: Sequence[tuple[int, Decimal]]) -> str:
        """Apply a price update; the error message bol would report, or '' on success."""
        error = self._price_refusals.pop(offer_id, "")
        if not error:
            offer = self._offers[offer_id]
            offer["price"] = dict(bundle_prices)[1]
            offer["changed"] = datetime.now(UTC)
        self.price_updates.append(RecordedPriceUpdate(process_id, offer_id, tuple(bundle_prices), applied=not error))
        return error

    def _create_offer_export(self, request: Request) -> Response:
        # The report id is bol's entityId of the finished process; the file holds the offers as
        # they are now, like bol's snapshot.
        report_id = str(uuid.UUID(int=self._rng.getrandbits(128)))
        return self._process(
            request,
            event_type="CREATE_OFFER_EXPORT",
            entity_id=report_id,
            description="Create an offer export.",
            apply=lambda _process_id: self._export_offers(report_id),
        )

    def _export_offers(self, report_id: str) -> str:
        self._exports[report_id] = offer_export_csv(self._offers.values())
        return ""

    def _get_offer_export(self, request: Request, report_id: str) -> Response:
        exported = self._exports.get(report_id)
        if exported is None:
            return problem(404, "Not Found", f"Offer export {report_id} not found.", request)
        return Response(exported, 200, content_type=CSV_CONTENT_TYPE)

    # --- rendering ------------------------------------------------------------------------------
    def _render_item(self, item: SimItem, placed: datetime) -> dict[str, Any]:
        unit_price = Decimal(str(item.unit_price))
        discounts = [{"title": title, "amount": Decimal(str(amount))} for title, amount in item.discounts]
        # What the buyer paid for all units ordered: bol's totalPrice is net of the item's discounts.
        total_price = unit_price * item.quantity - sum((d["amount"] for d in discounts), Decimal(0))
        rendered: dict[str, Any] = {
            "orderItemId": item.order_item_id or str(next(self._item_ids)),
            "cancellationRequest": item.cancellation_request,
            "fulfilment": {
                "method": item.fulfilment_method,
                "distributionParty": "RETAILER" if item.fulfilment_method == "FBR" else "BOL",
                "latestDeliveryDate": (placed + timedelta(days=2)).date().isoformat(),
                "expiryDate": (placed + timedelta(days=5)).date().isoformat(),
                "timeFrameType": "REGULAR",
            },
            "offer": {"offerId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"bol-offer:{item.ean}"))},
            "product": {"ean": item.ean, "title": item.title},
            "quantity": item.quantity,
            "quantityShipped": item.quantity_shipped,
            "quantityCancelled": item.quantity_cancelled,
            "unitPrice": unit_price,
            "totalPrice": total_price,
            "discounts": discounts,
            # bol's commission is roughly 15% of the price; only its shape matters here.
            "commission": (total_price * Decimal("0.15")).quantize(Decimal("0.01")),
            "latestChangedDateTime": stamp(placed),
        }
        if item.offer_reference:
            rendered["offer"]["reference"] = item.offer_reference
        return rendered


def _specs() -> dict[str, OpenApiContract]:
    found = {}
    for prefix, name in (("/retailer", "retailer.json"), ("/shared", "shared.json")):
        try:
            found[prefix] = load_openapi("bol", name)
        except ReferenceMissing:
            continue
    # Shared paths are only checked alongside the Retailer API, never on their own.
    return found if "/retailer" in found else {}
