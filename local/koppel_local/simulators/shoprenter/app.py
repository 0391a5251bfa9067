"""A Shoprenter API simulator on the kit: the token endpoint, orders, products, stock and `/batch`.

It follows `../shared/reference/shoprenter/sr-api-docs/` (development/api/*.md for tokens, batch,
limits and status codes; `fixtures/api/` for each resource's fields, see `fixtures`), with
FACTS-systems-2.md §1.4. Every request and every 2xx answer, those inside a batch included, is checked
against the fixtures; a request off them is refused 400 and fails the test that sent it.

Served: `POST /{shop}/app/token` (the OAuth host), and under `/api`: `GET /orderExtend` (`full`,
`updatedAtMin`, `innerId`, `excludeAbandonedCart`, `limit`, `page` from 0), `GET /orderExtend/{id}`,
`GET /productExtend` (`sku`, `updatedAfter`), `GET /productExtend/{id}`, `GET /products`,
`GET|PUT /products/{id}`, `PUT /productDescriptions/{id}`, `GET /productSpecials` (`productId`, `full`,
`limit`, `page`), `GET|PUT|DELETE /productSpecials/{id}`, `POST /productSpecials[/{id}]`, `POST /batch`.
Records are built from the docs' example bodies, so an answer has the example's fields. Shop times have
no offset and are the shop's zone (`time_zone`), from the simulator's own clock (`freeze`, `advance`), in whole seconds.

Limits: 3 requests per second per shop (a fixed window on the simulator's clock, a 429 with
`Retry-After: 1` beyond), counted in `throttled`; `arrivals` keeps when each API request was let in.
A batch is one request. Faults (`fail_next`), latency (`latency_seconds`) from the kit.

Specials (sale prices, api/product_special.md and development/api-examples/01_0_product_special.md): a
product's specials are listed in its `productExtend` answer too (`productSpecials`, as the docs' example
product shows them; `specials_in_product_extend = False` lists links only). An id given on a POST (in
the path or as `id`) is the special's OUTER_ID (development/api/05_outer_id.md): a POST to an id that
exists changes that special ("create and modify"), a PUT only changes one, a DELETE answers 204 or 404.
The price a buyer pays (`sale_price`, `netSpecial`/`grossSpecial` of the group's `productPrices`) is
the special of the group (or of no group) in its dates ("0000-00-00 00:00:00": unbounded) for one
item, the lowest `priority` first, then the lowest price.

Not verified against a real shop: the error bodies' shape (`{"error": code, "message": ...}`); whether
`updatedAtMin`/`updatedAfter` include their own second (the simulator includes it); the order of a
list (the simulator: by innerId); that an order product carries no `quantity` (the docs' examples carry
none; the simulator sends none); that a SHIPPING total is VAT included; that a batch counts as one
request against the limit; a batch of more than 200 (refused here, the docs only advise 200); how a
special is chosen among several (the lowest priority number, then price, as the product-of-the-day
example's priority -1 implies); that a POST to an existing OUTER_ID changes it rather than failing;
that the outer id is what `id` reads in `productExtend.productSpecials`; what a write naming an
unknown product or customer group is answered (400 here).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from itertools import count
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from koppel_local.simulators.kit import (
    BearerTokens,
    ClaimedViolations,
    ContractViolation,
    Fault,
    FixedWindows,
    PlannedFaults,
    RateLimit,
    ShopClock,
    Violation,
    WsgiSimulator,
    route,
)
from koppel_local.simulators.shoprenter.fixtures import FixtureContract, kind

DEMO_CLIENT_ID = "koppel-demo-client"
DEMO_CLIENT_SECRET = "koppel-demo-client-secret"  # noqa: S105 - the simulator's made-up secret
DEMO_SHOP = "demoshop"
TOKEN_SECONDS = 3600
SHOP_TIME = "%Y-%m-%dT%H:%M:%S"
CENT = Decimal("0.01")
NET = Decimal("0.0001")
MAX_BATCH = 200
DEFAULT_LIMIT = 25
DEFAULT_GROUP = 8  # the customer group the docs' example product marks `default`
OPEN_DATE = "0000-00-00 00:00:00"  # how the shop writes a special's missing date
SPECIAL_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})( \d{2}:\d{2}:\d{2})?$")

ROUTES = (
    route("POST", r"/(?P<shop>[^/]+)/app/token", "token", "_token", public=True),
    route("GET", r"/api/orderExtend", "orders", "_list_orders"),
    route("GET", r"/api/orderExtend/(?P<resource_id>[^/]+)", "order", "_get_order"),
    route("GET", r"/api/productExtend", "products-extend", "_list_products_extend"),
    route("GET", r"/api/productExtend/(?P<resource_id>[^/]+)", "product-extend", "_get_product_extend"),
    route("GET", r"/api/products", "products", "_list_products"),
    route("GET", r"/api/products/(?P<resource_id>[^/]+)", "product", "_get_product"),
    route("PUT", r"/api/products/(?P<resource_id>[^/]+)", "product-save", "_save_product"),
    route("PUT", r"/api/productDescriptions/(?P<resource_id>[^/]+)", "description-save", "_save_description"),
    route("GET", r"/api/productSpecials", "specials", "_list_specials"),
    route("GET", r"/api/productSpecials/(?P<resource_id>[^/]+)", "special", "_get_special"),
    route("POST", r"/api/productSpecials", "special-post", "_post_special"),
    route("POST", r"/api/productSpecials/(?P<resource_id>[^/]+)", "special-post", "_post_special"),
    route("PUT", r"/api/productSpecials/(?P<resource_id>[^/]+)", "special-put", "_put_special"),
    route("DELETE", r"/api/productSpecials/(?P<resource_id>[^/]+)", "special-delete", "_delete_special"),
    route("POST", r"/api/batch", "batch", "_batch"),
)


def resource_id(kind: str, key: str, number: int) -> str:
    """Shoprenter's resource id: base64 of `{kind}-{key}={number}` (`order-order_id=12`)."""
    return base64.b64encode(f"{kind}-{key}={number}".encode()).decode()


def text(value: Decimal, places: Decimal = NET) -> str:
    return str(value.quantize(places, ROUND_HALF_UP))


class ShoprenterSimulator(ShopClock, ClaimedViolations, PlannedFaults, WsgiSimulator):
    """One Shoprenter shop, through its API."""

    system = "Shoprenter simulator"
    routes = ROUTES
    untargeted_fault_skip = ("token",)

    def __init__(
        self,
        *,
        contract: FixtureContract | None,
        shop: str = DEMO_SHOP,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        currency: str = "HUF",
        time_zone: str = "Europe/Budapest",
        limit_per_second: int | None = 3,
        now: datetime | None = None,
        latency_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`contract`: `load_contract()`, or None to serve unchecked (only where the reference is absent)."""
        self.setup_kit(clock=clock, sleep=sleep, latency_seconds=latency_seconds)
        self.contract = contract
        self.shop = shop
        self.served_at = ""  # "" : the shop's public host (`serve_at`)
        self.client_id, self.client_secret = client_id, client_secret
        self.currency = currency
        self.zone = ZoneInfo(time_zone)
        self.tokens = BearerTokens(clock=clock)
        self.tokens_issued = 0
        self.limit = RateLimit(limit_per_second) if limit_per_second else None
        self.windows = FixedWindows()
        self.throttled = 0
        self.arrivals: list[float] = []  # when each API request was let through the limit
        self.start_clock(now)
        self.orders: dict[str, dict[str, Any]] = {}  # resource id -> orderExtend record
        self.products: dict[str, dict[str, Any]] = {}  # resource id -> productExtend record
        self.refusals: dict[str, str] = {}  # sku -> the next save's refusal
        self.specials: dict[str, dict[str, Any]] = {}  # id (API id or OUTER_ID) -> productSpecial record
        self.specials_in_product_extend = True  # False: `productExtend` lists its specials as links only
        self._ids = {kind: count(1) for kind in ("order", "order_product", "order_total", "product", "product_special")}

    # --- the shop's clock (`freeze`, `advance`, `moment` from `ShopClock`) -------------------------
    def now(self) -> str:
        """The shop's time, as Shoprenter writes it: its own zone, no offset."""
        return self._now.astimezone(self.zone).strftime(SHOP_TIME)

    def api_root(self) -> str:
        return f"{self.served_at or f'https://{self.shop}.api2.myshoprenter.hu'}/api"

    def serve_at(self, base_url: str) -> tuple[str, str]:
        """The shop answers on `base_url` (a local server) rather than its public host: its hrefs and
        batch uris name that address. Returns the account's api_base_url and token_url."""
        self.served_at = base_url.rstrip("/")
        return f"{self.served_at}/api", f"{self.served_at}/{self.shop}/app/token"

    # --- state API for tests and the demo -------------------------------------------------------
    def add_product(
        self,
        sku: str,
        name: str = "",
        *,
        gross: Decimal | str = "1270",
        vat_rate: Decimal | str = "27",
        stock: Mapping[str, int] | None = None,
        gtin: str = "",
    ) -> dict[str, Any]:
        """A product priced `gross` (VAT included, as the shop shows it) at `vat_rate`."""
        with self._lock:
            number = next(self._ids["product"])
            product_id = resource_id("product", "product_id", number)
            record = self._template("productExtend")
            rate = Decimal(str(vat_rate))
            net = (Decimal(str(gross)) / (1 + rate / 100)).quantize(NET, ROUND_HALF_UP)
            root = self.api_root()
            description = copy.deepcopy((record.get("productDescriptions") or [{}])[0])
            description_id = resource_id("productDescription", f"product_id={number}&language_id", 1)
            description.update(
                href=f"{root}/productDescriptions/{description_id}",
                id=description_id,
                name=name or sku,
                language={"href": f"{root}/languages/{resource_id('language', 'language_id', 1)}"},
            )
            record.update(
                href=f"{root}/productExtend/{product_id}",
                id=product_id,
                innerId=str(number),
                sku=sku,
                gtin=gtin,
                price=text(net),
                dateCreated=self.now(),
                dateUpdated=self.now(),
                productDescriptions=[description],
                productSpecials=[],
                customerGroupProductPrices=[],
            )
            for field in ("stock1", "stock2", "stock3", "stock4"):
                record[field] = str((stock or {}).get(field, 0))
            record["_rate"] = rate
            self._price(record)
            self.products[product_id] = record
            return record

    def product(self, sku: str) -> dict[str, Any] | None:
        return next((record for record in self.products.values() if record["sku"] == sku), None)

    def gross_price(self, sku: str) -> Decimal:
        """What the shop shows the buyer: the net price with VAT, in cents."""
        record = self.product(sku) or {}
        return (Decimal(record["price"]) * (1 + record["_rate"] / 100)).quantize(CENT, ROUND_HALF_UP)

    def name_of(self, sku: str, language_id: int = 1) -> str:
        record = self.product(sku) or {}
        return str((record.get("productDescriptions") or [{}])[0].get("name") or "")

    def stock(self, sku: str, field: str = "stock1") -> int | None:
        record = self.product(sku)
        return int(record[field]) if record is not None else None

    def remove_product(self, sku: str) -> None:
        with self._lock:
            record = self.product(sku)
            if record is not None:
                del self.products[record["id"]]

    def refuse_next_save(self, sku: str, message: str) -> None:
        """The next write to this product is refused 400 with `message` (40005)."""
        self.refusals[sku] = message

    def add_special(
        self,
        sku: str,
        *,
        gross: Decimal | str,
        priority: int = 1,
        customer_group: int | None = DEFAULT_GROUP,
        date_from: str = OPEN_DATE,
        date_to: str = OPEN_DATE,
        min_quantity: int = 0,
    ) -> dict[str, Any]:
        """A special the merchant makes by hand in the shop's admin, priced `gross` (VAT included)."""
        with self._lock:
            product = self.product(sku)
            if product is None:
                raise KeyError(sku)
            net = (Decimal(str(gross)) / (1 + product["_rate"] / 100)).quantize(NET, ROUND_HALF_UP)
            group = resource_id("customerGroup", "customer_group_id", customer_group) if customer_group else None
            record = self._new_special(None, product["id"], group)
            record.update(
                priority=str(priority),
                price=text(net),
                dateFrom=date_from,
                dateTo=date_to,
                minQuantity=str(min_quantity),
            )
            self._specials_changed(product["id"])
            return self._special_answer(record)

    def specials_of(self, sku: str) -> list[dict[str, Any]]:
        """The product's specials as `GET /productSpecials/{id}` answers them, oldest first."""
        product = self.product(sku) or {}
        return [self._special_answer(record) for record in self._specials_for(product.get("id"))]

    def sale_price(self, sku: str, customer_group: int = DEFAULT_GROUP) -> Decimal | None:
        """The gross price a buyer of `customer_group` pays for one item under a special, None without one."""
        product = self.product(sku)
        special = self._applied_special(product, customer_group) if product is not None else None
        if special is None or product is None:
            return None
        return (Decimal(special["price"]) * (1 + product["_rate"] / 100)).quantize(CENT, ROUND_HALF_UP)

    def buyer_price(self, sku: str) -> Decimal:
        """What a buyer in the default customer group pays for one item: the sale price, else the price."""
        sale = self.sale_price(sku)
        return sale if sale is not None else self.gross_price(sku)

    def add_order(
        self,
        lines: Iterable[tuple[str, int, Decimal | str]],
        *,
        status_id: int = 1,
        email: str = "vevo@example.hu",
        vat_rate: Decimal | str = "27",
        shipping_gross: Decimal | str = "990",
        coupon_gross: Decimal | str = "0",
        currency: str | None = None,
    ) -> dict[str, Any]:
        """An order placed now; `lines` as (sku, quantity, gross unit price). Its status starts at `status_id`."""
        with self._lock:
            number = next(self._ids["order"])
            order_id = resource_id("order", "order_id", number)
            root = self.api_root()
            record = self._template("orderExtend")
            rate = Decimal(str(vat_rate))
            code = currency or self.currency
            product_template = (record.get("orderProducts") or [{}])[0]
            total_template = (record.get("orderTotals") or [{}])[0]
            products = []
            net_sum = gross_sum = Decimal(0)
            for sku, quantity, gross in lines:
                gross_price = Decimal(str(gross))
                net = (gross_price / (1 + rate / 100)).quantize(NET, ROUND_HALF_UP)
                line_id = next(self._ids["order_product"])
                line = copy.deepcopy(product_template)
                line_resource = resource_id("orderProduct", "order_product_id", line_id)
                line.update(
                    href=f"{root}/orderProducts/{line_resource}",
                    id=line_resource,
                    name=sku,
                    sku=sku,
                    price=text(net),
                    total=text(net * quantity),
                    taxRate=text(rate),
                    grossPrice=text(gross_price, CENT),
                    originalPrice=text(net),
                    priceCurrency=text(net),
                    grossPriceCurrency=text(gross_price),
                    originalPriceCurrency=text(net),
                    originalGrossPriceCurrency=text(gross_price),
                    stock1=str(quantity),
                    stock2="0",
                    stock3="0",
                    stock4="0",
                    dateCreated=self.now(),
                    dateUpdated=self.now(),
                    order={"href": f"{root}/orders/{order_id}"},
                )
                products.append(line)
                net_sum += net * quantity
                gross_sum += gross_price * quantity
            shipping = Decimal(str(shipping_gross))
            coupon = Decimal(str(coupon_gross))
            grand = gross_sum + shipping - coupon
            totals = [
                ("Net partial amount:", net_sum, "SUB_TOTAL"),
                (f"VAT ({rate.normalize()}%):", gross_sum - net_sum, "TAX"),
                ("Gross partial amount:", gross_sum, "SUB_TOTAL_WITH_TAX"),
                ("Home delivery:", shipping, "SHIPPING"),
            ]
            if coupon:
                totals.append(("Coupon:", -coupon, "COUPON"))
            totals.append(("Totally gross:", grand, "TOTAL"))
            order_totals = []
            for sort, (label, value, kind) in enumerate(totals, start=1):
                total_id = resource_id("orderTotal", "order_total_id", next(self._ids["order_total"]))
                entry = copy.deepcopy(total_template)
                entry.update(
                    href=f"{root}/orderTotals/{total_id}",
                    id=total_id,
                    name=label,
                    valueText=f"{text(value, CENT)} {code}",
                    value=text(value),
                    sortOrder=str(sort),
                    type=kind,
                    order={"href": f"{root}/orders/{order_id}"},
                )
                order_totals.append(entry)
            currency_block = dict(record.get("currency") or {})
            currency_block.update(code=code, name=code)
            record.update(
                href=f"{root}/orderExtend/{order_id}",
                id=order_id,
                innerId=str(number),
                email=email,
                total=text(grand),
                dateCreated=self.now(),
                dateUpdated=self.now(),
                currency=currency_block,
                orderProducts=products,
                orderTotals=order_totals,
            )
            self._set_status(record, status_id)
            self.orders[order_id] = record
            return record

    def update_order(self, inner_id: str, *, status_id: int) -> None:
        """The merchant moves the order to another status: its `dateUpdated` becomes now."""
        with self._lock:
            record = self.order(inner_id)
            self._set_status(record, status_id)
            record["dateUpdated"] = self.now()

    def order(self, inner_id: str) -> dict[str, Any]:
        return next(record for record in self.orders.values() if record["innerId"] == str(inner_id))

    def webhook_body(self, inner_id: str, *, as_xml: bool = False) -> bytes:
        """What the shop's "order status change" automation posts for this order (development/api/
        07_webhook.md): the order wrapped in `orders.order[]`, a handful of its fields, as JSON or XML.
        Shoprenter signs none of it."""
        record = self.order(inner_id)
        fields = {
            "storeName": self.shop,
            "innerId": record["innerId"],
            "innerResourceId": f"orders/{record['id']}",
            "email": record.get("email", ""),
            "totalGross": record.get("total", ""),
            "currency": (record.get("currency") or {}).get("code", self.currency),
            "orderHistory": str((record.get("orderStatus") or {}).get("href", "")),
        }
        if not as_xml:
            return json.dumps({"orders": {"order": [fields]}}).encode()
        inner = "".join(f"<{key}>{escape(str(value))}</{key}>" for key, value in fields.items())
        return f'<?xml version="1.0" encoding="UTF-8"?><orders><order>{inner}</order></orders>'.encode()

    def expire_tokens(self) -> None:
        self.tokens.expire_all()

    def busiest_second(self) -> int:
        """The most API requests let in within any one second (a sliding second)."""
        times = sorted(self.arrivals)
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best

    # --- building records -----------------------------------------------------------------------
    def _template(self, resource: str) -> dict[str, Any]:
        if self.contract is not None:
            return self.contract.resources[resource].template()
        return {}

    def _set_status(self, record: dict[str, Any], status_id: int) -> None:
        status = resource_id("orderStatus", "order_status_id", status_id)
        record["orderStatus"] = {"href": f"{self.api_root()}/orderStatuses/{status}"} if status_id else None

    def _price(self, record: dict[str, Any]) -> None:
        net = Decimal(record["price"])
        gross = (net * (1 + record["_rate"] / 100)).quantize(CENT, ROUND_HALF_UP)
        special = self._applied_special(record, DEFAULT_GROUP)
        special_net = Decimal(special["price"]) if special is not None else None
        template = copy.deepcopy((record.get("productPrices") or [{}])[0])
        template.update(
            customerGroup={
                "id": resource_id("customerGroup", "customer_group_id", DEFAULT_GROUP),
                "innerId": DEFAULT_GROUP,
                "default": True,
            },
            net=text(net),
            netOriginal=text(net),
            netSpecial=text(special_net) if special_net is not None else None,
            gross=text(gross, CENT),
            grossOriginal=text(gross, CENT),
            grossSpecial=(
                text((special_net * (1 + record["_rate"] / 100)).quantize(CENT, ROUND_HALF_UP), CENT)
                if special_net is not None
                else None
            ),
            currencyCode=self.currency,
        )
        record["productPrices"] = [template]

    # --- specials -------------------------------------------------------------------------------
    def _new_special(self, outer_id: str | None, product_id: str, group: str | None) -> dict[str, Any]:
        number = next(self._ids["product_special"])
        special_id = outer_id or resource_id("productSpecial", "product_special_id", number)
        record = {
            "id": special_id,
            "innerId": number,
            "priority": "0",
            "price": text(Decimal(0)),
            "dateFrom": OPEN_DATE,
            "dateTo": OPEN_DATE,
            "minQuantity": "0",
            "maxQuantity": "0",
            "isLimitedDiscount": "0",
            "maxOrderableCount": "0",
            "dateCreated": self.now(),
            "_product": product_id,
            "_group": group,
        }
        self.specials[special_id] = record
        return record

    def _specials_for(self, product_id: str | None) -> list[dict[str, Any]]:
        listed = [record for record in self.specials.values() if record["_product"] == product_id]
        return sorted(listed, key=lambda record: record["innerId"])

    def _applied_special(self, product: dict[str, Any], group_number: int) -> dict[str, Any] | None:
        group = resource_id("customerGroup", "customer_group_id", group_number)
        now = self.now().replace("T", " ")
        applying = [
            record
            for record in self._specials_for(product.get("id"))
            if record["_group"] in (None, group)
            and (record["dateFrom"] == OPEN_DATE or record["dateFrom"] <= now)
            and (record["dateTo"] == OPEN_DATE or now < record["dateTo"])
            and int(record["minQuantity"]) <= 1
        ]
        applying.sort(key=lambda record: (int(record["priority"]), Decimal(record["price"])))
        return applying[0] if applying else None

    def _specials_changed(self, product_id: str) -> None:
        """The product's own list of specials and its special price, after a special changed."""
        product = self.products.get(product_id)
        if product is None:
            return
        root = self.api_root()
        entries = []
        for record in self._specials_for(product_id):
            href = f"{root}/productSpecials/{record['id']}"
            if not self.specials_in_product_extend:
                entries.append({"href": href})
                continue
            entries.append(
                {
                    "href": href,
                    "id": record["id"],
                    **{key: record[key] for key in ("priority", "price", "dateFrom", "dateTo")},
                    **{key: record[key] for key in ("minQuantity", "maxQuantity", "dateCreated")},
                    "product": {"href": f"{root}/products/{product_id}"},
                    "customerGroup": {"href": f"{root}/customerGroups/{record['_group']}"} if record["_group"] else {},
                }
            )
        product["productSpecials"] = entries
        self._price(product)

    def _special_answer(self, record: dict[str, Any]) -> dict[str, Any]:
        root = self.api_root()
        answer = self._template("productSpecials")
        # the resource's own fields (its answer names no innerId, no dateCreated)
        shown = ("priority", "price", "dateFrom", "dateTo", "minQuantity", "maxQuantity")
        answer.update({key: record[key] for key in (*shown, "isLimitedDiscount", "maxOrderableCount")})
        answer.update(
            href=f"{root}/productSpecials/{record['id']}",
            id=record["id"],
            product={"href": f"{root}/products/{record['_product']}"},
            customerGroup={"href": f"{root}/customerGroups/{record['_group']}"} if record["_group"] else None,
        )
        return answer

    def _apply_special(self, request: Request, record: dict[str, Any], data: Mapping[str, Any]) -> Response | None:
        """`data`'s fields on `record`; an answer when they are wrong (the record then unchanged)."""
        changes: dict[str, Any] = {}
        for field in ("priority", "minQuantity", "maxQuantity", "isLimitedDiscount", "maxOrderableCount"):
            if data.get(field) is not None:
                try:
                    number = int(str(data[field]).strip())
                except ValueError:
                    return error(400, 40005, f"The {field} parameter has wrong data.")
                if (field != "priority" and number < 0) or (field == "isLimitedDiscount" and number not in (0, 1)):
                    return error(400, 40005, f"The {field} parameter has wrong data.")
                changes[field] = str(number)
        if data.get("price") is not None:
            try:
                price = Decimal(str(data["price"]).strip())
            except ArithmeticError:
                return error(400, 40005, "The price parameter has wrong data.")
            if price < 0:
                return error(400, 40005, "The price parameter has wrong data.")
            changes["price"] = text(price)
        for field in ("dateFrom", "dateTo"):
            if data.get(field) is not None:
                matched = SPECIAL_DATE.match(str(data[field]).strip())
                if matched is None:
                    self._record(request, f"body.data.{field}", "a date like 2020-11-01 or 2013-06-14 08:00:00")
                    return error(400, 40005, f"The {field} parameter has wrong data.")
                changes[field] = matched.group(1) + (matched.group(2) or " 00:00:00")
        if data.get("product") is not None:
            named = str((data["product"] or {}).get("id") or "") if isinstance(data["product"], dict) else ""
            if named not in self.products:
                return error(400, 40005, f"Product not found: {named}")
            changes["_product"] = named
        if "customerGroup" in data:
            group = data["customerGroup"]
            named = str(group.get("id") or "") if isinstance(group, dict) else ""
            if named and not decoded_id(named).startswith("customerGroup-customer_group_id="):
                return error(400, 40005, f"Customer group not found: {named}")
            changes["_group"] = named or None
        if data.get("id") is not None:
            changes["id"] = str(data["id"])
        before = record["_product"]
        if "id" in changes and changes["id"] != record["id"]:
            if changes["id"] in self.specials:
                return error(400, 40005, f"The id {changes['id']} is in use.")
            del self.specials[record["id"]]
            self.specials[changes["id"]] = record
        record.update(changes)
        for product_id in dict.fromkeys((before, record["_product"])):
            self._specials_changed(product_id)
        return None

    def _as_product(self, record: dict[str, Any]) -> dict[str, Any]:
        """A productExtend record as `/products` answers it: the product's own fields, its relations as links."""
        shape = self._template("products") if self.contract is not None else {}
        answer = {
            key: record[key]
            for key in shape
            if key in record and not isinstance(shape[key], list | dict) and kind(record[key]) == kind(shape[key])
        }
        answer |= {key: value for key, value in shape.items() if key not in answer}
        answer["href"] = f"{self.api_root()}/products/{record['id']}"
        for key in ("id", "innerId", "sku", "gtin", "price", "stock1", "stock2", "stock3", "stock4"):
            if key in record:
                answer[key] = record[key]
        return {key: value for key, value in answer.items() if key in shape or not shape}

    def _visible(self, record: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in record.items() if not key.startswith("_")}

    # --- the kit's hooks, in Shoprenter's words -------------------------------------------------
    def contract_for(self, request: Request) -> tuple[Any, str]:
        path = request.path
        return self.contract, path[len("/api") :] if path.startswith("/api/") else path

    def authenticate(self, request: Request) -> Response | None:
        denied = self.tokens.check(request)
        if denied is None:
            return None
        return error(401, 40101, "You have no permission for this operation!")

    def admit(self, request: Request, group: str) -> tuple[Response | None, Mapping[str, str]]:
        if group == "token" or self.limit is None:
            return None, {}
        now = self._clock()
        admission = self.windows.admit(self.shop, self.limit, now)
        if admission.admitted:
            self.arrivals.append(now)
            return None, {}
        self.throttled += 1
        return error(429, None, "Too Many Requests", headers={"Retry-After": str(admission.reset_seconds)}), {}

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.status == 429:
            self.throttled += 1
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return error(429, None, "Too Many Requests", headers=headers)
        if fault.status >= 500:
            return Response(HTTP_STATUS_CODES.get(fault.status, "Error"), fault.status, content_type="text/html")
        return error(fault.status, None, HTTP_STATUS_CODES.get(fault.status, "Error"))

    def fault_targets(self, request: Request, group: str) -> Iterable[str]:
        """A batch is also known by what it carries: `batch:{group}` of each of its requests (a test can
        lose the answer of the batch that writes a special, `batch:special-post`, and not of the one before)."""
        if group != "batch":
            return (group,)
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            return (group,)
        listed = ((body or {}).get("data") or {}).get("requests") if isinstance(body, dict) else None
        targets = [group]
        for entry in listed if isinstance(listed, list) else ():
            if not isinstance(entry, dict):
                continue
            parts = urlsplit(str(entry.get("uri") or ""))
            inner = Request(EnvironBuilder(path=parts.path, method=str(entry.get("method") or "GET")).get_environ())
            found, _ = self.match(inner)
            if found is not None:
                targets.append(f"batch:{found.group}")
        return tuple(dict.fromkeys(targets))

    def refuse(self, request: Request, error_: ContractViolation) -> Response:
        return error(400, 40005, f"The given data is wrong! {str(error_)[:400]}")

    def not_served(self, request: Request) -> Response:
        return error(404, 40401, f"Resource not found! {request.path}")

    # --- endpoints: the token -------------------------------------------------------------------
    def _token(self, request: Request, shop: str) -> Response:
        self.tokens_issued += 1
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict) or "application/json" not in (request.content_type or ""):
            self._record(request, "body", "the token request is a JSON object (12_acquiring_an_access_token.md)")
            return json_answer(400, {"error": "invalid_request", "message": "The request is missing a parameter"})
        missing = [key for key in ("grant_type", "client_id", "client_secret") if not body.get(key)]
        if missing or body.get("grant_type") != "client_credentials":
            self._record(request, "body", f"needs grant_type=client_credentials, client_id, client_secret; {missing}")
            return json_answer(
                400, {"error": "invalid_request", "hint": f"Check the `{(missing or ['grant_type'])[0]}` parameter"}
            )
        if shop != self.shop or (body["client_id"], body["client_secret"]) != (self.client_id, self.client_secret):
            return json_answer(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed",
                    "message": "Client authentication failed",
                },
            )
        token = self.tokens.add(TOKEN_SECONDS)
        return json_answer(200, {"token_type": "Bearer", "expires_in": TOKEN_SECONDS, "access_token": token})

    def _record(self, request: Request, name: str, reason: str) -> None:
        failure = ContractViolation("shoprenter/sr-api-docs/development/api", [Violation(name, reason)])
        self.record_violation(request, failure, failure.violations[0], answer=False)

    # --- endpoints: orders ----------------------------------------------------------------------
    def _list_orders(self, request: Request) -> Response:
        args = request.args
        rows = list(self.orders.values())
        if args.get("updatedAtMin"):
            rows = [row for row in rows if row["dateUpdated"] >= args["updatedAtMin"]]
        if args.get("updatedAtMax"):
            rows = [row for row in rows if row["dateUpdated"] <= args["updatedAtMax"]]
        if args.get("innerId"):
            rows = [row for row in rows if row["innerId"] == args["innerId"]]
        if args.get("excludeAbandonedCart") == "1":
            rows = [row for row in rows if row.get("orderStatus")]
        rows.sort(key=lambda row: int(row["innerId"]))
        return self._page(request, "orderExtend", rows)

    def _get_order(self, request: Request, resource_id: str) -> Response:
        record = self.orders.get(resource_id)
        if record is None:
            return error(404, 40401, f"Resource not found! orderExtend/{resource_id}")
        return json_answer(200, self._visible(record))

    # --- endpoints: products --------------------------------------------------------------------
    def _list_products_extend(self, request: Request) -> Response:
        args = request.args
        rows = list(self.products.values())
        if "sku" in args:
            rows = [row for row in rows if row["sku"] == args["sku"]]
        if args.get("updatedAfter"):
            rows = [row for row in rows if row["dateUpdated"] >= args["updatedAfter"]]
        rows.sort(key=lambda row: int(row["innerId"]))
        return self._page(request, "productExtend", [self._visible(row) for row in rows])

    def _get_product_extend(self, request: Request, resource_id: str) -> Response:
        record = self.products.get(resource_id)
        if record is None:
            return error(404, 40401, f"Resource not found! productExtend/{resource_id}")
        return json_answer(200, self._visible(record))

    def _list_products(self, request: Request) -> Response:
        rows = sorted(self.products.values(), key=lambda row: int(row["innerId"]))
        return self._page(request, "products", [self._as_product(row) for row in rows])

    def _get_product(self, request: Request, resource_id: str) -> Response:
        record = self.products.get(resource_id)
        if record is None:
            return error(404, 40401, f"Resource not found! products/{resource_id}")
        return json_answer(200, self._as_product(record))

    def _save_product(self, request: Request, resource_id: str) -> Response:
        record = self.products.get(resource_id)
        if record is None:
            return error(404, 40401, f"Resource not found! products/{resource_id}")
        refused = self.refusals.pop(record["sku"], None)
        if refused is not None:
            return error(400, 40005, refused)
        data = data_of(request)
        for field in ("price", "stock1", "stock2", "stock3", "stock4", "sku", "gtin"):
            if field in data and data[field] is not None:
                value = str(data[field])
                if field.startswith("stock") or field == "price":
                    try:
                        number = Decimal(value)
                    except ArithmeticError:
                        return error(400, 40005, f"The {field} parameter has wrong data.")
                    value = text(number) if field == "price" else str(int(number))
                record[field] = value
        record["dateUpdated"] = self.now()
        self._price(record)
        return json_answer(200, self._as_product(record))

    def _save_description(self, request: Request, resource_id: str) -> Response:
        for record in self.products.values():
            for description in record.get("productDescriptions") or ():
                if description.get("id") == resource_id:
                    refused = self.refusals.pop(record["sku"], None)
                    if refused is not None:
                        return error(400, 40005, refused)
                    data = data_of(request)
                    if "name" in data:
                        description["name"] = str(data["name"])
                    record["dateUpdated"] = self.now()
                    shape = self._template("productDescriptions")
                    shape.update(
                        {key: value for key, value in description.items() if kind(value) == kind(shape.get(key))}
                    )
                    shape["product"] = {"href": f"{self.api_root()}/products/{record['id']}"}
                    return json_answer(200, shape)
        return error(404, 40401, f"Resource not found! productDescriptions/{resource_id}")

    def _list_specials(self, request: Request) -> Response:
        rows = sorted(self.specials.values(), key=lambda record: record["innerId"])
        if "productId" in request.args:
            rows = [record for record in rows if record["_product"] == request.args["productId"]]
        answers = [self._special_answer(record) for record in rows]
        if request.args.get("full") != "1":
            answers = [{"href": answer["href"]} for answer in answers]
        return self._page(request, "productSpecials", answers)

    def _get_special(self, request: Request, resource_id: str) -> Response:
        record = self.specials.get(resource_id)
        if record is None:
            return error(404, 40401, f"Resource not found! productSpecials/{resource_id}")
        return json_answer(200, self._special_answer(record))

    def _post_special(self, request: Request, resource_id: str | None = None) -> Response:
        """Create, or (an id that exists) change: "It is used to create and modify"."""
        data = data_of(request)
        named = resource_id or (str(data["id"]) if data.get("id") is not None else None)
        record = self.specials.get(named) if named else None
        if record is not None:
            refused = self._apply_special(request, record, data)
            return refused or json_answer(200, self._special_answer(record))
        product = data.get("product")
        if not isinstance(product, dict) or not product.get("id"):
            self._record(request, "body.data.product", "a new special names its product (required)")
            return error(400, 40005, "The product parameter is required.")
        if str(product["id"]) not in self.products:
            return error(400, 40005, f"Product not found: {product['id']}")
        record = self._new_special(named, str(product["id"]), None)
        refused = self._apply_special(request, record, {key: value for key, value in data.items() if key != "id"})
        if refused is not None:
            del self.specials[record["id"]]
            return refused
        return json_answer(201, self._special_answer(record))

    def _put_special(self, request: Request, resource_id: str) -> Response:
        record = self.specials.get(resource_id)
        if record is None:
            return error(404, 40401, f"Resource not found! productSpecials/{resource_id}")
        refused = self._apply_special(request, record, data_of(request))
        return refused or json_answer(200, self._special_answer(record))

    def _delete_special(self, request: Request, resource_id: str) -> Response:
        record = self.specials.pop(resource_id, None)
        if record is None:
            return error(404, 40401, f"Resource not found! productSpecials/{resource_id}")
        self._specials_changed(record["_product"])
        return Response(status=204)

    def _page(self, request: Request, resource: str, rows: list[dict[str, Any]]) -> Response:
        limit = int(request.args.get("limit") or DEFAULT_LIMIT)
        page = int(request.args.get("page") or 0)
        pages = -(-len(rows) // limit)
        if page > 0 and page >= pages:
            return error(
                400, 40008, f"Page not found! This Resource minimum page is 0 and maximum page is {max(pages - 1, 0)}"
            )
        shown = [self._visible(row) for row in rows[page * limit : (page + 1) * limit]]
        root = f"{self.api_root()}/{resource}"

        def link(number: int) -> dict[str, str]:
            return {"href": f"{root}?page={number}&limit={limit}"}

        envelope: dict[str, Any] = {
            "href": f"{root}?page={page}&limit={limit}",
            "page": page,
            "pageCount": pages,
            "limit": limit,
            "first": link(0),
            "previous": link(page - 1) if page > 0 else None,
            "next": link(page + 1) if page + 1 < pages else None,
            "last": link(max(pages - 1, 0)),
        }
        if self.contract is not None:
            shape = self.contract.resources[resource].page
            envelope = {key: envelope.get(key, self.now() if key == "requestTime" else None) for key in shape}
        return json_answer(200, envelope | {"items": shown})

    # --- endpoints: the batch -------------------------------------------------------------------
    def _batch(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            body = None
        requests = ((body or {}).get("data") or {}).get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            self._record(request, "body", 'a batch is {"data": {"requests": [...]}} (04_batch.md)')
            return error(400, 40001, "Data parameter not found in POST/PUT!")
        if len(requests) > MAX_BATCH:
            self._record(request, "body.data.requests", f"{len(requests)} requests; the docs advise at most 200")
            return error(400, 40005, "The given data is wrong!")
        answered = []
        for index, entry in enumerate(requests):
            answered.append(self._sub_request(request, index, entry))
        return json_answer(200, {"requests": {"request": answered}})

    def _sub_request(self, outer: Request, index: int, entry: Any) -> dict[str, Any]:
        method = str((entry or {}).get("method") or "").upper() if isinstance(entry, dict) else ""
        uri = str((entry or {}).get("uri") or "") if isinstance(entry, dict) else ""
        parts = urlsplit(uri)
        where = f"body.data.requests[{index}]"
        if method not in ("GET", "POST", "PUT", "DELETE") or not uri.startswith(self.api_root() + "/"):
            self._record(outer, where, f"needs a method and an absolute uri under {self.api_root()}")
            status, answer = 400, {"error": 40005, "message": "The given data is wrong!"}
            return {"method": method, "uri": uri, "response": {"header": {"statusCode": status}, "body": answer}}
        if method in ("POST", "PUT") and not isinstance(entry.get("data"), dict):
            self._record(outer, where, "a POST or PUT in a batch carries its data")
        builder = EnvironBuilder(
            path=parts.path,
            query_string=parts.query,
            method=method,
            headers={"Accept": "application/json", "Authorization": outer.headers.get("Authorization", "")},
            data=json.dumps({"data": entry.get("data")}) if method in ("POST", "PUT") else None,
            content_type="application/json" if method in ("POST", "PUT") else None,
        )
        inner = Request(builder.get_environ())
        found, params = self.match(inner)
        response = self.checked_answer(inner, found, params)
        self.request_log.record(inner, f"batch:{found.group if found else 'unknown'}", response.status_code)
        try:
            answer = json.loads(response.get_data() or b"null")
        except ValueError:
            answer = response.get_data(as_text=True)
        return {
            "method": method,
            "uri": uri,
            "response": {"header": {"statusCode": response.status_code}, "body": answer},
        }


def decoded_id(value: str) -> str:
    """A resource id's text (`customerGroup-customer_group_id=8`), "" when it is no base64."""
    try:
        return base64.b64decode(value, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return ""


def data_of(request: Request) -> dict[str, Any]:
    try:
        parsed = json.loads(request.get_data() or b"null")
    except ValueError:
        return {}
    data = parsed.get("data") if isinstance(parsed, dict) else None
    return data if isinstance(data, dict) else {}


def json_answer(status: int, body: Any, *, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status, content_type="application/json", headers=dict(headers or {}))


def error(status: int, code: int | None, message: str, *, headers: Mapping[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"message": message}
    if code is not None:
        body = {"error": code} | body
    return json_answer(status, body, headers=headers)
