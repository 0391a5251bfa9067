"""Magento orders as koppel's orders (`OrderChanges`), read by when they last changed.

Magento sends no webhooks, so koppel polls `GET /V1/orders` filtered on `updated_at gteq T`, sorted by
`updated_at` then `entity_id`, a page at a time. Magento keeps `updated_at` in UTC, in whole seconds
(`YYYY-MM-DD HH:MM:SS`), so many orders can share one second, and one saved in a transaction that
commits late can carry a second koppel has read past. Hence the cursor, `{updated_at}|{entity_id}`:
- inside a read (the flow reads again while `more`), it is the last order handed over, and a read
  skips every order at or before it: the list is read from the cursor's second again, so two orders of
  one second on both sides of a page boundary both come, each once;
- when a read reaches the end, the cursor is moved back by `overlap_seconds` (`{T - overlap}|0`):
  the next poll answers the orders of that window again (the protocol allows it; koppel keeps each
  order's newest state), and an order saved late within it is not lost.
An order changed again later carries a later `updated_at` and so comes again with its new state.
Orders in a state the account does not import are left out, the cursor moving past them all the same.

`channel_order_id` is the `increment_id` ("000000123"): the number the buyer's e-mail, the admin's
order grid and the backoffice's booking show; `entity_id` is an internal row id that differs between
a store and its copy, and serves only as the cursor's tie-break.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from koppel.connectors.addresses import split_street
from koppel.connectors.base import OrderChangesPage
from koppel.connectors.cursors import next_cursor
from koppel.connectors.magento.client import MagentoPart, Search
from koppel.models import Address, Customer, Money, Order, OrderLine, OrderStatus

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_PAGES = 20  # pages one read walks at most looking for orders past the cursor
CANCELLED_STATES = frozenset({"canceled"})
SHIPPED_STATES = frozenset({"complete", "closed"})
# A configurable parent carries the price, its one child the SKU bought; a bundle's children are the
# goods, priced themselves unless the bundle has one fixed price.
PARENT_TYPES = frozenset({"configurable", "bundle"})


class MagentoOrderChanges(MagentoPart):
    """`OrderChanges`: the store's orders by `updated_at`."""

    def order_changes(self, cursor: str | None, *, since: datetime) -> OrderChangesPage:
        moment, after_id = parse_cursor(cursor, since)
        size = self.settings.page_size
        wanted: list[dict[str, Any]] = []
        last: tuple[datetime, int] | None = None
        more = False
        first_id: int | None = None
        for number in range(1, MAX_PAGES + 1):
            found = self.magento.search(
                "/orders",
                Search(
                    groups=((("updated_at", moment.strftime(TIME_FORMAT), "gteq"),),),
                    sort=(("updated_at", "ASC"), ("entity_id", "ASC")),
                    page_size=size,
                    page=number,
                ),
            )
            if not found.items or (number > 1 and entity_id(found.items[0]) == first_id):
                break  # nothing, or Magento's last page answered again
            first_id = entity_id(found.items[0])
            for order in found.items:
                key = order_key(order)
                if key is None or key <= (moment, after_id):
                    continue
                if len(wanted) >= size:
                    more = True
                    break
                wanted.append(order)
                last = key
            if more or found.last:
                break
            if len(wanted) >= size:
                more = True
                break
        else:
            more = True  # the page limit was reached with more to read
        imports = [order for order in wanted if self._imports(order)]
        orders = tuple(magento_order(order, self.settings.currency) for order in imports)
        return OrderChangesPage(orders=orders, cursor=self._cursor(last, cursor, moment, after_id, more), more=more)

    def _imports(self, order: dict[str, Any]) -> bool:
        states = {state.strip().lower() for state in self.settings.import_states}
        return str(order.get("state") or "").lower() in states or str(order.get("status") or "").lower() in states

    def _cursor(
        self, last: tuple[datetime, int] | None, held: str | None, moment: datetime, after_id: int, more: bool
    ) -> str:
        return next_cursor(
            last, held, moment, after_id, more, overlap_seconds=self.settings.overlap_seconds, write=cursor_of
        )


def parse_cursor(cursor: str | None, since: datetime) -> tuple[datetime, int]:
    moment, _, after = (cursor or "").partition("|")
    parsed = parse_time(moment)
    if parsed is None:
        start = since if since.tzinfo else since.replace(tzinfo=UTC)
        return start.astimezone(UTC).replace(microsecond=0), 0
    return parsed, int(after) if after.isdigit() else 0


def cursor_of(moment: datetime, after_id: int) -> str:
    return f"{moment.strftime(TIME_FORMAT)}|{after_id}"


def parse_time(value: object) -> datetime | None:
    """Magento's `YYYY-MM-DD HH:MM:SS`, always UTC."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def entity_id(order: dict[str, Any]) -> int | None:
    value = order.get("entity_id")
    return int(value) if isinstance(value, int) or str(value or "").isdigit() else None


def order_key(order: dict[str, Any]) -> tuple[datetime, int] | None:
    moment, number = parse_time(order.get("updated_at")), entity_id(order)
    return (moment, number) if moment is not None and number is not None else None


# --- one order ----------------------------------------------------------------------------------
def magento_order(order: dict[str, Any], default_currency: str) -> Order:
    currency = str(order.get("order_currency_code") or default_currency).upper()
    billing = order.get("billing_address") or {}
    shipping = shipping_address(order) or billing
    email = str(order.get("customer_email") or billing.get("email") or "").strip()
    customer = Customer(
        email=email,
        first_name=str(order.get("customer_firstname") or billing.get("firstname") or ""),
        last_name=str(order.get("customer_lastname") or billing.get("lastname") or ""),
        phone=str(billing.get("telephone") or ""),
        company=str(billing.get("company") or ""),
    )
    increment = str(order.get("increment_id") or order.get("entity_id") or "")
    return Order(
        channel="magento",
        channel_order_id=increment,
        name=f"#{increment}",
        placed_at=parse_time(order.get("created_at")) or datetime.now(UTC),
        updated_at=parse_time(order.get("updated_at")),
        status=order_status(order),
        customer=customer,
        billing_address=address(billing, email),
        shipping_address=address(shipping, email),
        lines=order_lines(order.get("items") or (), currency),
        shipping_cost=shipping_cost(order, currency),
        currency=currency,
        channel_total=money(order.get("grand_total"), currency),
        payment_method=str((order.get("payment") or {}).get("method") or ""),
        note=str(order.get("customer_note") or ""),
    )


def order_status(order: dict[str, Any]) -> OrderStatus:
    state = str(order.get("state") or order.get("status") or "").lower()
    if state in CANCELLED_STATES:
        return OrderStatus.CANCELLED
    if state in SHIPPED_STATES:
        return OrderStatus.SHIPPED
    return OrderStatus.OPEN


def shipping_address(order: dict[str, Any]) -> dict[str, Any] | None:
    """The order's delivery address: in its first shipping assignment (a virtual order has none)."""
    for assignment in (order.get("extension_attributes") or {}).get("shipping_assignments") or ():
        found = ((assignment or {}).get("shipping") or {}).get("address")
        if found:
            return dict(found)
    return None


def address(raw: dict[str, Any], email: str) -> Address:
    street, number, extension, rest = split_street([str(line) for line in raw.get("street") or ()])
    country = str(raw.get("country_id") or "NL").strip().upper()
    return Address(
        first_name=str(raw.get("firstname") or ""),
        last_name=str(raw.get("lastname") or ""),
        company=str(raw.get("company") or ""),
        street=street,
        house_number=number,
        house_number_extension=extension,
        address_line_2=rest,
        postal_code=str(raw.get("postcode") or ""),
        city=str(raw.get("city") or ""),
        country_code=country if re.fullmatch(r"[A-Z]{2}", country) else "NL",
        email=str(raw.get("email") or email),
        phone=str(raw.get("telephone") or ""),
    )


def order_lines(items: Any, currency: str) -> tuple[OrderLine, ...]:
    items = [item for item in items if isinstance(item, dict)]
    children: dict[Any, list[dict[str, Any]]] = {}
    for item in items:
        if item.get("parent_item_id") is not None:
            children.setdefault(item["parent_item_id"], []).append(item)
    lines: list[OrderLine] = []
    for item in items:
        parent_id = item.get("parent_item_id")
        if parent_id is not None:
            parent = next((entry for entry in items if entry.get("item_id") == parent_id), item.get("parent_item"))
            kind = str((parent or {}).get("product_type") or "")
            if kind == "configurable" or (kind == "bundle" and has_price(parent)):
                continue  # the parent's line carries it
            lines.extend(line_of(item, item, currency))
            continue
        kind = str(item.get("product_type") or "")
        own = children.get(item.get("item_id"), [])
        if kind == "bundle" and own and not has_price(item):
            continue  # a bundle priced by its parts: the children are the lines
        sku_from = own[0] if kind == "configurable" and own else item
        lines.extend(line_of(item, sku_from, currency))
    return tuple(lines)


def has_price(item: dict[str, Any] | None) -> bool:
    return decimal((item or {}).get("price_incl_tax")) > 0


def line_of(priced: dict[str, Any], named: dict[str, Any], currency: str) -> list[OrderLine]:
    quantity = int(decimal(priced.get("qty_ordered")))
    if quantity <= 0:
        return []
    unit = decimal(priced.get("price_incl_tax"))
    discount = line_discount(priced, unit * quantity)
    rate = priced.get("tax_percent")
    return [
        OrderLine(
            line_id=str(priced.get("item_id") or ""),
            channel_sku=str(named.get("sku") or priced.get("sku") or ""),
            title=str(priced.get("name") or named.get("name") or ""),
            quantity=quantity,
            unit_price=Money(amount=unit, currency=currency),
            vat_rate=decimal(rate) if rate is not None else None,
            discount=Money(amount=discount, currency=currency) if discount else None,
        )
    ]


def line_discount(item: dict[str, Any], gross: Decimal) -> Decimal:
    """The line's discount with VAT, whichever way the store applies discounts.

    `discount_amount` includes VAT only when the store applies discounts on prices including tax
    (Stores > Configuration > Sales > Tax > Calculation Settings). What the buyer paid for the line is
    `row_total + tax_amount + discount_tax_compensation_amount - discount_amount` either way, so the
    discount with VAT is the line's gross less that."""
    amount = decimal(item.get("discount_amount"))
    if not amount:
        return Decimal(0)
    if all(item.get(key) is not None for key in ("row_total", "tax_amount", "row_total_incl_tax")):
        paid = (
            decimal(item.get("row_total"))
            + decimal(item.get("tax_amount"))
            + decimal(item.get("discount_tax_compensation_amount"))
            - amount
        )
        amount = decimal(item.get("row_total_incl_tax")) - paid
    return min(max(amount, Decimal(0)), gross)


def shipping_cost(order: dict[str, Any], currency: str) -> Money | None:
    if order.get("shipping_incl_tax") is None:
        return None
    cost = decimal(order.get("shipping_incl_tax")) - decimal(order.get("shipping_discount_amount"))
    return Money(amount=max(cost, Decimal(0)), currency=currency)


def money(value: object, currency: str) -> Money | None:
    return Money(amount=decimal(value), currency=currency) if value is not None else None


def decimal(value: object) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))
