"""PrestaShop orders as koppel's orders (`OrderChanges`), read by when they last changed.

PrestaShop sends no webhooks, so koppel polls
`GET /api/orders?display=full&filter[date_upd]=[from,until]&date=1&sort=[date_upd_ASC,id_ASC]&limit=offset,count`
(two sort keys, as the list-parameter tutorial shows; `date=1` is what lets a filter or sort use a date).

Time zone: PrestaShop stores `date_upd` in the shop's own time zone, without a zone (`YYYY-MM-DD HH:MM:SS`),
in whole seconds. koppel keeps its cursor in UTC and converts at the edge: the filter's lower bound is the
cursor's moment in the shop's zone (setting `time_zone`, default Europe/Amsterdam), and every `date_upd`
read is taken as shop-local and converted to UTC. In the hour a clock is set back in autumn, local times
repeat; an `overlap_seconds` below an hour may then re-read less than it should (see the report on gaps).

The cursor is `{date_upd in UTC}|{id}`:
- inside a read (the flow reads again while `more`), it is the last order handed over, and a read skips
  every order at or before it: the list is read from the cursor's second again, so two orders of one
  second on both sides of a page boundary both come, each once;
- when a read reaches the end, the cursor is moved back by `overlap_seconds` (`{T - overlap}|0`): the next
  poll answers the orders of that window again (the protocol allows it), and an order saved late is not lost.
An order changed again later (a new state) carries a later `date_upd` and so comes again with its new state.
Orders in a state the account does not import (awaiting payment, payment error) are left out, the cursor
moving past them all the same.

`channel_order_id` is the order's id: PrestaShop gives one cart split over carriers or warehouses several
orders that share one `reference`, so only the id names one order; the reference (what the buyer's
e-mail shows) is the order's `name`.

Each page's customers and addresses are asked in one list each (`filter[id]=[1|2|...]`); countries and
currencies once per connector.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

from koppel.connectors import cursors
from koppel.connectors.addresses import split_street
from koppel.connectors.base import OrderChangesPage
from koppel.connectors.cursors import next_cursor
from koppel.connectors.prestashop.client import PrestaShopPart, field_text
from koppel.errors import NotFound
from koppel.models import Address, Customer, Money, Order, OrderLine, OrderStatus

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
UNTIL = "2999-12-31 23:59:59"  # the interval's upper end: past any order's date_upd
MAX_PAGES = 20  # pages one read walks at most looking for orders past the cursor
CENT = Decimal("0.01")


class PrestaShopOrderChanges(PrestaShopPart):
    """`OrderChanges`: the shop's orders by `date_upd`."""

    _countries: dict[str, str]
    _currencies: dict[str, str]

    def order_changes(self, cursor: str | None, *, since: datetime) -> OrderChangesPage:
        zone = ZoneInfo(self.settings.time_zone)
        moment, after_id = parse_cursor(cursor, since)
        size = self.settings.page_size
        wanted: list[Element] = []
        last: tuple[datetime, int] | None = None
        more = False
        local_from = moment.astimezone(zone).strftime(TIME_FORMAT)
        for number in range(MAX_PAGES):
            page = self.shop.list(
                "orders",
                {
                    "display": "full",
                    "filter[date_upd]": f"[{local_from},{UNTIL}]",
                    "date": "1",
                    "sort": "[date_upd_ASC,id_ASC]",
                    "limit": f"{number * size},{size}",
                },
            )
            for order in page:
                key = order_key(order, zone)
                if key is None or key <= (moment, after_id):
                    continue
                if len(wanted) >= size:
                    more = True
                    break
                wanted.append(order)
                last = key
            if more or len(page) < size:
                break
        else:
            more = True  # the page limit was reached with more to read
        imports = [order for order in wanted if self._imports(order)]
        orders = self._orders(imports, zone)
        return OrderChangesPage(orders=orders, cursor=self._cursor(last, cursor, moment, after_id, more), more=more)

    def _imports(self, order: Element) -> bool:
        state = field_text(order, "current_state")
        wanted = {str(s) for s in (*self.settings.import_states, *self.settings.cancelled_states)}
        return state in wanted

    def _cursor(
        self, last: tuple[datetime, int] | None, held: str | None, moment: datetime, after_id: int, more: bool
    ) -> str:
        return next_cursor(
            last, held, moment, after_id, more, overlap_seconds=self.settings.overlap_seconds, write=cursor_of
        )

    # --- one page's orders ---------------------------------------------------------------------
    def _orders(self, orders: list[Element], zone: ZoneInfo) -> tuple[Order, ...]:
        if not orders:
            return ()
        customers = self._by_id("customers", {field_text(o, "id_customer") for o in orders})
        addresses = self._by_id(
            "addresses",
            {field_text(o, key) for o in orders for key in ("id_address_delivery", "id_address_invoice")},
        )
        return tuple(self._order(order, customers, addresses, zone) for order in orders)

    def _by_id(self, resource: str, ids: set[str]) -> dict[str, Element]:
        found = self.shop.find(resource, "id", sorted(i for i in ids if i and i != "0"))
        return {field_text(record, "id"): record for record in found}

    def _country(self, country_id: str) -> str:
        cache = self.__dict__.setdefault("_countries", {})
        if country_id not in cache:
            try:
                cache[country_id] = field_text(self.shop.one("countries", country_id), "iso_code").upper()
            except NotFound:
                cache[country_id] = ""
        return cache[country_id]

    def _currency(self, currency_id: str) -> str:
        cache = self.__dict__.setdefault("_currencies", {})
        if currency_id not in cache:
            try:
                code = field_text(self.shop.one("currencies", currency_id), "iso_code").upper()
            except NotFound:
                code = ""
            cache[currency_id] = code or self.settings.currency
        return cache[currency_id]

    def _order(
        self, order: Element, customers: dict[str, Element], addresses: dict[str, Element], zone: ZoneInfo
    ) -> Order:
        currency = self._currency(field_text(order, "id_currency"))
        customer_record = customers.get(field_text(order, "id_customer"))
        email = field_text(customer_record, "email") if customer_record is not None else ""
        delivery = addresses.get(field_text(order, "id_address_delivery"))
        invoice = addresses.get(field_text(order, "id_address_invoice")) or delivery
        shipping_address = self._address(delivery, email)
        billing_address = self._address(invoice, email) if invoice is not None else shipping_address
        customer = Customer(
            email=email,
            first_name=field_text(customer_record, "firstname") if customer_record is not None else "",
            last_name=field_text(customer_record, "lastname") if customer_record is not None else "",
            phone=billing_address.phone,
            company=billing_address.company,
        )
        rows = order.findall("associations/order_rows/order_row")
        discount = decimal(field_text(order, "total_discounts_tax_incl"))
        lines, unspent = order_lines(rows, discount, currency)
        shipping = max(decimal(field_text(order, "total_shipping_tax_incl")) - unspent, Decimal(0))
        total = field_text(order, "total_paid_tax_incl") or field_text(order, "total_paid")
        placed = local_time(field_text(order, "date_add"), zone)
        reference = field_text(order, "reference")
        return Order(
            channel="prestashop",
            channel_order_id=field_text(order, "id"),
            name=reference or f"#{field_text(order, 'id')}",
            placed_at=placed or datetime.now(UTC),
            updated_at=local_time(field_text(order, "date_upd"), zone),
            status=self._status(order),
            customer=customer,
            billing_address=billing_address,
            shipping_address=shipping_address,
            lines=lines,
            shipping_cost=Money(amount=cents(shipping), currency=currency),
            currency=currency,
            channel_total=Money(amount=cents(decimal(total)), currency=currency),
            payment_method=field_text(order, "payment") or field_text(order, "module"),
            note=field_text(order, "note"),
        )

    def _status(self, order: Element) -> OrderStatus:
        state = field_text(order, "current_state")
        if state in {str(s) for s in self.settings.cancelled_states}:
            return OrderStatus.CANCELLED
        if state in {str(s) for s in self.settings.shipped_states}:
            return OrderStatus.SHIPPED
        return OrderStatus.OPEN

    def _address(self, record: Element | None, email: str) -> Address:
        if record is None:
            return Address(email=email)
        street, number, extension, rest = split_street([field_text(record, "address1"), field_text(record, "address2")])
        country = self._country(field_text(record, "id_country"))
        return Address(
            first_name=field_text(record, "firstname"),
            last_name=field_text(record, "lastname"),
            company=field_text(record, "company"),
            street=street,
            house_number=number,
            house_number_extension=extension,
            address_line_2=rest,
            postal_code=field_text(record, "postcode"),
            city=field_text(record, "city"),
            country_code=country if len(country) == 2 and country.isalpha() else "NL",
            email=email,
            phone=field_text(record, "phone") or field_text(record, "phone_mobile"),
        )


def order_lines(rows: list[Element], discount: Decimal, currency: str) -> tuple[tuple[OrderLine, ...], Decimal]:
    """The order's lines, and what of the order's discount the lines could not carry (a free-shipping rule:
    PrestaShop counts the shipping it waives as discount). The webservice's order rows carry no discount of
    their own, so the order's `total_discounts_tax_incl` is spread over the lines by their value, to the cent,
    the cents left by rounding going to the largest shares."""
    priced: list[tuple[Element, int, Decimal]] = []
    for entry in rows:
        quantity = int(decimal(field_text(entry, "product_quantity")))
        if quantity > 0:
            priced.append((entry, quantity, cents(decimal(field_text(entry, "unit_price_tax_incl")))))
    gross = sum((unit * quantity for _, quantity, unit in priced), Decimal(0))
    spread = min(cents(discount), gross)
    shares = [Decimal(0)] * len(priced)
    if spread > 0 and gross > 0:
        exact = [spread * unit * quantity / gross for _, quantity, unit in priced]
        shares = [share.quantize(CENT, rounding="ROUND_DOWN") for share in exact]
        left = int((spread - sum(shares)) / CENT)
        for index in sorted(range(len(exact)), key=lambda i: exact[i] - shares[i], reverse=True)[:left]:
            shares[index] += CENT
    lines = []
    for (entry, quantity, unit), share in zip(priced, shares, strict=True):
        reference = field_text(entry, "product_reference")
        lines.append(
            OrderLine(
                line_id=field_text(entry, "id"),
                channel_sku=reference or field_text(entry, "product_id"),
                ean=field_text(entry, "product_ean13"),
                title=field_text(entry, "product_name"),
                quantity=quantity,
                unit_price=Money(amount=unit, currency=currency),
                vat_rate=vat_rate(entry),
                discount=Money(amount=share, currency=currency) if share else None,
            )
        )
    return tuple(lines), cents(discount) - spread


def vat_rate(entry: Element) -> Decimal | None:
    """The row's VAT percentage, from its unit price with and without tax (the rows name no rate)."""
    incl, excl = decimal(field_text(entry, "unit_price_tax_incl")), decimal(field_text(entry, "unit_price_tax_excl"))
    if excl <= 0:
        return None
    rate = ((incl / excl - 1) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)
    whole = rate.quantize(Decimal(1), ROUND_HALF_UP)
    return whole if abs(rate - whole) <= Decimal("0.2") else rate


def parse_cursor(cursor: str | None, since: datetime) -> tuple[datetime, int]:
    return cursors.parse_cursor(cursor, since, TIME_FORMAT)


def cursor_of(moment: datetime, after_id: int) -> str:
    return cursors.cursor_of(moment, after_id, TIME_FORMAT)


def local_time(value: str, zone: ZoneInfo) -> datetime | None:
    """A `date_upd`/`date_add` as the shop stores it (shop-local, no zone), in UTC."""
    try:
        moment = datetime.strptime(value.strip(), TIME_FORMAT)
    except ValueError:
        return None
    return moment.replace(tzinfo=zone).astimezone(UTC)


def order_key(order: Element, zone: ZoneInfo) -> tuple[datetime, int] | None:
    moment, number = local_time(field_text(order, "date_upd"), zone), field_text(order, "id")
    return (moment, int(number)) if moment is not None and number.isdigit() else None


def decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value).strip()) if value not in (None, "") else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)
