"""A KORONA.cloud API v3 simulator on the kit: articles, price groups, organizational units and stock.

It follows `../shared/reference/korona/korona-cloud-api-v3.swagger.json` (OpenAPI 3.0.3,
"3.2-SNAPSHOT"), with `../shared/reference/FACTS-systems-2.md` §1.1 for what the spec leaves out.
Every request and every 2xx answer is checked against that document (strict: a request off it is
refused 400 with a `BadRequestErrorModel` and fails the test that sent it). Without the reference
file, loading the contract raises `ReferenceMissing` and the tests that need it are skipped.

What it serves, under `/web/api/v3/accounts/{koronaAccountId}`: `GET /products`,
`GET /products/{productId}`, `GET /products/{productId}/stocks`, `GET /priceGroups`,
`GET /organizationalUnits` and `GET /organizationalUnits/{organizationalUnitId}/productStocks`.
Lists are numbered pages (`page` from 1, `size`) in a `ResultList`, filtered by `revision`; an
empty list is 204 without a body. Every change to an article or a stock level gets the next
revision of its type.

Auth is HTTP Basic (an API user); a wrong or missing one is 401 without a body. Rate limits: KORONA
has a daily quota (429 `DAILY_LIMIT_EXCEEDED`) and a parallel-write limit (429
`TOO_MANY_PARALLEL_UPDATE_REQUESTS`), numbers unpublished and no `Retry-After`: `daily_limit`
imitates the first; this simulator serves no writes yet, so the second comes only as a fault.
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
)


def load_contract() -> OpenApiContract:
    """The KORONA contract; raises `ReferenceMissing` when the reference file is absent."""
    return load_openapi(*SPEC)


def reference(model: Mapping[str, Any]) -> dict[str, Any]:
    """A `ModelReference` to a stored object."""
    return {key: model[key] for key in ("id", "number", "name") if model.get(key) is not None}


class KoronaSimulator(WsgiSimulator):
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
        self._revisions: dict[str, count[int]] = {}
        self._fault_codes: dict[int, str] = {}  # a planned 429's KORONA code, by fault

    @property
    def violations(self) -> list[Any]:
        """Requests KORONA would refuse (answered 400); reading them claims them."""
        return self.request_violations_log.read()

    @property
    def response_violations(self) -> list[Any]:
        return self.answer_violations_log.read()

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

    def stock(self, number: str, unit: str) -> Decimal | None:
        with self._lock:
            found = self.stocks.get((self.product_by_number(number)["id"], unit))
            return None if found is None else Decimal(found["amount"]["actual"])

    def fail_next(
        self, times: int, status: int = 500, *, group: str | None = None, code: str = PARALLEL_UPDATES
    ) -> None:
        """The next `times` requests (of `group`) answered `status`; a 429 carries `code`."""
        fault = self.faults.add(times, status, target=group)
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


def answer(status: int, body: Mapping[str, Any]) -> Response:
    # KORONA's prices and amounts are JSON numbers.
    return Response(json.dumps(body, default=_number), status, content_type="application/json")


def _number(value: object) -> object:
    if isinstance(value, Decimal):
        # JSON has one kind of number; the shortest float repr of a price gives back its digits.
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def too_many(code: str, message: str) -> Response:
    return answer(429, {"code": code, "message": message})
