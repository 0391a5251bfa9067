"""Winkelstraat.nl orders as Copernicus posts them to koppel's partner route, read into koppel's `Order`.

Copernicus publishes no API of its own for this, so koppel defines the contract (docs/partner-api.md):
`POST /partners/{account_id}/orders`, signed with koppel's scheme under the topic `order.created`,
whose body is one order in the shape of Winkelstraat's Stock Hub order (FACTS-systems-2.md §1.5), so
Copernicus can forward an order nearly as Winkelstraat gives it:

    {"increment_id", "created_at", "currency", "customer_email",
     "items": [{"sku", "qty_ordered", "item_price_inc_tax", "row_total_inc_tax",
                "discount_inc_tax"?, "name"?, "ean"?, "item_id"?}],
     "billing_address": {"firstname", "lastname", "company"?, "street": [...], "postcode", "city",
                         "country_id", "telephone"?},
     "shipping_address": {... the same ...},
     "shipping_price", "grand_total", "updated_at"?}

Every other field (Stock Hub's `mpn`, `parent_sku`, `size`, `manufacturer`, `status`, `subtotal`,
`po_number`, ...) is ignored. Money is read as Decimal (a JSON number or a string, never through a
float's binary value) and must be whole cents; VAT is included in every amount.

What is strict, because a wrong order booked is worse than one refused (400, nothing stored, the
reason naming the field): a quantity is a whole number above 0; an item's `row_total_inc_tax` is its
`qty_ordered` times `item_price_inc_tax` less its `discount_inc_tax`, to the cent; `grand_total` is
the items' row totals plus `shipping_price`, to the cent; a country is two letters; a currency three.

Assumptions (unverified): Stock Hub's field names are those its documentation lists (from the facts,
not from a recorded order); Stock Hub items carry no id of their own, so a line's id is `item_id`
where Copernicus sends one, else the item's position (1, 2, ...), which is the same every time the
same order is posted; a `created_at` without an offset is UTC, as Magento-based shops write it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from koppel.config import Account
from koppel.connectors.addresses import split_street
from koppel.errors import BadRequest
from koppel.models import Address, Customer, Money, Order, OrderLine
from koppel.queue import Envelope
from koppel.webhooks import Delivery, Ignored, VerifyContext, for_log, verify_koppel

SYSTEM = "winkelstraat"
TOPIC = "order.created"
PAYMENT = "winkelstraat"  # paid at Winkelstraat before Copernicus forwards the order
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000")  # more than any one order line or order koppel books
MAX_QUANTITY = 10_000
MAX_ITEMS = 500
MAX_REASONS = 5  # problems one 400 names; the rest are counted


def _problem(reason: str) -> PydanticCustomError:
    return PydanticCustomError("partner_order", "{reason}", {"reason": reason})


# --- field types ------------------------------------------------------------------------------------
def _text_id(value: object) -> object:
    """An id may come as a JSON number (Magento's increment ids are digits); a bool is no id."""
    if isinstance(value, bool):
        raise _problem("must be text, not true or false")
    return str(value) if isinstance(value, int) else value


def _number(value: object, what: str) -> Decimal:
    """A JSON number or a string as an exact, finite Decimal (a float by its repr, never its binary value)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise _problem(f"must be {what} (a JSON number or a string)")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise _problem(f"must be {what}, not {for_log(value, 20)}")
    return number


def _amount(value: object) -> Decimal:
    amount = _number(value, "an amount such as 14.95")
    if abs(amount) >= MAX_AMOUNT:
        raise _problem(f"must be an amount below {MAX_AMOUNT}, not {for_log(value, 20)}")
    if amount < 0:
        raise _problem(f"must not be negative ({amount})")
    if amount != amount.quantize(CENT):
        raise _problem(f"has more than two decimals ({amount}): send whole cents")
    return amount.quantize(CENT)


def _quantity(value: object) -> int:
    units = _number(value, "a whole number of units, such as 2")
    if units != units.to_integral_value():
        raise _problem(f"must be a whole number of units, not {for_log(value, 20)}")
    if not 0 < units <= MAX_QUANTITY:
        raise _problem(f"must be more than 0 and at most {MAX_QUANTITY}, not {for_log(value, 20)}")
    return int(units)


def _code(length: int, what: str) -> Any:
    def check(value: object) -> str:
        code = value.strip().upper() if isinstance(value, str) else ""
        if len(code) != length or not code.isascii() or not code.isalpha():
            raise _problem(f"must be {what} ({length} letters), not {for_log(value, 20)}")
        return code

    return check


def _email(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in text) or len(text) > 254:
        raise _problem(f"must be the buyer's e-mail address, not {for_log(value, 40)!r}")
    return text


def _moment(value: object) -> datetime:
    """ISO 8601 (`2026-11-21T13:05:00+01:00`, `...Z`, or Stock Hub's `2026-11-21 12:05:00`, read as UTC)."""
    try:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise _problem(f"must be a time such as 2026-11-21T13:05:00+01:00, not {for_log(value, 40)}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _street(value: object) -> object:
    # Stock Hub (Magento) sends the street lines as a list; one line as plain text is taken as such.
    return [value] if isinstance(value, str) else value


Amount = Annotated[Decimal, BeforeValidator(_amount)]
Quantity = Annotated[int, BeforeValidator(_quantity)]
Country = Annotated[str, BeforeValidator(_code(2, "an ISO 3166 country code such as NL"))]
Currency = Annotated[str, BeforeValidator(_code(3, "an ISO 4217 currency code such as EUR"))]
Email = Annotated[str, BeforeValidator(_email)]
Moment = Annotated[datetime, BeforeValidator(_moment)]
Id = Annotated[str, BeforeValidator(_text_id), Field(min_length=1, max_length=64)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Line = Annotated[str, Field(max_length=200)]


# --- the documented shape ---------------------------------------------------------------------------
class PartnerModel(BaseModel):
    # Fields koppel does not read are ignored, so Copernicus may pass Stock Hub's order on as it is.
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)


class PartnerItem(PartnerModel):
    item_id: Annotated[str, BeforeValidator(_text_id), Field(max_length=64)] = ""
    sku: Id
    name: Line = ""
    ean: Annotated[str, Field(max_length=14)] = ""
    qty_ordered: Quantity
    item_price_inc_tax: Amount
    row_total_inc_tax: Amount
    discount_inc_tax: Amount = Decimal("0.00")

    @model_validator(mode="after")
    def _row_adds_up(self) -> PartnerItem:
        expected = self.item_price_inc_tax * self.qty_ordered - self.discount_inc_tax
        if expected < 0:
            raise _problem(
                f"discount_inc_tax {self.discount_inc_tax} is more than qty_ordered {self.qty_ordered} "
                f"x item_price_inc_tax {self.item_price_inc_tax}"
            )
        if self.row_total_inc_tax != expected:
            raise _problem(
                f"row_total_inc_tax {self.row_total_inc_tax} is not qty_ordered {self.qty_ordered} x "
                f"item_price_inc_tax {self.item_price_inc_tax} less discount_inc_tax {self.discount_inc_tax} "
                f"= {expected}"
            )
        return self


class PartnerAddress(PartnerModel):
    firstname: Name
    lastname: Name
    company: Line = ""
    street: Annotated[list[Line], BeforeValidator(_street), Field(min_length=1, max_length=4)]
    postcode: Annotated[str, Field(min_length=1, max_length=20)]
    city: Name
    country_id: Country
    telephone: Annotated[str, Field(max_length=40)] = ""

    @model_validator(mode="after")
    def _street_named(self) -> PartnerAddress:
        if not self.street[0].strip():
            raise _problem("street's first line must name the street")
        return self


class PartnerOrder(PartnerModel):
    increment_id: Id
    created_at: Moment
    updated_at: Moment | None = None
    currency: Currency
    customer_email: Email
    items: Annotated[list[PartnerItem], Field(min_length=1, max_length=MAX_ITEMS)]
    billing_address: PartnerAddress
    shipping_address: PartnerAddress
    shipping_price: Amount = Decimal("0.00")
    grand_total: Amount

    @model_validator(mode="after")
    def _total_adds_up(self) -> PartnerOrder:
        ids = [item.item_id for item in self.items if item.item_id]
        if len(ids) != len(set(ids)):
            raise _problem("two items carry the same item_id: each item needs its own")
        rows = sum((item.row_total_inc_tax for item in self.items), Decimal("0.00"))
        if self.grand_total != rows + self.shipping_price:
            raise _problem(
                f"grand_total {self.grand_total} is not the items' row_total_inc_tax ({rows}) plus "
                f"shipping_price ({self.shipping_price}) = {rows + self.shipping_price}"
            )
        return self


# --- reading and refusing ---------------------------------------------------------------------------
WORDS = {
    "missing": "is required",
    "string_type": "must be text",
    "string_too_short": "must not be empty",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
}


def partner_order(payload: Mapping[str, Any]) -> PartnerOrder:
    """The body read against the documented shape, or `BadRequest` naming each field that is wrong."""
    try:
        return PartnerOrder.model_validate(payload)
    except ValidationError as exc:
        raise BadRequest(f"the order cannot be taken: {reasons(exc)}") from None


def reasons(error: ValidationError) -> str:
    """What is wrong, field by field (`items[1].qty_ordered: must be more than 0 ...`), at most a few."""
    found = error.errors(include_url=False)
    parts = []
    for entry in found[:MAX_REASONS]:
        where = _where(entry["loc"])
        if entry["type"] == "too_short":
            what = "must hold at least one" if isinstance(entry.get("input"), list) else "must not be empty"
        elif entry["type"] in ("string_too_long", "too_long"):
            what = f"is longer than {entry.get('ctx', {}).get('max_length', 'allowed')}"
        else:
            what = WORDS.get(entry["type"], entry["msg"])
        parts.append(f"{where}: {what}" if where else what)
    if len(found) > MAX_REASONS:
        parts.append(f"and {len(found) - MAX_REASONS} more")
    return "; ".join(parts)


def _where(location: tuple[int | str, ...]) -> str:
    shown = ""
    for part in location:
        shown += f"[{part}]" if isinstance(part, int) else (f".{part}" if shown else str(part))
    return shown


def verify(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, ctx: VerifyContext
) -> Delivery | Ignored:
    """koppel's signature (`verify_koppel`), then an `order.created` body read against the documented
    shape: a malformed order is refused with its reason (400) before anything is queued or stored."""
    delivery = verify_koppel(account, secrets, headers, body, ctx)
    if isinstance(delivery, Delivery) and delivery.topic == TOPIC:
        partner_order(delivery.payload or {})
    return delivery


def order(envelope: Envelope, payload: Mapping[str, Any]) -> Order:
    """The order an `order.created` delivery carries, paid at Winkelstraat."""
    given = partner_order(payload)
    currency = given.currency
    billing = _address(given.billing_address, given.customer_email)
    return Order(
        channel=SYSTEM,
        channel_order_id=given.increment_id,
        name=given.increment_id,
        placed_at=given.created_at,
        updated_at=given.updated_at or given.created_at,
        customer=Customer(
            email=given.customer_email,
            first_name=given.billing_address.firstname,
            last_name=given.billing_address.lastname,
            phone=given.billing_address.telephone,
            company=given.billing_address.company,
        ),
        billing_address=billing,
        shipping_address=_address(given.shipping_address, given.customer_email),
        lines=tuple(
            OrderLine(
                line_id=item.item_id or str(position),
                channel_sku=item.sku,
                ean=item.ean,
                title=item.name,
                quantity=item.qty_ordered,
                unit_price=Money(amount=item.item_price_inc_tax, currency=currency),
                discount=Money(amount=item.discount_inc_tax, currency=currency) if item.discount_inc_tax else None,
            )
            for position, item in enumerate(given.items, start=1)
        ),
        shipping_cost=Money(amount=given.shipping_price, currency=currency) if given.shipping_price else None,
        currency=currency,
        payment_method=PAYMENT,
        channel_total=Money(amount=given.grand_total, currency=currency),
    )


def _address(given: PartnerAddress, email: str) -> Address:
    street, number, extension, rest = split_street(given.street)
    return Address(
        first_name=given.firstname,
        last_name=given.lastname,
        company=given.company,
        street=street,
        house_number=number,
        house_number_extension=extension,
        address_line_2=rest,
        postal_code=given.postcode,
        city=given.city,
        country_code=given.country_id,
        email=email,
        phone=given.telephone,
    )
