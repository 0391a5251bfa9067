"""The orders and refunds Shopify's webhooks deliver (REST shape), read into koppel's model.

A webshop's own orders reach a backoffice this way (flow 7): `orders/create`, `orders/updated`,
`orders/cancelled`, ... carry the whole order as it is now; `refunds/create` carries one refund with
its lines and each line's `restock_type`. The body is signed, so it is read as it came, not fetched
again.

Money, as Shopify reports it in the shop's currency (`*_set.shop_money`, else the plain field):
- a line is `price` times `quantity`, less its `discount_allocations`; with `taxes_included` false its
  `tax_lines` come on top. koppel's line carries the VAT-inclusive total exactly: the unit price is
  rounded up to the cent and the rest of the difference becomes the line's discount;
- a discount Shopify reports in `total_discounts` but allocates to no line or shipping line is
  spread over the lines in proportion to their totals, the last cent to the largest line;
- shipping is the sum of the shipping lines that are not removed, less their discounts (plus their
  tax when taxes are excluded);
- `total_price` is kept as the order's `channel_total`, so a booking that does not come to it
  waits instead of being booked wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_CEILING, Decimal
from typing import Any

from koppel.models import Address, Customer, Money, Order, OrderLine, OrderStatus, Return, ReturnLine
from koppel.queue import Envelope
from koppel.webhooks import parse_moment

SYSTEM = "shopify"
CENT = Decimal("0.01")
RESTOCKED = frozenset({"return", "cancel", "legacy_restock"})  # restock_type values that put units back


def order(envelope: Envelope, payload: Mapping[str, Any]) -> Order:
    """The order an `orders/*` delivery carries."""
    currency = str(payload.get("currency") or "EUR").upper()
    included = payload.get("taxes_included") is not False
    lines = [_line(item, currency, included) for item in payload.get("line_items") or () if _sold(item)]
    if not lines:
        raise ValueError("the order has no line items")
    allocated = sum((_allocations(item) for item in payload.get("line_items") or ()), Decimal(0))
    shipping_lines = [line for line in payload.get("shipping_lines") or () if not line.get("is_removed")]
    allocated += sum((_allocations(line) for line in shipping_lines), Decimal(0))
    unallocated = _amount(payload, "total_discounts") - allocated
    if unallocated >= CENT:
        lines = _spread(lines, unallocated)
    shipping = sum((_shipping(line, included) for line in shipping_lines), Decimal(0))
    placed_at = parse_moment(payload.get("processed_at") or payload.get("created_at"), naive_is_utc=False)
    if placed_at is None:
        placed_at = envelope.sent_at or envelope.received_at
    gateways = [str(name) for name in payload.get("payment_gateway_names") or () if name]
    customer = payload.get("customer") if isinstance(payload.get("customer"), Mapping) else {}
    email = str(payload.get("email") or payload.get("contact_email") or customer.get("email") or "")
    shipping_address = _address(payload.get("shipping_address"), email)
    return Order(
        channel=SYSTEM,
        channel_order_id=str(payload["id"]),
        name=str(payload.get("name") or ""),
        placed_at=placed_at,
        status=OrderStatus.CANCELLED if payload.get("cancelled_at") else OrderStatus.OPEN,
        customer=Customer(
            email=email,
            first_name=str(customer.get("first_name") or ""),
            last_name=str(customer.get("last_name") or ""),
            phone=str(customer.get("phone") or payload.get("phone") or ""),
        ),
        billing_address=_address(payload.get("billing_address"), email, fallback=shipping_address),
        shipping_address=shipping_address,
        lines=tuple(lines),
        shipping_cost=Money(amount=shipping, currency=currency) if shipping else None,
        currency=currency,
        note=str(payload.get("note") or "")[:1000],
        payment_method=gateways[0] if gateways else str(payload.get("gateway") or ""),
        channel_total=Money(amount=_amount(payload, "total_price"), currency=currency),
        updated_at=parse_moment(payload.get("updated_at"), naive_is_utc=False) or placed_at,
    )


def refund(envelope: Envelope, payload: Mapping[str, Any]) -> Return:
    """The refund a `refunds/create` delivery carries: its lines, and which of them go back to stock."""
    order_id = refunded_order(payload)
    if not order_id:
        raise ValueError("the refund names no order (order_id)")
    lines = tuple(
        ReturnLine(
            sku=str((item.get("line_item") or {}).get("sku") or ""),
            quantity=int(item["quantity"]),
            restock=str(item.get("restock_type") or "") in RESTOCKED,
            line_id=str(item.get("line_item_id") or (item.get("line_item") or {}).get("id") or ""),
        )
        for item in payload.get("refund_line_items") or ()
        if int(item.get("quantity") or 0) > 0
    )
    paid_back = sum(
        (Decimal(str(t.get("amount") or 0)) for t in payload.get("transactions") or () if _refunded(t)), Decimal(0)
    )
    return Return(
        source=SYSTEM,
        source_id=str(payload["id"]),
        order_reference=order_id,
        lines=lines,
        refunded=Money(amount=paid_back, currency=_refund_currency(payload)) if paid_back else None,
        note=str(payload.get("note") or "")[:500],
    )


def refunded_order(payload: Mapping[str, Any]) -> str:
    """The refund's order: its `order_id`, else the one its adjustments or transactions name."""
    if payload.get("order_id"):
        return str(payload["order_id"])
    for key in ("order_adjustments", "transactions"):
        for entry in payload.get(key) or ():
            if isinstance(entry, Mapping) and entry.get("order_id"):
                return str(entry["order_id"])
    return ""


# --- lines ---------------------------------------------------------------------------------------
def _sold(item: Mapping[str, Any]) -> bool:
    # A line removed by an order edit keeps its row with nothing left to fulfil; a gift card is no article.
    return int(item.get("quantity") or 0) > 0 and not item.get("gift_card")


def _line(item: Mapping[str, Any], currency: str, taxes_included: bool) -> OrderLine:
    quantity = int(item["quantity"])
    price = _amount(item, "price")
    discount = _allocations(item)
    taxes = list(_taxes(item.get("tax_lines")))
    rate = sum((rate for rate, _ in taxes), Decimal(0)) * 100 if taxes else None
    gross = price * quantity - discount
    if not taxes_included:
        gross += sum((amount for _, amount in taxes), Decimal(0))
    return _priced(
        line_id=str(item["id"]),
        sku=str(item.get("sku") or "").strip(),
        title=str(item.get("name") or item.get("title") or "")[:200],
        quantity=quantity,
        gross=gross,
        currency=currency,
        vat_rate=rate.normalize() if rate is not None else None,
    )


def _priced(
    *, line_id: str, sku: str, title: str, quantity: int, gross: Decimal, currency: str, vat_rate: Decimal | None
) -> OrderLine:
    """A line whose total is exactly `gross`: the unit price rounded up to the cent, the rest a discount."""
    unit = (gross / quantity).quantize(CENT, rounding=ROUND_CEILING)
    rest = unit * quantity - gross
    return OrderLine(
        line_id=line_id,
        channel_sku=sku,
        title=title,
        quantity=quantity,
        unit_price=Money(amount=unit, currency=currency),
        discount=Money(amount=rest, currency=currency) if rest else None,
        vat_rate=vat_rate,
    )


def _spread(lines: list[OrderLine], discount: Decimal) -> list[OrderLine]:
    """An order discount allocated to no line, shared over the lines in proportion to their totals."""
    totals = [line.total.amount for line in lines]
    whole = sum(totals, Decimal(0))
    if whole <= 0:
        return lines
    discount = min(discount, whole)
    shares = [(discount * total / whole).quantize(CENT) for total in totals]
    largest = max(range(len(lines)), key=lambda index: totals[index])
    shares[largest] += discount - sum(shares, Decimal(0))
    return [
        _priced(
            line_id=line.line_id,
            sku=line.channel_sku,
            title=line.title,
            quantity=line.quantity,
            gross=line.total.amount - share,
            currency=line.unit_price.currency,
            vat_rate=line.vat_rate,
        )
        for line, share in zip(lines, shares, strict=True)
    ]


def _shipping(line: Mapping[str, Any], taxes_included: bool) -> Decimal:
    cost = _amount(line, "price") - _allocations(line)
    if not taxes_included:
        cost += sum((amount for _, amount in _taxes(line.get("tax_lines"))), Decimal(0))
    return cost


def _allocations(item: Mapping[str, Any]) -> Decimal:
    allocations = item.get("discount_allocations")
    if allocations:
        return sum((_amount(entry, "amount") for entry in allocations), Decimal(0))
    return _amount(item, "total_discount")


def _taxes(tax_lines: Iterable[Mapping[str, Any]] | None) -> Iterable[tuple[Decimal, Decimal]]:
    for tax in tax_lines or ():
        yield Decimal(str(tax.get("rate") or 0)), _amount(tax, "price")


def _amount(entry: Mapping[str, Any], field: str) -> Decimal:
    """`field` in the shop's currency: `{field}_set.shop_money.amount` where given, else `field`."""
    money = (entry.get(f"{field}_set") or {}).get("shop_money") or {}
    value = money.get("amount", entry.get(field))
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _address(raw: object, email: str, *, fallback: Address | None = None) -> Address:
    if not isinstance(raw, Mapping):
        return fallback or Address(email=email, country_code="NL")
    country = str(raw.get("country_code") or "").upper()
    return Address(
        first_name=str(raw.get("first_name") or ""),
        last_name=str(raw.get("last_name") or ""),
        company=str(raw.get("company") or ""),
        street=str(raw.get("address1") or ""),
        address_line_2=str(raw.get("address2") or ""),
        postal_code=str(raw.get("zip") or ""),
        city=str(raw.get("city") or ""),
        country_code=country if len(country) == 2 and country.isalpha() else "NL",
        email=email,
        phone=str(raw.get("phone") or ""),
    )


def _refunded(transaction: Mapping[str, Any]) -> bool:
    return transaction.get("kind") == "refund" and transaction.get("status") in (None, "success")


def _refund_currency(payload: Mapping[str, Any]) -> str:
    for transaction in payload.get("transactions") or ():
        if transaction.get("currency"):
            return str(transaction["currency"]).upper()
    return "EUR"
