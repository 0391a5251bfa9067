"""Shoprenter orders as koppel's orders (`OrderChanges`), read by when they last changed, and one order
by its id (what the order-status webhook names).

koppel polls `GET /orderExtend?full=1&updatedAtMin=T&excludeAbandonedCart=1&limit=N&page=P` (pages
from 0). The docs promise no order of the list, so a read takes every page of the window and orders
it itself by (`dateUpdated`, `innerId`). The cursor is `{dateUpdated in UTC}|{innerId}`:
- inside a read (the flow reads again while `more`), it is the last order handed over; the next read
  asks from a second before it (whether `updatedAtMin` counts its own second is not documented) and
  skips every order at or before it, so two orders of one second on both sides of a page boundary
  both come, each once;
- when a read reaches the end, the cursor steps back `overlap_seconds` (`{T - overlap}|0`): the next
  poll answers that window again (the protocol allows it) and an order saved late is not lost.
Orders whose status is not in `import_status_ids` (awaiting payment, failed) are left out, the
cursor moving past them; an order without a status is an abandoned cart and is left out too.

Time zone: Shoprenter writes `dateCreated`/`dateUpdated` and reads `updatedAtMin` without an offset,
in the shop's own time (`time_zone`, Europe/Budapest unless set). koppel turns them into UTC as they
come in and back into the shop's time when it asks, so the cursor is UTC. In the autumn hour that
comes twice a shop time is ambiguous; the earlier reading is taken, and the overlap (at least 300 s)
does not cover a whole hour: an order changed in that hour may be read an hour late, never lost.

`channel_order_id` is the `innerId` (the order number the admin's order list, the buyer's e-mail and
the webhook show); the resource id (`b3JkZXItb3JkZXJfaWQ9MTI=`) is an encoding of it for the API.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from koppel.connectors import cursors
from koppel.connectors.base import OrderChangesPage
from koppel.connectors.cursors import next_cursor
from koppel.connectors.shoprenter.client import ShoprenterPart, decimal, items_of, page_count
from koppel.errors import NotFound
from koppel.models import Address, Customer, Money, Order, OrderLine, OrderStatus

SHOP_TIME = "%Y-%m-%dT%H:%M:%S"
CURSOR_TIME = "%Y-%m-%dT%H:%M:%SZ"
MAX_PAGES = 50  # pages one read walks at most
CENT = Decimal("0.01")
DISCOUNT_TYPES = frozenset({"COUPON", "DISCOUNT", "LOYALTY_POINTS", "GIFT_CARD"})
STATUS_ID = re.compile(r"order_status_id=(\d+)")
ORDER_ID = re.compile(r"order_id=(\d+)")


class ShoprenterOrderChanges(ShoprenterPart):
    """`OrderChanges` and `OrderLookup` (`order(order_id)`, for the order-status webhook)."""

    def order_changes(self, cursor: str | None, *, since: datetime) -> OrderChangesPage:
        moment, after_id = parse_cursor(cursor, since)
        zone = ZoneInfo(self.settings.time_zone)
        asked = (moment - timedelta(seconds=1)).astimezone(zone).strftime(SHOP_TIME)
        seen: dict[int, tuple[tuple[datetime, int], dict[str, Any]]] = {}
        complete = False
        for number in range(MAX_PAGES):
            page = self.shoprenter.get(
                "orderExtend",
                {
                    "full": 1,
                    "updatedAtMin": asked,
                    "excludeAbandonedCart": 1,
                    "limit": self.settings.page_size,
                    "page": number,
                },
            )
            for order in items_of(page):
                key = order_key(order, zone)
                if key is not None and key > (moment, after_id):
                    seen[key[1]] = (key, order)
            if number + 1 >= page_count(page) or not items_of(page):
                complete = True
                break
        ordered = sorted(seen.values(), key=lambda found: found[0])
        size = self.settings.page_size
        wanted = ordered[:size]
        more = len(ordered) > size or not complete
        last = wanted[-1][0] if wanted else None
        imports = [order for _, order in wanted if self._imports(order)]
        orders = tuple(self.koppel_order(order) for order in imports)
        return OrderChangesPage(orders=orders, cursor=self._cursor(last, cursor, moment, after_id, more), more=more)

    def order(self, channel_order_id: str) -> Order | None:
        """The order as the shop has it now, by its `innerId` (digits) or its resource id; None when its
        status is not one the account imports (it comes again, by webhook or poll, when it changes)."""
        wanted = channel_order_id.strip()
        if wanted.isdigit():
            found = items_of(self.shoprenter.get("orderExtend", {"full": 1, "innerId": wanted}))
            if not found:
                raise NotFound(f"shoprenter has no order {wanted}", path="orderExtend")
            order = found[0]
        else:
            order = self.shoprenter.get(f"orderExtend/{wanted}")
        return self.koppel_order(order) if self._imports(order) else None

    def koppel_order(self, order: dict[str, Any]) -> Order:
        return shoprenter_order(
            order,
            ZoneInfo(self.settings.time_zone),
            self.settings.currency,
            cancelled=self.settings.cancelled_status_ids,
            shipped=self.settings.shipped_status_ids,
        )

    def _imports(self, order: dict[str, Any]) -> bool:
        status = status_id(order)
        return status is not None and status in {value.strip() for value in self.settings.import_status_ids}

    def _cursor(
        self, last: tuple[datetime, int] | None, held: str | None, moment: datetime, after_id: int, more: bool
    ) -> str:
        return next_cursor(
            last, held, moment, after_id, more, overlap_seconds=self.settings.overlap_seconds, write=cursor_of
        )


def parse_cursor(cursor: str | None, since: datetime) -> tuple[datetime, int]:
    return cursors.parse_cursor(cursor, since, CURSOR_TIME)


def cursor_of(moment: datetime, after_id: int) -> str:
    return cursors.cursor_of(moment, after_id, CURSOR_TIME)


def shop_time(value: object, zone: ZoneInfo) -> datetime | None:
    """A Shoprenter time (`2012-11-26T17:58:43`, or with a space) in the shop's zone, as UTC."""
    text = str(value or "").strip().replace(" ", "T")
    if not text or text.startswith(("0000", "-0001")):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def inner_id(order: dict[str, Any]) -> int | None:
    value = str(order.get("innerId") or "").strip()
    if value.isdigit():
        return int(value)
    found = ORDER_ID.search(decoded(str(order.get("id") or "")))
    return int(found.group(1)) if found else None


def order_key(order: dict[str, Any], zone: ZoneInfo) -> tuple[datetime, int] | None:
    moment, number = shop_time(order.get("dateUpdated"), zone), inner_id(order)
    if moment is None:
        moment = shop_time(order.get("dateCreated"), zone)
    return (moment, number) if moment is not None and number is not None else None


def decoded(resource_id: str) -> str:
    """What a resource id encodes (`orderStatus-order_status_id=1`); "" when it is not base64."""
    text = resource_id.rsplit("/", 1)[-1].strip()
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


def status_id(order: dict[str, Any]) -> str | None:
    """The order status's innerId, from its link (`/orderStatuses/{base64 of order_status_id=N}`)."""
    status = order.get("orderStatus")
    if not isinstance(status, dict):
        return None
    if str(status.get("innerId") or "").isdigit():
        return str(status["innerId"])
    link = str(status.get("id") or status.get("href") or "")
    found = STATUS_ID.search(decoded(link))
    return found.group(1) if found else None


# --- one order ----------------------------------------------------------------------------------
def shoprenter_order(
    order: dict[str, Any],
    zone: ZoneInfo,
    default_currency: str,
    *,
    cancelled: list[str],
    shipped: list[str],
) -> Order:
    currency_block = order.get("currency") if isinstance(order.get("currency"), dict) else {}
    currency = str(currency_block.get("code") or default_currency).upper()
    email = text(order.get("email"))
    number = str(inner_id(order) or text(order.get("id")))
    totals = order_totals(order)
    lines = order_lines(order.get("orderProducts"), currency, discount_of(totals))
    status = status_id(order)
    return Order(
        channel="shoprenter",
        channel_order_id=number,
        name=f"#{number}",
        placed_at=shop_time(order.get("dateCreated"), zone) or datetime.now(UTC),
        updated_at=shop_time(order.get("dateUpdated"), zone),
        status=(
            OrderStatus.CANCELLED
            if status in cancelled
            else OrderStatus.SHIPPED
            if status in shipped
            else OrderStatus.OPEN
        ),
        customer=Customer(
            email=email,
            first_name=text(order.get("firstname")),
            last_name=text(order.get("lastname")),
            phone=text(order.get("phone")),
            company=text(order.get("paymentCompany")),
        ),
        billing_address=address(order, "payment", email),
        shipping_address=address(order, "shipping", email),
        lines=lines,
        shipping_cost=Money(amount=totals["SHIPPING"], currency=currency) if "SHIPPING" in totals else None,
        currency=currency,
        channel_total=Money(amount=totals.get("TOTAL", decimal(order.get("total"))), currency=currency),
        payment_method=text(order.get("paymentMethodCode")) or text(order.get("paymentMethodName")),
        note=text(order.get("comment")),
    )


def text(value: object) -> str:
    """A text field; Shoprenter answers an empty one as `{}` at times."""
    return "" if value is None or isinstance(value, dict | list) else str(value).strip()


def order_totals(order: dict[str, Any]) -> dict[str, Decimal]:
    """The order's totals by type (SHIPPING, TOTAL, COUPON, ...), each summed, VAT included.

    In the docs' example the SHIPPING total is what the buyer pays for delivery (the TOTAL is the gross
    subtotal plus it), so it is taken as VAT included; unverified for shops showing net prices."""
    found: dict[str, Decimal] = {}
    entries = order.get("orderTotals")
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, dict) and entry.get("type"):
            kind = str(entry["type"]).upper()
            found[kind] = found.get(kind, Decimal(0)) + decimal(entry.get("value"))
    return found


def discount_of(totals: dict[str, Decimal]) -> Decimal:
    """The order-wide discounts (a coupon, loyalty points), VAT included, as a positive amount."""
    return sum((abs(amount) for kind, amount in totals.items() if kind in DISCOUNT_TYPES), Decimal(0))


def order_lines(products: Any, currency: str, discount: Decimal) -> tuple[OrderLine, ...]:
    rows = [row for row in products if isinstance(row, dict)] if isinstance(products, list) else []
    priced: list[tuple[dict[str, Any], int, Decimal, Decimal]] = []
    for row in rows:
        quantity = quantity_of(row)
        if quantity <= 0:
            continue
        rate = decimal(row.get("taxRate"))
        gross = decimal(row.get("grossPrice")) if row.get("grossPrice") not in (None, "", {}) else None
        if gross is None:
            gross = (decimal(row.get("price")) * (1 + rate / 100)).quantize(CENT, ROUND_HALF_UP)
        priced.append((row, quantity, gross, rate))
    shares = spread(discount, [gross * quantity for _, quantity, gross, _ in priced])
    return tuple(
        OrderLine(
            line_id=text(row.get("innerId")) or text(row.get("id")),
            channel_sku=text(row.get("sku")),
            ean=text(row.get("gtin")),
            title=text(row.get("name")),
            quantity=quantity,
            unit_price=Money(amount=gross, currency=currency),
            vat_rate=rate.normalize() if rate else Decimal(0),
            discount=Money(amount=share, currency=currency) if share else None,
        )
        for (row, quantity, gross, rate), share in zip(priced, shares, strict=True)
    )


def quantity_of(row: dict[str, Any]) -> int:
    """Units of an order line: its `quantity` where the shop sends one (the webhook does); the docs'
    order products carry none, so else the net line total over the net unit price."""
    if row.get("quantity") not in (None, "", {}):
        return int(decimal(row.get("quantity")))
    price, total = decimal(row.get("price")), decimal(row.get("total"))
    if price > 0:
        return int((total / price).quantize(Decimal(1), ROUND_HALF_UP))
    return 1 if row.get("sku") else 0


def spread(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`amount` over lines in proportion to their gross, in cents, each within its line; the rest on the last."""
    total = sum(weights, Decimal(0))
    if not amount or total <= 0:
        return [Decimal(0)] * len(weights)
    amount = min(amount, total)
    shares = [(amount * weight / total).quantize(CENT, ROUND_HALF_UP) for weight in weights]
    shares[-1] = min(weights[-1], max(Decimal(0), amount - sum(shares[:-1], Decimal(0))))
    return shares


def address(order: dict[str, Any], kind: str, email: str) -> Address:
    country = order.get(f"{kind}Country")
    code = str((country or {}).get("isoCode2") or "").upper() if isinstance(country, dict) else ""
    street, number, extension = split_street(text(order.get(f"{kind}Address1")))
    return Address(
        first_name=text(order.get(f"{kind}Firstname")),
        last_name=text(order.get(f"{kind}Lastname")),
        company=text(order.get(f"{kind}Company")),
        street=street,
        house_number=number,
        house_number_extension=extension,
        address_line_2=text(order.get(f"{kind}Address2")),
        postal_code=text(order.get(f"{kind}Postcode")),
        city=text(order.get(f"{kind}City")),
        country_code=code if re.fullmatch(r"[A-Z]{2}", code) else "HU",
        email=email,
        phone=text(order.get("phone")),
    )


STREET_NUMBER = re.compile(r"^(?P<street>.*?\D)\s+(?P<number>\d+)\s*(?P<extension>[/.-]?\s*\S{0,8})?\.?$")


def split_street(line: str) -> tuple[str, str, str]:
    """(street, house number, extension) from one line (`Kassai út 129`, `Fő utca 5/B`)."""
    found = STREET_NUMBER.match(line)
    if found is None:
        return line, "", ""
    extension = (found.group("extension") or "").lstrip("/.- ").strip()
    return found.group("street").strip().rstrip(","), found.group("number"), extension
