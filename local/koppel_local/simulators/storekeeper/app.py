"""A StoreKeeper simulator on the kit: one shop's JSON RPC (shop products with stock and their
publication per sales channel, the shop's "publish everything" setting, customers, orders, payments)
and the hooks StoreKeeper sends.

StoreKeeper publishes no API specification. This simulator is built from the public facts koppel keeps
on it (`FACTS-systems-2.md` §1.5 and §2.2: its PHP API wrapper, its WooCommerce and Magento plugins
and their recorded calls and hooks), not from a spec; every request is checked against the call
shapes in `contract.py`, and one off them is refused and fails the test that sent it.

Served: `POST {api_url}/?action=request&api=fulljson&module=M&function=F` for
`ShopModule::naturalSearchShopFlatProductForHooks`, `getShopSettingsForHooks`, `newOrder`, `getOrder`,
`listOrders`, `updateOrderStatus`, `findShopCustomerBySubuserEmail`, `newShopCustomer`,
`attachPaymentIdsToOrder` and `PaymentModule::newWebPayment`. The API key is the shop's (`account`,
`user`, `apikey` of the auth block); a request with another is answered 401. Each function is its own
endpoint group, so `fail_next(group="ShopModule::newOrder", after_execution=True)` makes an order and
loses its answer, and `calls("ShopModule::newOrder")` lists what was asked.

Hooks out (`hook_body`, `send_hook`): `{"action", "payload"}` with the hook token in `UpxHookToken`;
`init_payload()` hands over the API key, `set_stock(sku, units)` changes a level and answers the
`events` payload naming the product (so does an order, marking it `is_own_order_stock_change`).

Not verified against the real StoreKeeper (beyond what `contract.py` lists):
- the HTTP status of a refusal: answered 200 with `success: false` (a refused key: 401), classes other
  than `ShopModule::OrderDuplicateNumber` are made up (`ShopModule::ShopProductNotFound`, ...);
- `listOrders(start, limit, order, filters)` and its row fields; the fields of `getShopSettingsForHooks`
  (`publish_all_products`); where a shop product keeps its EAN, image and category;
- that an order takes stock out at once (even below zero, as `force_backorder_if_not_on_stock` asks),
  is paid once its attached payments reach its total, and that one payment links to one order;
- that a shop product's `active` is its publication on the shop's sales channel.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from koppel_local.simulators.kit import (
    ClaimedViolations,
    Contract,
    ContractViolation,
    Fault,
    PlannedFaults,
    Route,
    ShopClock,
    WsgiSimulator,
)
from koppel_local.simulators.storekeeper.contract import StoreKeeperContract, parse

DEMO_ACCOUNT = "koppeldemo"
DEMO_USER = "koppel-app"
DEMO_APIKEY = "storekeeper-demo-api-key"  # the simulator's made-up key
DEMO_HOST = "https://koppeldemo.storekeepercloud.test"
DEMO_CHANNEL = "winkelstraat"  # the sales channel (StoreKeeper shop) the API key belongs to
TOKEN_HEADER = "UpxHookToken"  # noqa: S105 - the header's name, not a token
RPC = Route("POST", re.compile(r"/api/?"), "rpc", "_rpc")
CENT = Decimal("0.01")
DUPLICATE = "ShopModule::OrderDuplicateNumber"


@dataclass
class ShopProduct:
    id: int
    product_id: int
    sku: str
    title: str
    price: Decimal  # the default price, VAT included
    stock: int
    date_updated: datetime
    ean: str = ""
    sale: Decimal | None = None  # the current (discounted) price, VAT included
    tax_rate: Decimal = Decimal(21)
    unlimited: bool = False
    kind: str = "simple"
    active_on: dict[str, bool] = field(default_factory=dict)  # sales channel -> active (published) there
    image_url: str = ""
    category: str = ""

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-") or self.sku.lower()


class StoreKeeperSimulator(ShopClock, ClaimedViolations, PlannedFaults, WsgiSimulator):
    """One StoreKeeper shop (a sales channel of the merchant's StoreKeeper), through its API key."""

    system = "StoreKeeper simulator"
    routes = (RPC,)

    def __init__(
        self,
        *,
        contract: Contract | None = None,
        account: str = DEMO_ACCOUNT,
        user: str = DEMO_USER,
        apikey: str = DEMO_APIKEY,
        channel: str = DEMO_CHANNEL,
        publish_all: bool = False,
        currency: str = "EUR",
        now: datetime | None = None,
        latency_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`contract`: None serves the call shapes of `contract.py` (there is no reference file to miss)."""
        self.setup_kit(clock=clock, sleep=sleep, latency_seconds=latency_seconds)
        self.contract = contract if contract is not None else StoreKeeperContract()
        self.account, self.user, self.apikey = account, user, apikey
        self.channel = channel
        self.publish_all = publish_all
        self.currency = currency
        self.served_at = ""  # "" : the shop's public host (`serve_at`)
        self.zone = ZoneInfo("Europe/Amsterdam")
        self.start_clock(now)
        self.products: dict[int, ShopProduct] = {}
        self.customers: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.payments: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []  # every hook event the shop has raised, oldest first
        self._ids = {
            kind: count(start)
            for kind, start in (
                ("product", 101),
                ("customer", 501),
                ("order", 9001),
                ("payment", 7001),
                ("event", 2401),
            )
        }

    # --- where it answers -------------------------------------------------------------------------
    def api_url(self) -> str:
        return f"{self.served_at or DEMO_HOST}/api"

    def serve_at(self, base_url: str) -> str:
        """The shop answers on `base_url` (a local server); returns the api_url its `init` hook hands over."""
        self.served_at = base_url.rstrip("/")
        return self.api_url()

    # --- state API for tests and the demo -------------------------------------------------------
    def add_product(
        self,
        sku: str,
        title: str = "",
        *,
        price: Decimal | str = "19.95",
        sale: Decimal | str | None = None,
        stock: int = 10,
        unlimited: bool = False,
        ean: str = "",
        published: bool = True,
        channels: Mapping[str, bool] | None = None,
        image_url: str = "",
        category: str = "",
        kind: str = "simple",
    ) -> ShopProduct:
        """A shop product; `published`: active on the API's sales channel; `channels`: on others too."""
        with self._lock:
            number = next(self._ids["product"])
            product = ShopProduct(
                id=number,
                product_id=number + 100000,
                sku=sku,
                title=title or sku,
                price=Decimal(str(price)),
                sale=Decimal(str(sale)) if sale is not None else None,
                stock=stock,
                unlimited=unlimited,
                ean=ean,
                date_updated=self.moment,
                active_on={**dict(channels or {}), self.channel: published},
                image_url=image_url,
                category=category,
                kind=kind,
            )
            self.products[number] = product
            return product

    def product(self, sku: str) -> ShopProduct:
        with self._lock:
            return next(product for product in self.products.values() if product.sku == sku)

    def publish(self, sku: str, active: bool = True, *, channel: str | None = None) -> dict[str, Any]:
        """The product (de)activated on a sales channel; the `events` payload StoreKeeper sends for it."""
        with self._lock:
            product = self.product(sku)
            product.active_on[channel or self.channel] = active
            return self._event(product, "activated" if active else "deactivated", {})

    def set_stock(self, sku: str, units: int) -> dict[str, Any]:
        """The product's stock set, as a count in StoreKeeper; the `events` payload naming it."""
        with self._lock:
            product = self.product(sku)
            product.stock = units
            product.date_updated = self.moment
            return self._event(product, "stock_change", {"is_own_order_stock_change": False})

    def stock(self, sku: str) -> int:
        with self._lock:
            return self.product(sku).stock

    def rotate_key(self) -> str:
        """A new API key for the shop; the old one is refused from now on."""
        with self._lock:
            self.apikey = f"{self.apikey}-rotated"
            return self.apikey

    def add_customer(self, email: str, name: str = "") -> int:
        with self._lock:
            number = next(self._ids["customer"])
            self.customers[number] = {"id": number, "email": email, "relation": {"name": name}}
            return number

    def orders_numbered(self, shop_order_number: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(o) for o in self.orders.values() if o["shop_order_number"] == shop_order_number]

    def order(self, order_id: int | str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.orders[int(order_id)])

    # --- hooks out ------------------------------------------------------------------------------
    def init_payload(self) -> dict[str, Any]:
        """What the `init` hook hands over when the merchant connects the app: the API URL and key."""
        sync = {"account": self.account, "user": self.user, "apikey": self.apikey}
        return {"api_url": self.api_url(), "sync_auth": sync, "guest_auth": {"account": self.account, "mode": "none"}}

    def hook_body(self, action: str, payload: Mapping[str, Any] | None = None) -> bytes:
        """A hook's body; `init` without a payload carries `init_payload()`."""
        if payload is None:
            payload = self.init_payload() if action == "init" else {}
        return json.dumps({"action": action, "payload": dict(payload)}, default=str).encode()

    def send_hook(
        self,
        url: str,
        token: str,
        action: str,
        payload: Mapping[str, Any] | None = None,
        *,
        client: httpx.Client | None = None,
    ) -> httpx.Response:
        """POST one hook to koppel, as StoreKeeper does, the hook token in `UpxHookToken`."""
        headers = {"Content-Type": "application/json", TOKEN_HEADER: token}
        body = self.hook_body(action, payload)
        if client is not None:
            return client.post(url, content=body, headers=headers)
        return httpx.post(url, content=body, headers=headers, timeout=30)

    # --- the kit's hooks, in StoreKeeper's words -------------------------------------------------
    def match(self, request: Request) -> tuple[Route | None, dict[str, str]]:
        if request.method != "POST" or RPC.pattern.fullmatch(request.path) is None:
            return None, {}
        group = f"{request.args.get('module', '')}::{request.args.get('function', '')}"
        return Route("POST", RPC.pattern, group, RPC.handler), {}

    def contract_for(self, request: Request) -> tuple[Contract | None, str]:
        return self.contract, request.path

    def authenticate(self, request: Request) -> Response | None:
        try:
            auth = parse(request.get_data()).get("auth")
        except (ValueError, AttributeError):
            auth = None
        given = auth if isinstance(auth, dict) else {}
        expected = {"account": self.account, "user": self.user, "apikey": self.apikey, "mode": "apikey"}
        if all(str(given.get(name) or "") == value for name, value in expected.items()):
            return None
        return reply(401, error_body("AuthModule::InvalidApiKey", "Invalid api key or account"))

    def refuse(self, request: Request, error: ContractViolation) -> Response:
        reasons = "; ".join(f"{v.name}: {v.reason}" for v in error.violations)
        return reply(400, error_body("Core::InvalidCall", reasons[:1000]))

    def not_served(self, request: Request) -> Response:
        return reply(501, error_body("Core::NotServed", f"the simulator does not serve {request.path}"))

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.status >= 500 or fault.status == 429:
            return Response(HTTP_STATUS_CODES.get(fault.status, "Error"), fault.status, content_type="text/html")
        return reply(fault.status, error_body("Core::Fault", HTTP_STATUS_CODES.get(fault.status, "Error")))

    # --- the RPC ----------------------------------------------------------------------------------
    def _rpc(self, request: Request) -> Response:
        function = f"{request.args['module']}::{request.args['function']}"
        params = parse(request.get_data())["params"]
        handler = getattr(self, "fn_" + function.replace("::", "_"))
        try:
            return reply(200, {"success": True, "response": handler(*params)})
        except Refused as refused:
            return reply(200, error_body(refused.error_class, refused.words))

    def fn_ShopModule_naturalSearchShopFlatProductForHooks(
        self, query: Any, lang: Any, start: int, limit: int, order: Any, filters: Any
    ) -> dict[str, Any]:
        rows = [p for p in self.products.values() if all(self._keeps(p, f) for f in filters or ())]
        descending = any(entry.get("dir") == "desc" for entry in order or ())
        rows.sort(key=lambda p: p.id, reverse=descending)
        page = rows[start : start + limit]
        return {"data": [self._row(p) for p in page], "total": len(rows), "count": len(page)}

    def fn_ShopModule_getShopSettingsForHooks(self) -> dict[str, Any]:
        return {"name": self.channel, "currency_iso3": self.currency, "publish_all_products": self.publish_all}

    def fn_ShopModule_newOrder(self, data: dict[str, Any]) -> int:
        number = str(data["shop_order_number"])
        if any(order["shop_order_number"] == number for order in self.orders.values()):
            raise Refused(DUPLICATE, f"Order with shop order number {number} already exists")
        relation = data.get("relation_data_id")
        if relation is not None and relation not in self.customers:
            raise Refused("ShopModule::RelationNotFound", f"No customer {relation}")
        items = data["order_items"]
        for item in items:
            if "shop_product_id" in item and item["shop_product_id"] not in self.products:
                raise Refused("ShopModule::ShopProductNotFound", f"No shop product {item['shop_product_id']}")
        order_id = next(self._ids["order"])
        value = sum((Decimal(item.get("ppu_wt", item.get("ppu", 0))) * item["quantity"] for item in items), Decimal(0))
        self.orders[order_id] = {
            "id": order_id,
            "number": f"SK{order_id}",
            "shop_order_number": number,
            "customer_reference": data.get("customer_reference", ""),
            "customer_comment": data.get("customer_comment", ""),
            "relation_data_id": relation,
            "is_anonymous": bool(data.get("is_anonymous")),
            "billing_address": data.get("billing_address"),
            "shipping_address": data.get("shipping_address"),
            "order_items": copy.deepcopy(items),
            "value_wt": value.quantize(CENT),
            "is_paid": False,
            "payment_ids": [],
            "status": "new",
            "date_created": self._time(),
        }
        for item in items:
            product = self.products.get(item.get("shop_product_id", 0))
            if product is not None and not product.unlimited:
                product.stock -= item["quantity"]  # booked even when short (force_backorder_if_not_on_stock)
                product.date_updated = self.moment
                self._event(product, "stock_change", {"is_own_order_stock_change": True})
        return order_id

    def fn_ShopModule_getOrder(self, order_id: int, _: None) -> dict[str, Any]:
        if order_id not in self.orders:
            raise Refused("ShopModule::OrderNotFound", f"No order {order_id}")
        return copy.deepcopy(self.orders[order_id])

    def fn_ShopModule_listOrders(self, start: int, limit: int, order: Any, filters: Any) -> dict[str, Any]:
        fields = {"id__=": "id", "shop_order_number__=": "shop_order_number"}
        rows = [
            o for o in self.orders.values() if all(str(o[fields[f["name"]]]) == str(f["val"]) for f in filters or ())
        ]
        page = rows[start : start + limit]
        keys = ("id", "number", "shop_order_number", "customer_reference", "is_paid", "value_wt", "status")
        return {"data": [{key: o[key] for key in keys} for o in page], "total": len(rows), "count": len(page)}

    def fn_ShopModule_updateOrderStatus(self, data: dict[str, Any], order_id: int) -> None:
        self.fn_ShopModule_getOrder(order_id, None)
        self.orders[order_id]["status"] = data["status"]

    def fn_ShopModule_findShopCustomerBySubuserEmail(self, data: dict[str, Any]) -> dict[str, Any]:
        email = data["email"].strip().casefold()
        for customer in self.customers.values():
            if customer["email"].casefold() == email:
                return {"id": customer["id"]}
        raise Refused("ShopModule::ShopCustomerNotFound", "Customer not found")

    def fn_ShopModule_newShopCustomer(self, data: dict[str, Any]) -> int:
        relation = data["relation"]
        email = relation["subuser"]["email"]
        if any(c["email"].casefold() == email.casefold() for c in self.customers.values()):
            raise Refused("ShopModule::EmailAlreadyExists", f"A customer with {email} exists")
        number = next(self._ids["customer"])
        self.customers[number] = {"id": number, "email": email, "relation": copy.deepcopy(relation)}
        return number

    def fn_PaymentModule_newWebPayment(self, data: dict[str, Any]) -> int:
        number = next(self._ids["payment"])
        self.payments[number] = {
            "id": number,
            "amount": Decimal(data["amount"]),
            "description": data.get("description", ""),
            "order_id": None,
        }
        return number

    def fn_ShopModule_attachPaymentIdsToOrder(self, data: dict[str, Any], order_id: int) -> None:
        self.fn_ShopModule_getOrder(order_id, None)  # refused when there is no such order
        order = self.orders[order_id]
        if order["is_paid"]:
            raise Refused("ShopModule::OrderAlreadyPaid", "Order is already paid")
        for payment_id in data["payment_ids"]:
            payment = self.payments.get(payment_id)
            if payment is None:
                raise Refused("PaymentModule::PaymentNotFound", f"No payment {payment_id}")
            if payment["order_id"] is not None:
                raise Refused("PaymentModule::PaymentAlreadyLinked", "This payment is already linked to an order")
        for payment_id in data["payment_ids"]:
            self.payments[payment_id]["order_id"] = order_id
            order["payment_ids"].append(payment_id)
        paid = sum((self.payments[p]["amount"] for p in order["payment_ids"]), Decimal(0))
        order["is_paid"] = paid >= order["value_wt"]

    # --- bookkeeping ----------------------------------------------------------------------------
    def _keeps(self, product: ShopProduct, given: dict[str, Any]) -> bool:
        name = given["name"]
        if name == "id__=":
            return str(product.id) == str(given["val"])
        if name == "id__in_list":
            return product.id in {int(each) for each in given["multi_val"]}
        if name == "flat_product/product/sku__=":
            return product.sku == str(given["val"])
        if name == "flat_product/product/ean__=":
            return bool(product.ean) and product.ean == str(given["val"])
        return product.kind in given["multi_val"]  # flat_product/product/type__in_list

    def _row(self, product: ShopProduct) -> dict[str, Any]:
        rate = product.tax_rate / 100
        current = product.sale if product.sale is not None else product.price

        def price(amount: Decimal) -> dict[str, Any]:
            net = (amount / (1 + rate)).quantize(CENT)
            return {"ppu": net, "ppu_wt": amount, "tax": rate, "tax_rate_id": 55, "currency_iso3": self.currency}

        updated = self._time(product.date_updated)
        flat: dict[str, Any] = {
            "id": product.id + 50000,
            "product_id": product.product_id,
            "dirty": False,
            "title": product.title,
            "slug": product.slug,
            "product": {
                "id": product.product_id,
                "sku": product.sku,
                "ean": product.ean,
                "type": product.kind,
                "active": True,
                "product_stock": {
                    "value": product.stock,
                    "in_stock": product.unlimited or product.stock > 0,
                    "unlimited": product.unlimited,
                    "date_updated": updated,
                },
            },
        }
        if product.image_url:
            flat["main_image"] = {"big_url": product.image_url}
        if product.category:
            flat["categories"] = [{"title": product.category}]
        return {
            "id": product.id,
            "product_id": product.product_id,
            "active": product.active_on.get(self.channel, False),
            "backorder_enabled": False,
            "orderable_stock_value": product.stock,
            "date_updated": updated,
            "product_price": price(current),
            "product_default_price": price(product.price),
            "flat_product": flat,
        }

    def _event(self, product: ShopProduct, event: str, details: dict[str, Any]) -> dict[str, Any]:
        number = next(self._ids["event"])
        when = self._time()
        entry = {"id": number, "event": event, "details": details, "date": when}
        self.events.append({**entry, "backref": f"ShopModule::ShopProduct(id={product.id})"})
        return {
            "date_newest": when,
            "backref": f"ShopModule::ShopProduct(id={product.id})",
            "events": {str(number): entry},
        }

    def _time(self, moment: datetime | None = None) -> str:
        return (moment or self.moment).astimezone(self.zone).isoformat(sep=" ")


class Refused(Exception):
    """A function's refusal: `success: false` with StoreKeeper's class and words."""

    def __init__(self, error_class: str, words: str) -> None:
        super().__init__(words)
        self.error_class = error_class
        self.words = words


def error_body(error_class: str, words: str) -> dict[str, Any]:
    return {"success": False, "class": error_class, "error": words, "errno": 0, "ref": "simulator"}


def reply(status: int, body: Mapping[str, Any]) -> Response:
    return Response(json.dumps(body, default=_json), status, content_type="application/json")


def _json(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
