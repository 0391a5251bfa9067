"""A KORONA.cloud API v3 simulator on the kit: articles, price groups, organizational units and stock.

It follows `../shared/reference/korona/korona-cloud-api-v3.swagger.json` (OpenAPI 3.0.3,
"3.2-SNAPSHOT"), with `../shared/reference/FACTS-systems-2.md` §1.1 for what the spec leaves out.
Every request and every 2xx answer is checked against that document (strict: a request off it is
refused 400 with a `BadRequestErrorModel` and fails the test that sent it). Without the reference
file, loading the contract raises `ReferenceMissing` and the tests that need it are skipped.

What it serves, under `/web/api/v3/accounts/{koronaAccountId}`: `GET /products`,
`GET /products/{productId}`, `GET /products/{productId}/stocks`, `GET /priceGroups`,
`GET /organizationalUnits`, `GET /organizationalUnits/{organizationalUnitId}/productStocks`,
`GET /paymentMethods`, `GET|POST /pointsOfSale/{pointOfSaleId}/receipts`, `GET /receipts` and
`GET /receipts/{receiptId}`.

Receipts: a batch `POST` answers one `AddOrUpdateResult` per receipt, `OK` or `ERROR` with the
reason; a booked receipt moves the stock of its tracked articles in its point of sale's
organizational unit (a sale takes units out, a negative quantity puts them back). The spec leaves
open what KORONA checks in a receipt; this simulator refuses, per receipt, an unknown article,
an unknown payment method, payments that do not add up to the items' gross totals, and a reversal
of a receipt it does not have; a wrong `couplingId` is refused 403 (the code is not published:
`COUPLING_ID_INVALID` here). None of these refusals is verified against the real API.
Lists are numbered pages (`page` from 1, `size`) in a `ResultList`, filtered by `revision` and
ordered by `sort` (attributes, comma separated, `-` for descending; otherwise in the order created);
an empty list is 204 without a body. Every change to an article or a stock level gets the next
revision of its type.

Auth is HTTP Basic (an API user); a wrong or missing one is 401 without a body. Rate limits: KORONA
has a daily quota (429 `DAILY_LIMIT_EXCEEDED`) and a parallel-write limit (429
`TOO_MANY_PARALLEL_UPDATE_REQUESTS`), numbers unpublished and no `Retry-After`: `daily_limit`
imitates the first, `fail_next(status=429, code=...)` either.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from itertools import count
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from koppel_local.simulators.kit import (
    BasicAuth,
    ClaimedViolations,
    Contract,
    ContractViolation,
    DailyCap,
    Fault,
    OpenApiContract,
    WsgiSimulator,
    load_openapi,
    page_of,
    route,
)

SPEC = ("korona", "korona-cloud-api-v3.swagger.json")
BASE = "/web/api/v3"
DEMO_USER = "koppel-api"
DEMO_PASSWORD = "korona-demo-password"  # noqa: S105 - the simulator's made-up password
DEFAULT_PAGE_SIZE = 100  # the spec names none (unverified)
DAILY_LIMIT = "DAILY_LIMIT_EXCEEDED"
PARALLEL_UPDATES = "TOO_MANY_PARALLEL_UPDATE_REQUESTS"

_ACCOUNT = rf"{BASE}/accounts/(?P<account>[^/]+)"
ROUTES = (
    route("GET", rf"{_ACCOUNT}/products", "products", "_list_products"),
    route("GET", rf"{_ACCOUNT}/products/(?P<product_id>[^/]+)", "product", "_get_product"),
    route("GET", rf"{_ACCOUNT}/products/(?P<product_id>[^/]+)/stocks", "product-stocks", "_list_product_stocks"),
    route("GET", rf"{_ACCOUNT}/priceGroups", "price-groups", "_list_price_groups"),
    route("GET", rf"{_ACCOUNT}/organizationalUnits", "organizational-units", "_list_units"),
    route(
        "GET",
        rf"{_ACCOUNT}/organizationalUnits/(?P<unit_id>[^/]+)/productStocks",
        "unit-stocks",
        "_list_unit_stocks",
    ),
    route("GET", rf"{_ACCOUNT}/paymentMethods", "payment-methods", "_list_payment_methods"),
    route("POST", rf"{_ACCOUNT}/pointsOfSale/(?P<pos_id>[^/]+)/receipts", "receipts-add", "_add_receipts"),
    route("GET", rf"{_ACCOUNT}/pointsOfSale/(?P<pos_id>[^/]+)/receipts", "receipts", "_list_pos_receipts"),
    route("GET", rf"{_ACCOUNT}/receipts", "receipts", "_list_receipts"),
    route("GET", rf"{_ACCOUNT}/receipts/(?P<receipt_id>[^/]+)", "receipt", "_get_receipt"),
)


def load_contract() -> OpenApiContract:
    """The KORONA contract; raises `ReferenceMissing` when the reference file is absent."""
    return load_openapi(*SPEC)


def reference(model: Mapping[str, Any]) -> dict[str, Any]:
    """A `ModelReference` to a stored object."""
    return {key: model[key] for key in ("id", "number", "name") if model.get(key) is not None}


class KoronaSimulator(ClaimedViolations, WsgiSimulator):
    """One KORONA.cloud account, read through API v3."""

    system = "KORONA simulator"
    routes = ROUTES

    def __init__(
        self,
        *,
        contract: Contract | None,
        account_id: str | None = None,
        user: str = DEMO_USER,
        password: str = DEMO_PASSWORD,
        daily_limit: int | None = None,
        latency_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`contract`: `load_contract()`, or None to serve unchecked (only where the reference is absent)."""
        self.setup_kit(clock=clock, sleep=sleep, latency_seconds=latency_seconds)
        self.contract = contract
        self.account_id = account_id or str(uuid.uuid4())
        self.basic = BasicAuth(user, password)
        self.daily = DailyCap(daily_limit) if daily_limit is not None else None
        self.products: dict[str, dict[str, Any]] = {}  # id -> Product
        self.price_groups: dict[str, dict[str, Any]] = {}
        self.units: dict[str, dict[str, Any]] = {}
        self.stocks: dict[tuple[str, str], dict[str, Any]] = {}  # (product id, unit id) -> ProductStock
        self.payment_methods: dict[str, dict[str, Any]] = {}
        self.points_of_sale: dict[str, dict[str, Any]] = {}  # id -> PointOfSale, with its coupling id
        self.receipts: dict[str, dict[str, Any]] = {}  # id -> Receipt, as booked
        self._receipt_numbers = count(1)
        self._revisions: dict[str, count[int]] = {}
        self._fault_codes: dict[int, str] = {}  # a planned 429's KORONA code, by fault

    # --- state API for tests and the demo -------------------------------------------------------
    def _revision(self, kind: str) -> int:
        return next(self._revisions.setdefault(kind, count(1)))

    def add_price_group(self, name: str, *, number: str | None = None, currency: str = "EUR") -> str:
        group_id = str(uuid.uuid4())
        with self._lock:
            self.price_groups[group_id] = {
                "id": group_id,
                "number": number or str(len(self.price_groups) + 1),
                "name": name,
                "active": True,
                "revision": self._revision("priceGroup"),
                "currency": {"number": currency, "name": currency},
                "netPrices": False,
            }
        return group_id

    def add_unit(self, name: str, *, warehouse: bool = True) -> str:
        """An organizational unit (a store); with `warehouse` it keeps stock."""
        unit_id = str(uuid.uuid4())
        with self._lock:
            self.units[unit_id] = {
                "id": unit_id,
                "number": str(len(self.units) + 1),
                "name": name,
                "active": True,
                "revision": self._revision("organizationalUnit"),
                "warehouse": warehouse,
            }
        return unit_id

    def add_product(
        self,
        number: str,
        name: str,
        *,
        codes: Iterable[str] = (),
        prices: Mapping[str, Decimal | str] | None = None,
        commodity_group: str = "",
        track_inventory: bool = True,
        image_url: str = "",
        deactivated: bool = False,
    ) -> str:
        """An article; `prices` maps price group id -> price valid since 2020 for every unit."""
        product_id = str(uuid.uuid4())
        product: dict[str, Any] = {
            "id": product_id,
            "number": number,
            "name": name,
            "active": not deactivated,
            "deactivated": deactivated,
            "codes": [{"productCode": code} for code in codes],
            "prices": [],
            "trackInventory": track_inventory,
        }
        if commodity_group:
            product["commodityGroup"] = {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, commodity_group)),
                "name": commodity_group,
            }
        if image_url:
            product["mediaUrls"] = [{"url": image_url}]
        with self._lock:
            self.products[product_id] = product
            for group, value in (prices or {}).items():
                self._set_price(product, group, Decimal(str(value)))
            product["revision"] = self._revision("product")
        return product_id

    def product_by_number(self, number: str) -> dict[str, Any]:
        with self._lock:
            return next(product for product in self.products.values() if product["number"] == number)

    def set_price(
        self,
        number: str,
        group: str,
        value: Decimal | str,
        *,
        valid_from: str = "2020-01-01T00:00:00Z",
        unit: str | None = None,
    ) -> None:
        """A price of the article in a price group (from `valid_from`; for one unit, if given)."""
        with self._lock:
            product = self.product_by_number(number)
            self._set_price(product, group, Decimal(str(value)), valid_from=valid_from, unit=unit)
            product["revision"] = self._revision("product")

    def set_image(self, number: str, url: str) -> None:
        """The article's picture replaced in the KORONA backoffice (its revision moves on)."""
        with self._lock:
            product = self.product_by_number(number)
            product["mediaUrls"] = [{"url": url}]
            product["revision"] = self._revision("product")

    def _set_price(
        self,
        product: dict[str, Any],
        group: str,
        value: Decimal,
        *,
        valid_from: str = "2020-01-01T00:00:00Z",
        unit: str | None = None,
    ) -> None:
        price: dict[str, Any] = {
            "value": value,
            "validFrom": valid_from,
            "priceGroup": reference(self.price_groups[group]),
        }
        if unit is not None:
            price["organizationalUnit"] = reference(self.units[unit])
        product["prices"] = [
            kept
            for kept in product["prices"]
            if not (
                kept["priceGroup"]["id"] == group
                and kept.get("validFrom") == valid_from
                and kept.get("organizationalUnit", {}).get("id") == unit
            )
        ] + [price]

    def set_stock(self, number: str, unit: str, actual: Decimal | int | str, *, ordered: int = 0) -> None:
        """The article's stock in a unit's warehouse, as a count or a booked receipt leaves it."""
        with self._lock:
            product = self.product_by_number(number)
            self.stocks[(product["id"], unit)] = {
                "product": reference(product),
                "warehouse": reference(self.units[unit]),
                "amount": {"actual": Decimal(str(actual)), "ordered": Decimal(ordered), "lent": Decimal(0)},
                "revision": self._revision("productStock"),
                "listed": True,
            }

    def sell(self, number: str, unit: str, quantity: int | Decimal = 1) -> None:
        """A sale at the store's own till: the units leave the unit's warehouse, the stock level's
        revision moves on (what koppel's minute poll sees)."""
        with self._lock:
            self._move_stock(self.product_by_number(number), unit, -Decimal(quantity))

    def stock(self, number: str, unit: str) -> Decimal | None:
        with self._lock:
            found = self.stocks.get((self.product_by_number(number)["id"], unit))
            return None if found is None else Decimal(found["amount"]["actual"])

    def add_payment_method(self, number: str, name: str) -> str:
        method_id = str(uuid.uuid4())
        with self._lock:
            self.payment_methods[method_id] = {
                "id": method_id,
                "number": number,
                "name": name,
                "active": True,
                "revision": self._revision("paymentMethod"),
            }
        return method_id

    def add_point_of_sale(self, unit: str, name: str = "Webshop", *, coupling_id: str = "webshop-coupling") -> str:
        """An external point of sale in `unit` (its receipts move that unit's stock)."""
        pos_id = str(uuid.uuid4())
        with self._lock:
            self.points_of_sale[pos_id] = {
                "id": pos_id,
                "number": str(len(self.points_of_sale) + 1),
                "name": name,
                "organizationalUnit": reference(self.units[unit]),
                "couplingId": coupling_id,
            }
        return pos_id

    def receipts_for(self, order_number: str) -> list[dict[str, Any]]:
        """Every receipt booked for an order number, oldest first (what the merchant sees in KORONA)."""
        with self._lock:
            return [copy.deepcopy(r) for r in self.receipts.values() if r.get("orderNumber") == order_number]

    def fail_next(
        self,
        times: int,
        status: int = 500,
        *,
        group: str | None = None,
        code: str = PARALLEL_UPDATES,
        after_execution: bool = False,
    ) -> None:
        """The next `times` requests (of `group`) answered `status`; a 429 carries `code`.

        `after_execution`: the request is carried out and only its answer is lost."""
        fault = self.faults.add(times, status, target=group, after_execution=after_execution)
        self._fault_codes[id(fault)] = code

    def calls(self, group: str) -> list[Any]:
        return self.request_log.of(group)

    # --- the kit's hooks, in KORONA's words -----------------------------------------------------
    def contract_for(self, request: Request) -> tuple[Contract | None, str]:
        return self.contract, request.path

    def authenticate(self, request: Request) -> Response | None:
        if self.basic.check(request) is None:
            return None
        return Response(b"", 401, headers={"WWW-Authenticate": 'Basic realm="KORONA.cloud"'})

    def admit(self, request: Request, group: str) -> tuple[Response | None, Mapping[str, str]]:
        if self.daily is not None and not self.daily.admit(self._clock()):
            return too_many(DAILY_LIMIT, "daily request limit reached"), {}
        return None, {}

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.status == 429:
            return too_many(self._fault_codes.get(id(fault), PARALLEL_UPDATES), "injected")
        if fault.status >= 500:
            return Response(HTTP_STATUS_CODES.get(fault.status, "Error"), fault.status, content_type="text/plain")
        return answer(fault.status, {"message": HTTP_STATUS_CODES.get(fault.status, "Error")})

    def refuse(self, request: Request, error: ContractViolation) -> Response:
        kinds = {violation.name for violation in error.violations}
        code = "INVALID_QUERY_PARAMETER" if kinds - {"body", "Content-Type"} else "SUBMITTED_DATA_NOT_WELLFORMED"
        return answer(400, {"code": code, "message": str(error)[:500]})

    def not_served(self, request: Request) -> Response:
        return answer(501, {"message": f"the simulator does not serve {request.method} {request.path}"})

    # --- endpoints ------------------------------------------------------------------------------
    def _account(self, account: str) -> Response | None:
        if account != self.account_id:
            return answer(404, {"code": "ACCOUNT_NOT_FOUND", "message": "account not found"})
        return None

    def _listed(self, request: Request, items: Iterable[dict[str, Any]], kind: str) -> Response:
        args = request.args
        rows = list(items)
        if args.get("includeDeleted") != "true":
            rows = [row for row in rows if row.get("active", True)]
        if args.get("revision"):
            rows = [row for row in rows if int(row.get("revision") or 0) > int(args["revision"])]
        if args.get("number"):
            rows = [row for row in rows if row.get("number") == args["number"]]
        for attribute in reversed([part.strip() for part in (args.get("sort") or "").split(",") if part.strip()]):
            # Stable sorts, the last attribute first: "revision" or "-revision", up to five of them.
            key = attribute.lstrip("-+")
            rows.sort(key=lambda row, key=key: _sort_key(row.get(key)), reverse=attribute.startswith("-"))
        page, size = int(args.get("page") or 1), int(args.get("size") or DEFAULT_PAGE_SIZE)
        if page < 1 or size < 1:
            return answer(400, {"code": "INVALID_QUERY_PARAMETER", "message": "page and size count from 1"})
        shown = page_of(rows, page, size)
        if not shown:
            return Response(status=204)
        pages_total = -(-len(rows) // size)
        link = f"{request.base_url}?page={{}}&size={size}"
        links = {"self": link.format(page)}
        if page > 1:
            links["previous"] = link.format(page - 1)
        if page < pages_total:
            links["next"] = link.format(page + 1)
        body = {
            "currentPage": page,
            "pagesTotal": pages_total,
            "resultsOfPage": len(shown),
            "resultsTotal": len(rows),
            "links": links,
            "results": copy.deepcopy(shown),
            "maxRevision": max((int(row.get("revision") or 0) for row in rows), default=0),
        }
        return answer(200, body)

    def _list_products(self, request: Request, account: str) -> Response:
        return self._account(account) or self._listed(request, self.products.values(), "product")

    def _get_product(self, request: Request, account: str, product_id: str) -> Response:
        refused = self._account(account)
        if refused is not None:
            return refused
        product = self.products.get(product_id)
        if product is None:
            return answer(404, {"code": "MODEL_ID_NOT_FOUND", "message": "product not found"})
        return answer(200, product)

    def _list_product_stocks(self, request: Request, account: str, product_id: str) -> Response:
        refused = self._account(account)
        if refused is not None:
            return refused
        if product_id not in self.products:
            return answer(404, {"code": "MODEL_ID_NOT_FOUND", "message": "product not found"})
        rows = [stock for (product, _), stock in self.stocks.items() if product == product_id]
        return self._listed(request, rows, "productStock")

    def _list_price_groups(self, request: Request, account: str) -> Response:
        return self._account(account) or self._listed(request, self.price_groups.values(), "priceGroup")

    def _list_units(self, request: Request, account: str) -> Response:
        return self._account(account) or self._listed(request, self.units.values(), "organizationalUnit")

    def _list_unit_stocks(self, request: Request, account: str, unit_id: str) -> Response:
        refused = self._account(account)
        if refused is not None:
            return refused
        if unit_id not in self.units:
            return answer(404, {"code": "MODEL_ID_NOT_FOUND", "message": "organizational unit not found"})
        rows = [stock for (_, unit), stock in self.stocks.items() if unit == unit_id]
        return self._listed(request, rows, "productStock")

    def _list_payment_methods(self, request: Request, account: str) -> Response:
        return self._account(account) or self._listed(request, self.payment_methods.values(), "paymentMethod")

    def _list_receipts(self, request: Request, account: str) -> Response:
        refused = self._account(account)
        if refused is not None:
            return refused
        rows = list(self.receipts.values())
        if request.args.get("orderNumber"):
            rows = [row for row in rows if row.get("orderNumber") == request.args["orderNumber"]]
        if request.args.get("pointOfSale"):
            rows = [row for row in rows if row["pointOfSale"]["id"] == request.args["pointOfSale"]]
        return self._listed(request, rows, "receipt")

    def _list_pos_receipts(self, request: Request, account: str, pos_id: str) -> Response:
        refused = self._account(account) or self._point_of_sale(pos_id)
        if refused is not None:
            return refused
        rows = [row for row in self.receipts.values() if row["pointOfSale"]["id"] == pos_id]
        return self._listed(request, rows, "receipt")

    def _get_receipt(self, request: Request, account: str, receipt_id: str) -> Response:
        refused = self._account(account)
        if refused is not None:
            return refused
        receipt = self.receipts.get(receipt_id)
        if receipt is None:
            return answer(404, {"code": "MODEL_ID_NOT_FOUND", "message": "receipt not found"})
        return answer(200, receipt)

    def _point_of_sale(self, pos_id: str) -> Response | None:
        if pos_id not in self.points_of_sale:
            return answer(404, {"code": "MODEL_ID_NOT_FOUND", "message": "point of sale not found"})
        return None

    def _add_receipts(self, request: Request, account: str, pos_id: str) -> Response:
        refused = self._account(account) or self._point_of_sale(pos_id)
        if refused is not None:
            return refused
        pos = self.points_of_sale[pos_id]
        if request.args.get("couplingId") != pos["couplingId"]:
            return answer(403, {"code": "COUPLING_ID_INVALID", "message": "the coupling id does not match"})
        batch = json.loads(request.get_data(as_text=True) or "[]", parse_float=Decimal)
        if not isinstance(batch, list):
            return answer(400, {"code": "SUBMITTED_DATA_NOT_WELLFORMED", "message": "a list of receipts"})
        return answer(200, [self._book(receipt, pos) for receipt in batch])  # type: ignore[arg-type]

    def _book(self, receipt: dict[str, Any], pos: dict[str, Any]) -> dict[str, Any]:
        problem = self._receipt_problem(receipt)
        if problem:
            return {"status": "ERROR", "action": "NONE", "message": problem}
        receipt_id = str(uuid.uuid4())
        booked = copy.deepcopy(receipt)
        unit = pos["organizationalUnit"]
        booked.update(
            id=receipt_id,
            number=str(next(self._receipt_numbers)),
            revision=self._revision("receipt"),
            pointOfSale=reference(pos),
            organizationalUnit=unit,
            warehouse=unit,
            cancelled=False,
            voided=False,
        )
        gross = sum(
            (Decimal(str(item["total"].get("gross", item["total"]["base"]))) for item in receipt["items"]), Decimal(0)
        )
        booked["total"] = {"gross": gross}
        for index, item in enumerate(booked["items"]):
            item["index"] = index
            product = self.products[item["product"]["id"]]
            item["product"] = reference(product)
            if product.get("trackInventory", True):
                self._move_stock(product, unit["id"], -Decimal(str(item["quantity"])))
        self.receipts[receipt_id] = booked
        return {
            "status": "OK",
            "action": "ADDED",
            "id": receipt_id,
            "number": booked["number"],
            "revision": booked["revision"],
        }

    def _receipt_problem(self, receipt: object) -> str:
        if not isinstance(receipt, dict) or not receipt.get("items"):
            return "a receipt needs items"
        gross = Decimal(0)
        for item in receipt["items"]:
            product_id = str((item.get("product") or {}).get("id") or "")
            if product_id not in self.products:
                return f"product {product_id or '(none)'} not found"
            total = item.get("total") or {}
            gross += Decimal(str(total.get("gross", total.get("base", 0))))
        paid = Decimal(0)
        for payment in receipt.get("payments") or ():
            method = payment.get("paymentMethod") or {}
            if not any(
                method.get(key) and method.get(key) == known.get(key)
                for known in self.payment_methods.values()
                for key in ("id", "number")
            ):
                return f"payment method {method.get('number') or method.get('id') or '(none)'} not found"
            paid += Decimal(str(payment.get("amount") or 0))
        if paid != gross:
            return f"payments ({paid}) do not match the items' total ({gross})"
        reversed_id = (receipt.get("reversedReceipt") or {}).get("id")
        if receipt.get("reversal") and reversed_id not in self.receipts:
            return f"reversed receipt {reversed_id} not found"
        return ""

    def _move_stock(self, product: dict[str, Any], unit: str, change: Decimal) -> None:
        key = (product["id"], unit)
        stock = self.stocks.get(key)
        if stock is None:
            stock = self.stocks[key] = {
                "product": reference(product),
                "warehouse": reference(self.units[unit]),
                "amount": {"actual": Decimal(0), "ordered": Decimal(0), "lent": Decimal(0)},
                "listed": True,
            }
        stock["amount"]["actual"] = Decimal(stock["amount"]["actual"]) + change
        stock["revision"] = self._revision("productStock")


def _sort_key(value: object) -> tuple[int, Any]:
    # Numbers before text, a missing attribute first; never comparing a number with a string.
    if value is None:
        return (0, 0)
    if isinstance(value, bool | int | float | Decimal):
        return (1, value)
    return (2, str(value))


def answer(status: int, body: Mapping[str, Any] | list[Any]) -> Response:
    # KORONA's prices and amounts are JSON numbers.
    return Response(json.dumps(body, default=_number), status, content_type="application/json")


def _number(value: object) -> object:
    if isinstance(value, Decimal):
        # JSON has one kind of number; the shortest float repr of a price gives back its digits.
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def too_many(code: str, message: str) -> Response:
    return answer(429, {"code": code, "message": message})
