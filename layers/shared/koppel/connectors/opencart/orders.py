"""OpenCart orders as koppel's orders (`OrderChanges`), read by when they last changed.

OpenCart sends no webhooks, so koppel polls the extension's
`GET orders/details/modified_from/{from}/modified_to/{to}`: every order whose `date_modified` lies in
the window. Nothing says the route pages, so koppel never relies on it:
- a read asks one window, from the cursor's second to the shop's now (the HTTP `Date` of its latest
  answer, or koppel's clock when later or when there is none, plus a margin for the shop's clock);
- a window that answers more than `page_size` new orders is not asked again whole: its orders are
  sorted by `(date_modified, order_id)`, the first `page_size` are handed over, the cursor is the last
  of them, and the reader remembers the span that held a page, so the next window is that long (and
  doubles while it holds less). An answer is thus only once as long as the backlog;
- the `from` bound is sent one second early, in case the route compares with `>` rather than `>=`;
  both bounds are taken as inclusive, and reading a second twice only answers orders already known.
The cursor is `{UTC time}|{order_id}`: inside a read (`more`), the last order handed over, and
orders at or before it are skipped, so two orders of one second on both sides of a page boundary
both come, each once; at the end, it steps back by `overlap_seconds` (`{T - overlap}|0`), so an
order saved late (stamped before the newest order read, committed after) is still read; re-reading
the overlap is allowed by the protocol. An order changed later carries a later `date_modified` and
comes again with its new state. Orders whose `order_status_id` the account does not import are left
out, the cursor moving past them all the same.

Times: OpenCart writes `date_added`/`date_modified` as the shop's wall time without an offset
(PHP's and MySQL's time zone, which an OpenCart shop sets alike). The account's `time_zone` names it;
koppel reads those times in that zone and keeps UTC, and writes the window's bounds back in it. In
the hour a clock is put back, a wall time names two moments: koppel takes the earlier one, and the
window's `from` is moved back an hour there, so neither moment is missed.

Money: OpenCart keeps an order's amounts before tax in the shop's default currency, `tax` per unit
beside each product's `price`, and `currency_value` to the order's currency; koppel multiplies by it
and rounds to the cent. A line's unit price with VAT is `price + tax`; the coupon, reward and
voucher totals (negative, before tax) are the discount, taken with the lines' mean VAT rate and
spread over the lines by their value; shipping and any other fee total are the shipping cost, with
what is left of the order's `total`, so koppel's total is the shop's to the cent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from koppel.connectors import cursors
from koppel.connectors.base import OrderChangesPage
from koppel.connectors.cursors import Key
from koppel.connectors.opencart import routes
from koppel.connectors.opencart.client import OpenCartPart, decimal
from koppel.models import Address, Customer, Money, Order, OrderLine, OrderStatus
from koppel.observability import logger

CURSOR_FORMAT = "%Y-%m-%d %H:%M:%S"
CENT = Decimal("0.01")
MAX_WINDOWS = 20  # windows one read asks at most before handing back with `more`
CLOCK_MARGIN = timedelta(hours=1)  # how far ahead of koppel's clock the shop's may run
MAX_SPAN = timedelta(days=31)
DISCOUNT_CODES = frozenset({"coupon", "reward", "voucher", "discount"})
NOT_FEES = frozenset({"sub_total", "tax", "total"}) | DISCOUNT_CODES
STREET_NUMBER = re.compile(r"^(?P<street>.*\D)\s+(?P<number>\d+)\s*[-/]?\s*(?P<extension>[A-Za-z0-9]{0,6})$")


@dataclass
class Window:
    start: datetime  # UTC
    end: datetime  # UTC


class OpenCartOrderChanges(OpenCartPart):
    """`OrderChanges`: the shop's orders by `date_modified`."""

    _span: timedelta | None = None  # the last window length that held a page (learnt per connector)

    def wall_clock(self) -> datetime:
        return datetime.now(UTC)

    def order_changes(self, cursor: str | None, *, since: datetime) -> OrderChangesPage:
        moment, after_id = parse_cursor(cursor, since)
        size = self.settings.page_size
        zone = ZoneInfo(self.settings.time_zone)
        taken: list[tuple[Key, dict[str, Any]]] = []
        seen: set[int] = set()
        start = moment
        more, stop = False, None
        for _ in range(MAX_WINDOWS):
            now = self._shop_now()
            end = now + CLOCK_MARGIN
            if self._span is not None and start + self._span < end:
                end = start + self._span
            rows = self._window(start, end, zone)
            fresh = sorted(
                (key, row)
                for key, row in ((order_key(row, zone), row) for row in rows)
                if key is not None and key > (moment, after_id) and key[1] not in seen
            )
            room = size - len(taken)
            if len(fresh) > room:
                taken.extend(fresh[:room])
                # The span from this window's start that holds one page: the next window's length.
                self._span = max(timedelta(seconds=1), fresh[min(size, len(fresh)) - 1][0][0] - start)
                more = True
                break
            taken.extend(fresh)
            seen.update(key[1] for key, _ in fresh)
            if end >= self._shop_now():
                break  # the window reached the shop's now: the read is at the end
            if len(taken) >= size:
                more = True  # a full page: hand it over before asking the next window
                break
            if self._span is not None:
                self._span = min(self._span * 2, MAX_SPAN)
            start, stop = end, end
        else:
            more = True
        imports = [row for _, row in taken if self._imports(row)]
        orders = tuple(opencart_order(row, self.settings, zone) for row in imports)
        last = taken[-1][0] if taken else None
        return OrderChangesPage(
            orders=orders, cursor=self._cursor(last, stop, cursor, moment, after_id, more), more=more
        )

    def _window(self, start: datetime, end: datetime, zone: ZoneInfo) -> list[dict[str, Any]]:
        low = wall_time(start - timedelta(seconds=1), zone, earliest=True)
        data = self.opencart.get(routes.orders_modified(low, wall_time(end, zone)))
        if isinstance(data, dict):  # an extension may key its list by order id
            data = list(data.values())
        return [row for row in data or () if isinstance(row, dict)]

    def _shop_now(self) -> datetime:
        ours = self.wall_clock().astimezone(UTC).replace(microsecond=0)
        shop = self.opencart.shop_time
        return max(ours, shop) if shop is not None else ours

    def _imports(self, order: dict[str, Any]) -> bool:
        return status_id(order) in set(self.settings.import_status_ids)

    def _cursor(
        self,
        last: Key | None,
        stop: datetime | None,
        held: str | None,
        moment: datetime,
        after_id: int,
        more: bool,
    ) -> str:
        if more:
            if last is not None:
                return cursor_of(*last)
            return cursor_of(stop or moment, 0)  # windows read whole, nothing in them: go on after them
        if last is None and held is not None and after_id == 0:
            return held  # already a settled cursor: nothing changed, it stays
        end = last[0] if last is not None else moment
        return cursor_of(end - timedelta(seconds=self.settings.overlap_seconds), 0)


def parse_cursor(cursor: str | None, since: datetime) -> Key:
    return cursors.parse_cursor(cursor, since, CURSOR_FORMAT)


def cursor_of(moment: datetime, after_id: int) -> str:
    return cursors.cursor_of(moment, after_id, CURSOR_FORMAT)


def wall_time(moment: datetime, zone: ZoneInfo, *, earliest: bool = False) -> datetime:
    """A UTC moment as the shop's wall time; `earliest`: an hour back where the wall time repeats."""
    local = moment.astimezone(zone)
    if earliest and local.replace(fold=1).utcoffset() != local.replace(fold=0).utcoffset():
        local -= timedelta(hours=1)
    return local.replace(tzinfo=None)


def shop_time(value: object, zone: ZoneInfo) -> datetime | None:
    """OpenCart's `YYYY-MM-DD HH:MM:SS` in the shop's zone, as UTC (the earlier moment where it repeats)."""
    text = str(value or "").strip()
    if not text or text.startswith("0000"):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone, fold=0)
    return parsed.astimezone(UTC)


def order_key(order: dict[str, Any], zone: ZoneInfo) -> Key | None:
    moment = shop_time(order.get("date_modified"), zone) or shop_time(order.get("date_added"), zone)
    number = order.get("order_id")
    number = int(number) if isinstance(number, int) or str(number or "").isdigit() else None
    if moment is None or number is None:
        logger.warning("opencart order without a readable time or id left out", order_id=str(number))
        return None
    return moment, number


def status_id(order: dict[str, Any]) -> int:
    value = order.get("order_status_id")
    return int(value) if isinstance(value, int) or str(value or "").isdigit() else 0


# --- one order ----------------------------------------------------------------------------------
def opencart_order(order: dict[str, Any], settings: Any, zone: ZoneInfo) -> Order:
    currency = str(order.get("currency_code") or settings.currency).upper()
    rate = decimal(order.get("currency_value")) or Decimal(1)
    email = str(order.get("email") or "").strip()
    number = str(order.get("order_id") or "")
    lines, shipping = lines_and_shipping(order, currency, rate)
    total = money_of(order_total(order), rate, currency)
    status = status_id(order)
    return Order(
        channel="opencart",
        channel_order_id=number,
        name=f"#{number}",
        placed_at=shop_time(order.get("date_added"), zone) or datetime.now(UTC),
        updated_at=shop_time(order.get("date_modified"), zone),
        status=(
            OrderStatus.CANCELLED
            if status in settings.cancelled_status_ids
            else OrderStatus.SHIPPED
            if status in settings.shipped_status_ids
            else OrderStatus.OPEN
        ),
        customer=Customer(
            email=email,
            first_name=str(order.get("firstname") or order.get("payment_firstname") or ""),
            last_name=str(order.get("lastname") or order.get("payment_lastname") or ""),
            phone=str(order.get("telephone") or ""),
            company=str(order.get("payment_company") or ""),
        ),
        billing_address=address(order, "payment", email),
        shipping_address=address(order, "shipping", email)
        if order.get("shipping_address_1")
        else address(order, "payment", email),
        lines=lines,
        shipping_cost=shipping,
        currency=currency,
        channel_total=total,
        payment_method=str(order.get("payment_method") or order.get("payment_code") or ""),
        note=str(order.get("comment") or ""),
    )


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_UP)


def money_of(amount: Decimal, rate: Decimal, currency: str) -> Money:
    return Money(amount=cents(amount * rate), currency=currency)


def order_total(order: dict[str, Any]) -> Decimal:
    for total in order.get("totals") or ():
        if isinstance(total, dict) and total.get("code") == "total":
            return decimal(total.get("value"))
    return decimal(order.get("total"))


def lines_and_shipping(
    order: dict[str, Any], currency: str, rate: Decimal
) -> tuple[tuple[OrderLine, ...], Money | None]:
    products = [entry for entry in order.get("products") or () if isinstance(entry, dict)]
    units: list[tuple[dict[str, Any], int, Decimal, Decimal | None]] = []
    net_sum = tax_sum = Decimal(0)
    for entry in products:
        quantity = int(decimal(entry.get("quantity")))
        if quantity <= 0:
            continue
        price, tax = decimal(entry.get("price")), decimal(entry.get("tax"))
        net_sum += price * quantity
        tax_sum += tax * quantity
        vat = (tax * 100 / price).quantize(Decimal("0.1"), ROUND_HALF_UP) if price else None
        if vat is not None and vat == vat.to_integral_value():
            vat = vat.quantize(Decimal(1))
        units.append((entry, quantity, cents((price + tax) * rate), vat))
    totals = [entry for entry in order.get("totals") or () if isinstance(entry, dict)]
    discount_net = -sum((decimal(t.get("value")) for t in totals if t.get("code") in DISCOUNT_CODES), Decimal(0))
    has_fees = any(t.get("code") not in NOT_FEES for t in totals)
    gross = sum((unit * quantity for _, quantity, unit, _ in units), Decimal(0))
    total = cents(order_total(order) * rate)
    mean_vat = tax_sum / net_sum if net_sum else Decimal(0)
    discount = cents(max(discount_net, Decimal(0)) * (1 + mean_vat) * rate)
    shipping: Decimal | None = total - gross + discount
    if not has_fees:
        discount, shipping = max(gross - total, Decimal(0)), None  # what the buyer did not pay is the discount
    elif shipping is not None and shipping < 0:
        discount, shipping = gross - total, Decimal(0)
    discount = min(max(discount, Decimal(0)), gross)
    shares = spread(discount, [unit * quantity for _, quantity, unit, _ in units])
    lines = tuple(
        OrderLine(
            line_id=str(entry.get("order_product_id") or ""),
            channel_sku=str(entry.get("sku") or entry.get("model") or ""),
            title=str(entry.get("name") or ""),
            quantity=quantity,
            unit_price=Money(amount=unit, currency=currency),
            vat_rate=vat,
            discount=Money(amount=share, currency=currency) if share else None,
        )
        for (entry, quantity, unit, vat), share in zip(units, shares, strict=True)
    )
    return lines, Money(amount=shipping, currency=currency) if shipping is not None else None


def spread(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`amount` in cents over the weights by their size; the last takes what rounding leaves."""
    whole = sum(weights, Decimal(0))
    if not amount or not whole:
        return [Decimal(0)] * len(weights)
    shares = [min(cents(amount * weight / whole), weight) for weight in weights]
    shares[-1] = min(max(amount - sum(shares[:-1], Decimal(0)), Decimal(0)), weights[-1])
    return shares


def address(order: dict[str, Any], kind: str, email: str) -> Address:
    def field(name: str) -> str:
        return str(order.get(f"{kind}_{name}") or "").strip()

    street, number, extension = split_street(field("address_1"))
    country = field("iso_code_2").upper()
    return Address(
        first_name=field("firstname"),
        last_name=field("lastname"),
        company=field("company"),
        street=street,
        house_number=number,
        house_number_extension=extension,
        address_line_2=field("address_2"),
        postal_code=field("postcode"),
        city=field("city"),
        country_code=country if re.fullmatch(r"[A-Z]{2}", country) else "NL",
        email=email,
        phone=str(order.get("telephone") or ""),
    )


def split_street(line: str) -> tuple[str, str, str]:
    """(street, house number, extension) from OpenCart's one street line ("Kerkstraat 12a", "Dorpsweg 3-B")."""
    found = STREET_NUMBER.match(line)
    if found is None:
        return line, "", ""
    return found.group("street").strip().rstrip(","), found.group("number"), found.group("extension")
