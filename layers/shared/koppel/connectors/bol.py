"""bol.com Retailer API v10: open orders in, shipments out.

bol answers in `application/vnd.retailer.v10+json` and authenticates with short-lived OAuth2
client-credentials tokens (about five minutes). The token is fetched once and reused until shortly
before it expires: bol blocks clients that ask for tokens too often. Every call, the token request
included, goes through `HttpApi`, so 429/5xx/rate-limit pacing are handled in one place.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from koppel.config import Account, BolSettings
from koppel.connectors.base import OrderPage
from koppel.connectors.http import Clock, HttpApi, RetryPolicy
from koppel.errors import ConfigurationError, PermanentConnectorError
from koppel.models import Address, Customer, Money, Order, OrderLine, OrderStatus, Shipment
from koppel.observability import logger

MEDIA_TYPE = "application/vnd.retailer.v10+json"
PAGE_SIZE = 50
# bol's transporter code for "another carrier"; used when a shipment names none.
FALLBACK_TRANSPORTER = "OTHER"
MAX_ITEMS_PER_SHIPMENT = 100
# Refresh this long before bol's expiry, so a token never runs out between our check and bol's.
TOKEN_MARGIN_SECONDS = 30.0
CENT = Decimal("0.01")


class BolConnector:
    """Order source and shipment target for one bol.com retailer account."""

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
    ) -> None:
        self.settings = settings or BolSettings()
        self._clock = clock or Clock()
        self._api = HttpApi(client, system="bol", policy=policy, clock=self._clock)
        self._basic = httpx.BasicAuth(client_id, client_secret)
        self._bearer = _BearerAuth(self)
        self._base = self.settings.base_url.rstrip("/") + ("/retailer-demo" if demo else "/retailer")
        self._token = ""
        self._token_expires_at = 0.0

    # --- OrderSource ----------------------------------------------------------------------------
    def list_open_orders(self, page: int) -> OrderPage:
        body = self._call(
            "GET",
            "/orders",
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
        body = self._call("GET", f"/orders/{quote(channel_order_id, safe='')}")
        try:
            return to_order(body)
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            # ValidationError is a ValueError; named for the reader.
            raise PermanentConnectorError(
                "bol order cannot be read as a koppel order", channel_order_id=channel_order_id
            ) from exc

    # --- ShipmentTarget -------------------------------------------------------------------------
    def confirm_shipment(self, order: Order, shipment: Shipment) -> None:
        """Ship the given order items (all of the order's lines when none are named).

        bol accepts the request with 202 and processes it later; the process status id is logged
        so a failed shipment can be traced.
        """
        item_ids = shipment.line_ids or tuple(line.line_id for line in order.lines)
        transport = {"transporterCode": shipment.carrier or FALLBACK_TRANSPORTER}
        if shipment.tracking_code:
            transport["trackAndTrace"] = shipment.tracking_code
        for chunk in _chunks(item_ids, MAX_ITEMS_PER_SHIPMENT):
            request = {"orderItems": [{"orderItemId": item_id} for item_id in chunk], "transport": transport}
            status = self._call("POST", "/shipments", body=request)
            logger.info(
                "bol shipment accepted",
                channel_order_id=order.channel_order_id,
                order_items=len(chunk),
                process_status_id=status.get("processStatusId"),
                process_status=status.get("status"),
            )

    # --- HTTP -----------------------------------------------------------------------------------
    def _call(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: object = None
    ) -> dict[str, Any]:
        headers = {"Accept": MEDIA_TYPE}
        content = None
        if body is not None:
            headers["Content-Type"] = MEDIA_TYPE
            content = json.dumps(body)
        response = self._api.request(
            method, self._base + path, params=params, headers=headers, content=content, auth=self._bearer
        )
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


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
