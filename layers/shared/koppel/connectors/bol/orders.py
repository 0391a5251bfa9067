"""bol.com orders in: the open orders, one order as bol has it now, and its translation to koppel's `Order`.

bol keeps an item the buyer asked to cancel OPEN (and the koppel order too) until the retailer
confirms the cancellation; `get_order` marks such a line `cancel_requested`, so the flows read the
request from the order they already have.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from koppel.connectors.base import OrderPage
from koppel.connectors.bol.client import BolPart
from koppel.errors import PermanentConnectorError
from koppel.models import Address, Customer, Money, Order, OrderLine, OrderStatus
from koppel.observability import logger

PAGE_SIZE = 50
CENT = Decimal("0.01")


class BolOrderItems(BolPart):
    """bol's order as bol has it: what orders, shipments and cancellations all read."""

    def raw_order(self, channel_order_id: str) -> dict[str, Any]:
        return self.bol.call("GET", f"{self.bol.retailer}/orders/{quote(channel_order_id, safe='')}")

    def open_item_ids(self, channel_order_id: str) -> tuple[str, ...]:
        """The order's items with units neither cancelled nor shipped, as bol has them now."""
        body = self.raw_order(channel_order_id)
        try:
            item_ids = tuple(str(item["orderItemId"]) for item in body["orderItems"] if unhandled_units(item) > 0)
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentConnectorError("bol order items cannot be read", channel_order_id=channel_order_id) from exc
        if not item_ids:
            raise PermanentConnectorError("bol order has no open items left", channel_order_id=channel_order_id)
        return item_ids


class BolOrders(BolOrderItems):
    """`OrderSource`: bol's open orders, a page at a time, and each order read as koppel's."""

    def list_open_orders(self, page: int) -> OrderPage:
        body = self.bol.call(
            "GET",
            f"{self.bol.retailer}/orders",
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
        body = self.raw_order(channel_order_id)
        try:
            return to_order(body)
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            # ValidationError is a ValueError; named for the reader.
            raise PermanentConnectorError(
                "bol order cannot be read as a koppel order", channel_order_id=channel_order_id
            ) from exc

    def cancellation_requests(self, channel_order_id: str) -> tuple[str, ...]:
        """Order item ids the buyer asked to cancel that are still open, asked of bol now: confirm
        each with `cancel_items(..., "REQUESTED_BY_CUSTOMER")` instead of shipping it. (An Order
        from `get_order` says the same in `cancel_requested_lines`.)"""
        body = self.raw_order(channel_order_id)
        try:
            return cancellation_requested_items(body)
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentConnectorError("bol order items cannot be read", channel_order_id=channel_order_id) from exc


def cancellation_requested_items(data: Mapping[str, Any]) -> tuple[str, ...]:
    """Ids of the order's items the buyer asked to cancel and that are still open."""
    return tuple(str(item["orderItemId"]) for item in data["orderItems"] if _cancel_requested(item))


def _cancel_requested(item: Mapping[str, Any]) -> bool:
    # bol leaves `cancellationRequest` true after the cancellation is confirmed; an item with
    # nothing left open needs no more action.
    return bool(item.get("cancellationRequest")) and unhandled_units(item) > 0


def unhandled_units(item: Mapping[str, Any]) -> int:
    return _open_quantity(item) - int(item.get("quantityShipped", 0))


# --- translation to the canonical model ---------------------------------------------------------
def to_order(data: Mapping[str, Any]) -> Order:
    """A bol `Order` as a koppel `Order`.

    Cancelled units are left out. An order whose every unit is cancelled keeps its lines as ordered
    and gets status CANCELLED, so the caller can see (and pass on) the cancellation. A line the
    buyer asked to cancel, with units still open, has `cancel_requested`.
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
        cancel_requested=_cancel_requested(item),
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
