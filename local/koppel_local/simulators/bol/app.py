"""A bol.com Retailer API v10 simulator, strict where the real API is strict.

A plain WSGI application (werkzeug, no framework): tests mount it in-process with
`httpx.WSGITransport(app=sim)`, the local demo serves it on 127.0.0.1 with `sim.serve()`.

When `../shared/reference/bol/retailer.json` is present, every Retailer request is checked against
the published OpenAPI document (path, method, parameters, Accept, body); a request bol would refuse
gets 400 and lands in `sim.violations`, so a connector bug fails the test instead of passing
against a lenient fake. The simulator also checks its own 2xx bodies against the response schemas
(`sim.response_violations`). Without the reference file it serves the same answers, unchecked.

What it keeps: orders (spec-shaped dicts), offers, tokens, shipments, cancellations, stock and
price updates, process statuses, a request log, a fixed-window rate limit per endpoint group,
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
import csv
import io
import json
import math
import random
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jsonschema.protocols import Validator
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.http import HTTP_STATUS_CODES, parse_accept_header
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from koppel_local.reference import reference_file

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

MEDIA_TYPE = "application/vnd.retailer.v10+json"
RESPONSE_CONTENT_TYPE = f"{MEDIA_TYPE};charset=UTF-8"
CSV_CONTENT_TYPE = "text/csv;charset=UTF-8"  # what bol's v10 demo answers an offers export with
PAGE_SIZE = 50
TOKEN_TTL_SECONDS = 299
PROBLEM_TYPE = "https://api.bol.com/problems"
HOST_ID = "koppel-simulator"
API_PREFIXES = ("/retailer", "/shared")
# The simulator's own credentials, the same on every laptop; they open nothing real.
DEMO_CLIENT_ID = "koppel-sim-client"
DEMO_CLIENT_SECRET = "koppel-sim-secret"  # noqa: S105


# --- configuration and records ------------------------------------------------------------------
@dataclass(frozen=True)
class RateLimit:
    """At most `calls` requests per `window_seconds`, counted per endpoint group."""

    calls: int
    window_seconds: float = 1.0


DEFAULT_RATE_LIMIT = RateLimit(calls=25, window_seconds=1.0)


@dataclass(frozen=True)
class Violation:
    """One reason a request does not meet the spec, shaped like bol's own `Violation`."""

    name: str
    reason: str


@dataclass(frozen=True)
class SpecViolation:
    method: str
    path: str
    name: str
    reason: str


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    group: str
    status: int
    body: str = ""  # as sent, e.g. a shipment request's JSON


@dataclass(frozen=True)
class RecordedShipment:
    shipment_id: str
    process_status_id: str
    order_id: str
    order_item_ids: tuple[str, ...]
    transporter_code: str
    track_and_trace: str
    shipment_reference: str
    shipping_label_id: str


@dataclass(frozen=True)
class RecordedCancellation:
    process_status_id: str
    order_id: str
    order_item_id: str
    reason_code: str
    units: int
    requested_by_customer: bool  # the buyer had asked for it (cancellationRequest was true)


@dataclass(frozen=True)
class RecordedStockUpdate:
    process_status_id: str
    offer_id: str
    amount: int
    managed_by_retailer: bool
    applied: bool  # False: the process ended in FAILURE or TIMEOUT and the stock stayed as it was


@dataclass(frozen=True)
class RecordedPriceUpdate:
    process_status_id: str
    offer_id: str
    bundle_prices: tuple[tuple[int, Decimal], ...]  # (quantity, unit price incl. VAT), as sent
    applied: bool  # False: the process ended in FAILURE or TIMEOUT and the price stayed as it was


# The columns of bol's v10 offers export, in bol's order (Retailer API v10 demo endpoints).
OFFER_EXPORT_COLUMNS = (
    "offerId",
    "ean",
    "conditionName",
    "conditionCategory",
    "conditionComment",
    "bundlePricesPrice",
    "fulfilmentDeliveryCode",
    "stockAmount",
    "onHoldByRetailer",
    "fulfilmentType",
    "mutationDateTime",
    "referenceCode",
)


@dataclass
class SimItem:
    """One order item as a test describes it; the simulator renders it as bol's `OrderOrderItem`."""

    ean: str
    title: str
    unit_price: Decimal | str | int
    quantity: int = 1
    offer_reference: str = ""
    quantity_shipped: int = 0
    quantity_cancelled: int = 0
    cancellation_request: bool = False
    fulfilment_method: str = "FBR"
    order_item_id: str = ""
    # (promotion title, amount incl. VAT off the whole item), as bol lists them in `discounts`.
    discounts: tuple[tuple[str, Decimal | str | int], ...] = ()


@dataclass
class _Window:
    started: float
    used: int = 0


@dataclass
class _Fault:
    remaining: int
    status: int
    group: str | None
    retry_after: int


# --- OpenAPI request/response checking ----------------------------------------------------------
class OpenApiSpec:
    """Checks HTTP requests and response bodies against one OpenAPI 3.0 document.

    Schemas are validated in place inside the document (by JSON pointer), so `$ref`s resolve
    against it wherever they point.
    """

    def __init__(self, document: Mapping[str, Any], uri: str) -> None:
        self.document = document
        self._uri = uri
        resource = Resource.from_contents(document, default_specification=DRAFT4)
        self._registry: Registry[Any] = Registry().with_resource(uri, resource)
        # Literal paths win over templated ones (/orders/cancellation before /orders/{order-id}).
        templates = sorted(document["paths"], key=lambda template: (template.count("{"), -len(template)))
        self._patterns = [(template, _template_regex(template)) for template in templates]
        self._validators: dict[tuple[str, bool], Validator] = {}

    def check_request(
        self, method: str, path: str, query: MultiDict[str, str], headers: Headers, body: bytes
    ) -> list[Violation]:
        found = self._operation(method, path)
        if isinstance(found, Violation):
            return [found]
        template, path_values, operation, pointer = found
        return [
            *self._check_parameters(template, pointer, path_values, query, headers),
            *self._check_accept(operation, headers),
            *self._check_body(operation, pointer, headers, body),
        ]

    def check_response(self, method: str, path: str, status: int, content_type: str, body: bytes) -> list[Violation]:
        found = self._operation(method, path)
        if isinstance(found, Violation):
            return [found]
        _, _, operation, pointer = found
        if str(status) not in operation.get("responses", {}):
            return [Violation("status", f"{status} is not a documented answer")]
        response, response_pointer = self._resolve(operation["responses"][str(status)], f"{pointer}/responses/{status}")
        if "content" not in response:
            return []  # documented without a body schema (the offers export file): nothing to check
        media_type = _media_type(content_type)
        if media_type not in response.get("content", {}):
            return [Violation("Content-Type", f"{media_type} is not documented for {status}")]
        schema_pointer = f"{response_pointer}/content/{_escape(media_type)}/schema"
        return self._schema_errors(schema_pointer, json.loads(body), "body", write=False)

    # --- matching -------------------------------------------------------------------------------
    def _operation(self, method: str, path: str) -> tuple[str, dict[str, str], dict[str, Any], str] | Violation:
        for template, pattern in self._patterns:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            operation = self.document["paths"][template].get(method.lower())
            if operation is None:
                return Violation("method", f"{method} is not allowed on {template}")
            return template, match.groupdict(), operation, f"/paths/{_escape(template)}/{method.lower()}"
        return Violation("path", f"{path} is not a path of this API")

    def _resolve(self, node: Mapping[str, Any], pointer: str) -> tuple[Mapping[str, Any], str]:
        while "$ref" in node:
            pointer = node["$ref"].removeprefix("#")
            node = self._registry.resolver(self._uri).lookup(f"{self._uri}#{pointer}").contents
        return node, pointer

    # --- parts of a request ---------------------------------------------------------------------
    def _check_parameters(
        self,
        template: str,
        pointer: str,
        path_values: Mapping[str, str],
        query: MultiDict[str, str],
        headers: Headers,
    ) -> list[Violation]:
        declared = self._declared_parameters(template, pointer)
        violations: list[Violation] = []
        for (location, name), (parameter, parameter_pointer) in declared.items():
            values = _supplied(location, name, path_values, query, headers)
            if not values:
                if parameter.get("required"):
                    violations.append(Violation(name, f"required {location} parameter is missing"))
                continue
            schema, schema_pointer = self._resolve(parameter.get("schema", {}), f"{parameter_pointer}/schema")
            value, problem = _coerce(values, schema)
            if problem:
                violations.append(Violation(name, problem))
                continue
            violations.extend(self._schema_errors(schema_pointer, value, name, write=True))
        known = {name for location, name in declared if location == "query"}
        violations.extend(Violation(name, "unknown query parameter") for name in query if name not in known)
        return violations

    def _declared_parameters(self, template: str, pointer: str) -> dict[tuple[str, str], tuple[Mapping[str, Any], str]]:
        path_item_pointer = f"/paths/{_escape(template)}"
        path_item = self.document["paths"][template]
        operation = path_item[pointer.rsplit("/", 1)[1]]
        declared: dict[tuple[str, str], tuple[Mapping[str, Any], str]] = {}
        # Operation-level parameters override path-level ones with the same name and location.
        for owner, owner_pointer in ((path_item, path_item_pointer), (operation, pointer)):
            for index, raw in enumerate(owner.get("parameters", [])):
                parameter, parameter_pointer = self._resolve(raw, f"{owner_pointer}/parameters/{index}")
                declared[(parameter["in"], parameter["name"])] = (parameter, parameter_pointer)
        return declared

    def _check_accept(self, operation: Mapping[str, Any], headers: Headers) -> list[Violation]:
        produced = {
            media_type
            for response in operation.get("responses", {}).values()
            for media_type in self._resolve(response, "")[0].get("content", {})
        }
        if not produced:
            return []
        accepted = {_media_type(value) for value, _quality in parse_accept_header(headers.get("Accept"))}
        if accepted & produced:
            return []
        expected = " or ".join(sorted(produced))
        return [Violation("Accept", f"expected {expected}, got '{headers.get('Accept', '')}'")]

    def _check_body(self, operation: Mapping[str, Any], pointer: str, headers: Headers, body: bytes) -> list[Violation]:
        if "requestBody" not in operation:
            return [Violation("body", "this operation takes no request body")] if body else []
        request_body, body_pointer = self._resolve(operation["requestBody"], f"{pointer}/requestBody")
        if not body:
            return [Violation("body", "a request body is required")] if request_body.get("required") else []
        media_type = _media_type(headers.get("Content-Type", ""))
        content = request_body.get("content", {})
        if media_type not in content:
            return [Violation("Content-Type", f"expected {' or '.join(sorted(content))}, got '{media_type}'")]
        if not media_type.endswith("json"):
            return []
        try:
            instance = json.loads(body)
        except ValueError:
            return [Violation("body", "not valid JSON")]
        return self._schema_errors(f"{body_pointer}/content/{_escape(media_type)}/schema", instance, "body", write=True)

    def _schema_errors(self, pointer: str, instance: object, name: str, *, write: bool) -> list[Violation]:
        key = (pointer, write)
        if key not in self._validators:
            kind = OAS30WriteValidator if write else OAS30ReadValidator
            self._validators[key] = kind(
                {"$ref": f"{self._uri}#{pointer}"},
                registry=self._registry,
                format_checker=oas30_format_checker,
            )
        errors = sorted(self._validators[key].iter_errors(instance), key=lambda error: list(map(str, error.path)))
        return [Violation(_error_location(name, error.absolute_path), error.message) for error in errors]


@cache
def load_spec(path: Path, uri: str) -> OpenApiSpec:
    """Parsed once per process: the Retailer document is half a megabyte."""
    return OpenApiSpec(json.loads(path.read_text(encoding="utf-8")), uri)


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = "".join(f"(?P<{_group_name(part)}>[^/]+)" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(pattern)


def _group_name(placeholder: str) -> str:
    # Regex group names cannot hold '-': 'order-id' becomes 'order__id' and back in _supplied.
    return placeholder.strip("{}").replace("-", "__")


def _supplied(
    location: str, name: str, path_values: Mapping[str, str], query: MultiDict[str, str], headers: Headers
) -> list[str]:
    if location == "path":
        value = path_values.get(name.replace("-", "__"))
        return [value] if value is not None else []
    if location == "query":
        return query.getlist(name)
    if location == "header":
        return headers.getlist(name)
    return []  # cookies: bol uses none


def _coerce(values: list[str], schema: Mapping[str, Any]) -> tuple[object, str]:
    """The typed value of a query/path/header parameter, or a reason it has none."""
    if schema.get("type") == "array":
        items = [_scalar(value, schema.get("items", {})) for value in values]
        problems = [problem for _, problem in items if problem]
        return [value for value, _ in items], "; ".join(problems)
    if len(values) > 1:
        return None, "given more than once"
    return _scalar(values[0], schema)


def _scalar(text: str, schema: Mapping[str, Any]) -> tuple[object, str]:
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(text), ""
        except ValueError:
            return None, f"'{text}' is not an integer"
    if kind == "number":
        try:
            return Decimal(text), ""
        except InvalidOperation:
            return None, f"'{text}' is not a number"
    if kind == "boolean":
        if text not in ("true", "false"):
            return None, f"'{text}' is not a boolean (true or false)"
        return text == "true", ""
    return text, ""


def _error_location(name: str, path: Iterable[str | int]) -> str:
    location = name
    for part in path:
        location += f"[{part}]" if isinstance(part, int) else f".{part}"
    return location.removeprefix("body.")


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


# --- the simulator ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    group: str
    handler: str


_ROUTES = (
    _Route("POST", re.compile(r"/token"), "token", "_issue_token"),
    _Route("GET", re.compile(r"/retailer(?:-demo)?/orders"), "orders", "_list_orders"),
    _Route("GET", re.compile(r"/retailer(?:-demo)?/orders/(?P<order_id>[^/]+)"), "order", "_get_order"),
    _Route("POST", re.compile(r"/retailer(?:-demo)?/shipments"), "shipments", "_create_shipment"),
    _Route("PUT", re.compile(r"/retailer(?:-demo)?/orders/cancellation"), "cancellation", "_cancel_order_item"),
    _Route("PUT", re.compile(r"/retailer(?:-demo)?/offers/(?P<offer_id>[^/]+)/stock"), "offer-stock", "_update_stock"),
    _Route("PUT", re.compile(r"/retailer(?:-demo)?/offers/(?P<offer_id>[^/]+)/price"), "offer-price", "_update_price"),
    _Route("POST", re.compile(r"/retailer(?:-demo)?/offers/export"), "offer-export", "_create_offer_export"),
    _Route(
        "GET",
        re.compile(r"/retailer(?:-demo)?/offers/export/(?P<report_id>[^/]+)"),
        "offer-export-file",
        "_get_offer_export",
    ),
    _Route(
        "GET",
        re.compile(r"/shared(?:-demo)?/process-status/(?P<process_status_id>[^/]+)"),
        "process-status",
        "_get_process_status",
    ),
)


class BolSimulator:
    """bol.com's token endpoint, orders, shipments, cancellations, offer stock and export, and
    process status, in one WSGI app."""

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
        self.client_id = client_id
        self.client_secret = client_secret
        self.rate_limit = rate_limit
        self.rate_limits: dict[str, RateLimit] = dict(rate_limits or {})
        self.retry_after_header = retry_after_header
        self.latency_seconds = latency_seconds
        self.token_ttl_seconds = token_ttl_seconds
        # How many polls of a new process status still answer PENDING before its outcome shows.
        self.pending_polls = pending_polls
        self._clock = clock
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._specs = _specs() if validate else {}
        # What tests look at.
        self.violations: list[SpecViolation] = []
        self.response_violations: list[SpecViolation] = []
        self.request_log: list[LoggedRequest] = []
        self.shipments: list[RecordedShipment] = []
        self.cancellations: list[RecordedCancellation] = []
        self.stock_updates: list[RecordedStockUpdate] = []
        self.price_updates: list[RecordedPriceUpdate] = []
        self.token_requests = 0
        # State.
        self._orders: dict[str, dict[str, Any]] = {}
        self._items: dict[str, tuple[str, dict[str, Any]]] = {}
        self._tokens: dict[str, float] = {}
        self._processes: dict[str, dict[str, Any]] = {}
        self._pending_left: dict[str, int] = {}
        self._timeouts = 0
        self._offers: dict[str, dict[str, Any]] = {}
        self._stock_refusals: dict[str, str] = {}  # offer id → the errorMessage of its next update
        self._price_refusals: dict[str, str] = {}  # offer id → the errorMessage of its next price update
        self._exports: dict[str, str] = {}  # report id → the CSV as it was when requested
        self._windows: dict[str, _Window] = {}
        self._faults: list[_Fault] = []
        self._order_ids = count(1_200_000_001)
        self._item_ids = count(2_600_000_001)
        self._process_ids = count(1)

    @property
    def validating(self) -> bool:
        return "/retailer" in self._specs

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
        shipping = dict(shipment_details) if shipment_details is not None else _dutch_person(self._rng)
        order: dict[str, Any] = {
            "orderId": order_id,
            "pickupPoint": pickup_point,
            "orderPlacedDateTime": _stamp(placed),
            "shipmentDetails": shipping,
            "billingDetails": dict(billing_details) if billing_details is not None else _billing_from(shipping),
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
        chosen = items if items is not None else _sample_items(self._rng)
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
            open_units = _open_units(item)
            item["quantityCancelled"] += open_units if quantity is None else min(quantity, open_units)
            item["cancellationRequest"] = by_customer
            item["latestChangedDateTime"] = _stamp(datetime.now(UTC))

    def request_cancellation(self, order_item_id: str) -> None:
        """The buyer asks to cancel an item: it stays open, flagged, until the retailer confirms
        (PUT /orders/cancellation with REQUESTED_BY_CUSTOMER) or ships it anyway."""
        with self._lock:
            _, item = self._items[order_item_id]
            item["cancellationRequest"] = True
            item["latestChangedDateTime"] = _stamp(datetime.now(UTC))

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
            now = self._clock()
            self._tokens = dict.fromkeys(self._tokens, now)

    def fail_next(self, times: int, status: int = 500, *, group: str | None = None, retry_after: int = 4) -> None:
        """Answer the next `times` requests of `group` (default: any API request, not the token
        endpoint) with `status`, shaped like bol's own: a 429 carries `Retry-After: retry_after`
        unless `retry_after_header` is off, and, as in bol's samples, no rate-limit headers."""
        with self._lock:
            self._faults.append(_Fault(times, status, group, retry_after))

    def calls(self, group: str) -> list[LoggedRequest]:
        return [logged for logged in self.request_log if logged.group == group]

    def process_status(self, process_status_id: str) -> dict[str, Any]:
        """The process as it ends, however often it has been polled so far."""
        with self._lock:
            return copy.deepcopy(self._processes[process_status_id])

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
        """A threaded HTTP server for this app; call `serve_forever()` on it (port 0: any free port)."""
        return make_server(host, port, self, threaded=True)

    # --- WSGI -----------------------------------------------------------------------------------
    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if self.latency_seconds > 0:
            self._sleep(self.latency_seconds)
        with self._lock:
            route, params = _route(request)
            group = route.group if route else "unknown"
            response = self._answer(request, route, params, group)
            self.request_log.append(
                LoggedRequest(
                    method=request.method,
                    path=request.path,
                    query=request.args.to_dict(),
                    headers=dict(request.headers.items()),
                    group=group,
                    status=response.status_code,
                    body=request.get_data(as_text=True),
                )
            )
        return response(environ, start_response)

    def _answer(self, request: Request, route: _Route | None, params: dict[str, str], group: str) -> Response:
        fault = self._take_fault(group)
        if fault is not None:
            return self._fault_response(fault, request)
        admitted, limit_headers = self._admit(group)
        if not admitted:
            response = self._too_many_requests(int(limit_headers["X-RateLimit-Reset"]))
        elif route is not None and route.group == "token":
            response = self._issue_token(request)
        else:
            response = self._authenticated_answer(request, route, params)
        response.headers.update(limit_headers)
        return response

    def _authenticated_answer(self, request: Request, route: _Route | None, params: dict[str, str]) -> Response:
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        invalid = self._validate(request)
        if invalid is not None:
            return invalid
        if route is None:
            return _problem(
                501,
                "Not Implemented",
                f"The simulator does not serve {request.method} {request.path}.",
                request,
            )
        response: Response = getattr(self, route.handler)(request, **params)
        self._check_own_answer(request, response)
        return response

    # --- cross-cutting behaviour ----------------------------------------------------------------
    def _take_fault(self, group: str) -> _Fault | None:
        for fault in self._faults:
            applies = fault.group == group if fault.group is not None else group != "token"
            if applies and fault.remaining > 0:
                fault.remaining -= 1
                return fault
        return None

    def _fault_response(self, fault: _Fault, request: Request) -> Response:
        if fault.status == 429:
            return self._too_many_requests(fault.retry_after)
        if fault.status >= 500:
            # bol's gateway answers server errors with plain HTML, not a problem body.
            return Response(
                HTTP_STATUS_CODES.get(fault.status, "Error"),
                fault.status,
                content_type="text/html; charset=UTF-8",
            )
        return _problem(fault.status, HTTP_STATUS_CODES.get(fault.status, "Error"), "Injected fault.", request)

    def _admit(self, group: str) -> tuple[bool, dict[str, str]]:
        """Fixed window per endpoint group; the headers bol sends with every answer."""
        limit = self.rate_limits.get(group, self.rate_limit)
        now = self._clock()
        window = self._windows.setdefault(group, _Window(started=now))
        if now >= window.started + limit.window_seconds:
            window.started, window.used = now, 0
        reset = max(1, math.ceil(window.started + limit.window_seconds - now))
        admitted = window.used < limit.calls
        if admitted:
            window.used += 1
        headers = {
            "X-RateLimit-Limit": str(limit.calls),
            "X-RateLimit-Remaining": str(limit.calls - window.used),
            "X-RateLimit-Reset": str(reset),
        }
        return admitted, headers

    def _too_many_requests(self, retry_after: int) -> Response:
        body = {
            "title": "Too Many Requests",
            "status": 429,
            "detail": f"Too many requests, retry in {retry_after} seconds.",
        }
        response = _json(429, body)
        if self.retry_after_header:
            response.headers["Retry-After"] = str(retry_after)
        return response

    def _authenticate(self, request: Request) -> Response | None:
        auth = request.authorization
        if auth is None or auth.type != "bearer" or not auth.token:
            return _json(401, {"title": "Unauthorized", "status": 401, "detail": "A bearer token is required."})
        expires_at = self._tokens.get(auth.token)
        if expires_at is None:
            return _json(401, {"title": "Invalid JWT", "status": 401, "detail": "The token was not issued here."})
        if self._clock() >= expires_at:
            late = self._clock() - expires_at
            detail = f"JWT expired {late:.0f} seconds ago. Allowed clock skew: 1000 milliseconds."
            return _json(401, {"title": "Expired JWT", "status": 401, "detail": detail})
        return None

    def _validate(self, request: Request) -> Response | None:
        spec_path, spec = self._spec_for(request.path)
        if spec is None:
            return None
        found = spec.check_request(request.method, spec_path, request.args, request.headers, request.get_data())
        if not found:
            return None
        self.violations.extend(SpecViolation(request.method, request.path, v.name, v.reason) for v in found)
        return _problem(
            400,
            "Error validating request. Consult the bol.com API documentation for more information.",
            "Bad request",
            request,
            violations=found,
        )

    def _check_own_answer(self, request: Request, response: Response) -> None:
        spec_path, spec = self._spec_for(request.path)
        # bol answers an empty order page with `{ }`, although the schema requires `orders`.
        if spec is None or not 200 <= response.status_code < 300 or response.get_data() == b"{ }":
            return
        found = spec.check_response(
            request.method, spec_path, response.status_code, response.content_type or "", response.get_data()
        )
        self.response_violations.extend(SpecViolation(request.method, request.path, v.name, v.reason) for v in found)

    def _spec_for(self, path: str) -> tuple[str, OpenApiSpec | None]:
        """The spec that covers `path`, and the path as that spec spells it (demo paths included)."""
        for prefix in API_PREFIXES:
            for served in (prefix, f"{prefix}-demo"):
                if path == served or path.startswith(f"{served}/"):
                    return prefix + path.removeprefix(served), self._specs.get(prefix)
        # A path under neither API is itself a violation: check it against the Retailer API.
        return path, self._specs.get("/retailer")

    # --- endpoints ------------------------------------------------------------------------------
    def _issue_token(self, request: Request) -> Response:
        self.token_requests += 1
        auth = request.authorization
        known = (
            auth is not None
            and auth.type == "basic"
            and (auth.username, auth.password)
            == (
                self.client_id,
                self.client_secret,
            )
        )
        if not known:
            body = {"error": "invalid_client", "error_description": "Bad client credentials"}
            return _json(401, body, content_type="application/json;charset=UTF-8")
        grant = request.args.get("grant_type") or request.form.get("grant_type")
        if grant != "client_credentials":
            body = {
                "error": "unsupported_grant_type",
                "error_description": "Only client_credentials is supported",
            }
            return _json(400, body, content_type="application/json;charset=UTF-8")
        token = secrets.token_urlsafe(32)
        self._tokens[token] = self._clock() + self.token_ttl_seconds
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_ttl_seconds,
            "scope": "RETAILER",
        }
        return _json(200, body, content_type="application/json;charset=UTF-8")

    def _list_orders(self, request: Request) -> Response:
        status = request.args.get("status", "OPEN")
        method = request.args.get("fulfilment-method", "FBR")
        try:
            page = int(request.args.get("page", "1"))
        except ValueError:
            page = 0
        if page < 1:
            return _problem(400, "Bad Request", "page must be a whole number from 1.", request)
        listed = [reduced for order in self._orders.values() if (reduced := _reduced(order, status, method))]
        chunk = listed[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return _json(200, {"orders": chunk} if chunk else {})

    def _get_order(self, request: Request, order_id: str) -> Response:
        order = self._orders.get(order_id)
        if order is None:
            return _problem(404, "Not Found", f"Order {order_id} not found.", request)
        return _json(200, order)

    def _create_shipment(self, request: Request) -> Response:
        body = _json_body(request)
        if body is None:
            return _problem(400, "Bad Request", "The body is not a JSON object.", request)
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
            open_units = _open_units(item)
            if open_units == 0:
                return f"Order item {item_id} has already been shipped or cancelled."
            # Without a quantity bol ships every unit still open.
            units = open_units if entry.get("quantity") is None else int(entry["quantity"])
            if not 0 < units <= open_units:
                return f"Order item {item_id} has {open_units} open unit(s); cannot ship {units}."
            planned.append((order_id, item, units))
        if len({order_id for order_id, _, _ in planned}) != 1:
            return "All order items of one shipment must belong to the same order."
        changed = _stamp(datetime.now(UTC))
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
        body = _json_body(request)
        if body is None:
            return _problem(400, "Bad Request", "The body is not a JSON object.", request)
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
        open_units = _open_units(item)
        if open_units == 0:
            return f"Order item {item_id} has already been shipped or cancelled."
        item["quantityCancelled"] += open_units
        item["latestChangedDateTime"] = _stamp(datetime.now(UTC))
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
            "createTimestamp": _stamp(datetime.now(UTC)),
            "links": [
                {"rel": "self", "href": f"{request.host_url}{shared}/process-status/{process_id}", "method": "GET"}
            ],
        }
        if error:
            process["errorMessage"] = error
        self._processes[process_id] = process
        self._pending_left[process_id] = self.pending_polls
        return _json(202, _pending(process))

    def _get_process_status(self, request: Request, process_status_id: str) -> Response:
        process = self._processes.get(process_status_id)
        if process is None:
            return _problem(404, "Not Found", f"Process status {process_status_id} not found.", request)
        if self._pending_left.get(process_status_id, 0) > 0:
            self._pending_left[process_status_id] -= 1
            return _json(200, _pending(process))
        return _json(200, process)

    def _update_stock(self, request: Request, offer_id: str) -> Response:
        if offer_id not in self._offers:
            return _problem(404, "Not Found", f"Offer {offer_id} not found.", request)
        body = _json_body(request)
        if body is None:
            return _problem(400, "Bad Request", "The body is not a JSON object.", request)
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
            return _problem(404, "Not Found", f"Offer {offer_id} not found.", request)
        body = _json_body(request)
        if body is None:
            return _problem(400, "Bad Request", "The body is not a JSON object.", request)
        try:
            bundle_prices = [
                (int(entry["quantity"]), Decimal(entry["unitPrice"])) for entry in body["pricing"]["bundlePrices"]
            ]
        except (KeyError, TypeError, ValueError, ArithmeticError):  # only reachable without the spec
            return _problem(400, "Bad Request", "The body holds no valid bundle prices.", request)
        # What the spec says in words, beyond its schema: a price for one unit, quantities rising,
        # prices falling, in cents.
        found = _bundle_price_violations(bundle_prices)
        if found:
            self.violations.extend(SpecViolation(request.method, request.path, v.name, v.reason) for v in found)
            return _problem(400, "Bad Request", "The bundle prices are not valid.", request, violations=found)
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
        self._exports[report_id] = _offer_export_csv(self._offers.values())
        return ""

    def _get_offer_export(self, request: Request, report_id: str) -> Response:
        exported = self._exports.get(report_id)
        if exported is None:
            return _problem(404, "Not Found", f"Offer export {report_id} not found.", request)
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
            "latestChangedDateTime": _stamp(placed),
        }
        if item.offer_reference:
            rendered["offer"]["reference"] = item.offer_reference
        return rendered


def _specs() -> dict[str, OpenApiSpec]:
    found = {}
    for prefix, name in (("/retailer", "retailer.json"), ("/shared", "shared.json")):
        path = reference_file("bol", name)
        if path is not None:
            found[prefix] = load_spec(path, f"urn:bol:{name}")
    # Shared paths are only checked alongside the Retailer API, never on their own.
    return found if "/retailer" in found else {}


def _route(request: Request) -> tuple[_Route | None, dict[str, str]]:
    for route in _ROUTES:
        match = route.pattern.fullmatch(request.path)
        if match is not None and request.method == route.method:
            return route, match.groupdict()
    return None, {}


def _offer_export_csv(offers: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OFFER_EXPORT_COLUMNS)
    for offer in offers:
        writer.writerow(
            (
                offer["offerId"],
                offer["ean"],
                offer["condition"],
                "NEW" if offer["condition"] == "NEW" else "SECONDHAND",
                "",
                str(offer["price"]),
                offer["deliveryCode"],
                offer["stock"],
                "false",
                offer["fulfilmentMethod"],
                offer["changed"].strftime("%Y-%m-%d %H:%M:%S.") + f"{offer['changed'].microsecond // 1000:03d} UTC",
                offer["reference"],
            )
        )
    return out.getvalue()


def _open_units(item: Mapping[str, Any]) -> int:
    return int(item["quantity"]) - int(item["quantityShipped"]) - int(item["quantityCancelled"])


def _reduced(order: Mapping[str, Any], status: str, method: str) -> dict[str, Any] | None:
    """The order as a `ReducedOrder` with the items the filters select; None when none do."""
    items = [
        {
            "orderItemId": item["orderItemId"],
            "ean": item["product"]["ean"],
            "fulfilmentMethod": item["fulfilment"]["method"],
            "fulfilmentStatus": "OPEN" if _open_units(item) > 0 else "HANDLED",
            "quantity": item["quantity"],
            "quantityShipped": item["quantityShipped"],
            "quantityCancelled": item["quantityCancelled"],
            "cancellationRequest": item["cancellationRequest"],
            "latestChangedDateTime": item["latestChangedDateTime"],
        }
        for item in order["orderItems"]
        if method in ("ALL", item["fulfilment"]["method"]) and _status_matches(item, status)
    ]
    if not items:
        return None
    return {
        "orderId": order["orderId"],
        "orderPlacedDateTime": order["orderPlacedDateTime"],
        "orderItems": items,
    }


def _status_matches(item: Mapping[str, Any], status: str) -> bool:
    if status == "OPEN":
        return _open_units(item) > 0
    if status == "SHIPPED":
        return int(item["quantityShipped"]) > 0
    return status == "ALL"


def _bundle_price_violations(bundle_prices: Sequence[tuple[int, Decimal]]) -> list[Violation]:
    found = []
    quantities = [quantity for quantity, _ in bundle_prices]
    if 1 not in quantities:
        found.append(Violation("pricing.bundlePrices", "a bundle price for quantity 1 is required"))
    if quantities != sorted(set(quantities)):
        found.append(Violation("pricing.bundlePrices", "quantities must be in increasing order"))
    prices = [price for _, price in bundle_prices]
    if prices != sorted(set(prices), reverse=True):
        found.append(Violation("pricing.bundlePrices", "unit prices must be in decreasing order"))
    found.extend(
        Violation(f"pricing.bundlePrices[{index}].unitPrice", f"{price} has more than 2 decimals")
        for index, (_, price) in enumerate(bundle_prices)
        if not price.is_finite() or int(price.as_tuple().exponent) < -2
    )
    return found


def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(request.get_data(), parse_float=Decimal)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _pending(process: Mapping[str, Any]) -> dict[str, Any]:
    """The process as bol shows it while it is still being worked on."""
    return {**{key: value for key, value in process.items() if key != "errorMessage"}, "status": "PENDING"}


def _problem(
    status: int, title: str, detail: str, request: Request, *, violations: Sequence[Violation] = ()
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE,
        "title": title,
        "status": status,
        "detail": detail,
        "host": HOST_ID,
        "instance": request.base_url,
    }
    if violations:
        body["violations"] = [{"name": v.name, "reason": v.reason} for v in violations]
    return _json(status, body)


def _json(status: int, body: Mapping[str, Any], *, content_type: str = RESPONSE_CONTENT_TYPE) -> Response:
    return Response(_dumps(body), status, content_type=content_type)


def _dumps(value: object) -> str:
    """JSON with Decimals written digit for digit, as bol writes its prices (the stdlib cannot)."""
    if isinstance(value, Mapping):
        if not value:
            return "{ }"  # how bol spells an empty object, e.g. an empty order page
        return "{" + ", ".join(f"{json.dumps(str(key))}: {_dumps(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_dumps(item) for item in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


# --- invented Dutch customers and products ------------------------------------------------------
_FIRST_NAMES = (
    ("Sanne", "FEMALE"),
    ("Daan", "MALE"),
    ("Femke", "FEMALE"),
    ("Joost", "MALE"),
    ("Lotte", "FEMALE"),
    ("Bram", "MALE"),
    ("Noor", "FEMALE"),
    ("Thijs", "MALE"),
    ("Robin", "UNKNOWN"),
)
_SURNAMES = (
    "de Vries",
    "Jansen",
    "van Dijk",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "van Leeuwen",
)
_STREETS = (
    "Lindenlaan",
    "Kerkstraat",
    "Molenweg",
    "Havenkade",
    "Beukenlaan",
    "Schoolstraat",
    "Dijkweg",
    "Populierenhof",
)
_CITIES = (
    ("Utrecht", "3512"),
    ("Zwolle", "8011"),
    ("Groningen", "9712"),
    ("Haarlem", "2011"),
    ("Delft", "2611"),
    ("Breda", "4811"),
    ("Arnhem", "6811"),
    ("Leiden", "2312"),
)
_POSTCODE_LETTERS = "ABCEGHJKLMNPRTVWXZ"
# (title, price incl. VAT, offer reference; empty: the retailer set none, so the EAN identifies it)
_PRODUCTS = (
    ("Koffiebonen Arabica, 1 kg", "14.95", "KOF-ARA-1000"),
    ("Linnen theedoeken, set van 3", "12.50", "THD-LIN-3"),
    ("Oplaadbare fietslamp LED", "24.99", ""),
    ("Legpuzzel Grachtengordel, 1000 stukjes", "17.99", "PZL-GRA-1000"),
    ("RVS drinkfles 750 ml", "19.95", "FLS-RVS-750"),
    ("Wollen plaid, oker", "39.00", "PLD-WOL-OKR"),
)


def sample_ean(index: int) -> str:
    """A valid EAN-13 (correct check digit) for the index-th invented product."""
    body = f"8719{index:08d}"
    total = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _sample_items(rng: random.Random) -> list[SimItem]:
    chosen = rng.sample(range(len(_PRODUCTS)), k=rng.randint(1, 3))
    return [
        SimItem(
            ean=sample_ean(index),
            title=_PRODUCTS[index][0],
            unit_price=Decimal(_PRODUCTS[index][1]),
            quantity=rng.choice((1, 1, 1, 2, 3)),
            offer_reference=_PRODUCTS[index][2],
        )
        for index in chosen
    ]


def _dutch_person(rng: random.Random) -> dict[str, Any]:
    first_name, salutation = rng.choice(_FIRST_NAMES)
    city, postcode_digits = rng.choice(_CITIES)
    person: dict[str, Any] = {
        "salutation": salutation,
        "firstName": first_name,
        "surname": rng.choice(_SURNAMES),
        "streetName": rng.choice(_STREETS),
        "houseNumber": str(rng.randint(1, 240)),
        "zipCode": postcode_digits + "".join(rng.choices(_POSTCODE_LETTERS, k=2)),
        "city": city,
        "countryCode": "NL",
        # bol hands out scrambled relay addresses, never the buyer's own.
        "email": f"{rng.getrandbits(120):030x}@verkopen.bol.example",
        "language": "nl",
    }
    if rng.random() < 0.2:
        person["houseNumberExtension"] = rng.choice(("A", "B", "2", "bis"))
    return person


_BILLING_FIELDS = frozenset(
    {
        "salutation",
        "firstName",
        "surname",
        "streetName",
        "houseNumber",
        "houseNumberExtension",
        "extraAddressInformation",
        "zipCode",
        "city",
        "countryCode",
        "email",
        "company",
        "vatNumber",
        "kvkNumber",
        "orderReference",
    }
)


def _billing_from(shipping: Mapping[str, Any]) -> dict[str, Any]:
    """A consumer usually pays where the parcel goes: billing mirrors shipping."""
    return {key: value for key, value in shipping.items() if key in _BILLING_FIELDS}
