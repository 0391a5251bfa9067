"""The canonical model. Every connector translates to and from these at its edge.

Money is always `Decimal` with an ISO 4217 currency; quantities are whole units.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True, defer_build=True)


class Money(Model):
    amount: Decimal
    currency: CurrencyCode = "EUR"

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, value: object) -> object:
        # A float has already lost the cents; accept its repr only, never its binary value.
        return Decimal(repr(value)) if isinstance(value, float) else value

    def __mul__(self, quantity: int) -> Money:
        return Money(amount=self.amount * quantity, currency=self.currency)


class Address(Model):
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    street: str = ""
    house_number: str = ""
    house_number_extension: str = ""
    address_line_2: str = ""
    postal_code: str = ""
    city: str = ""
    country_code: str = Field(default="NL", pattern=r"^[A-Z]{2}$")
    email: str = ""
    phone: str = ""


class Customer(Model):
    email: str
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    company: str = ""


class OrderLine(Model):
    line_id: str = Field(description="The channel's own id of this order line")
    channel_sku: str = Field(description="SKU / offer reference as the channel knows it")
    ean: str = ""
    title: str = ""
    quantity: int = Field(gt=0)
    unit_price: Money = Field(description="Per unit, VAT included")
    vat_rate: Decimal | None = Field(default=None, description="Percentage, e.g. 21")
    backoffice_variant_id: str = Field(default="", description="Filled in once the SKU is mapped")
    discount: Money | None = Field(
        default=None, description="Off the whole line (all its units), VAT included, as the channel reports it"
    )
    cancel_requested: bool = Field(
        default=False, description="The buyer asked the channel to cancel this line and it is not settled yet"
    )

    @model_validator(mode="after")
    def _discount_within_line(self) -> OrderLine:
        # A discount larger than the line, negative, or in another currency is a misread order,
        # not a price to pass on to the backoffice.
        if self.discount is not None and (
            self.discount.currency != self.unit_price.currency
            or not 0 <= self.discount.amount <= self.unit_price.amount * self.quantity
        ):
            raise ValueError("a line discount must lie between zero and the line's price, in its currency")
        return self

    @property
    def total(self) -> Money:
        """What the buyer paid for the line: all units, less the discount, VAT included."""
        discount = self.discount.amount if self.discount is not None else Decimal(0)
        return Money(amount=self.unit_price.amount * self.quantity - discount, currency=self.unit_price.currency)


class CancelReason(StrEnum):
    """Why an order (or some of its lines) is cancelled, in koppel's words; each connector maps them."""

    BUYER_REQUEST = "buyer_request"  # the buyer asked for it
    OUT_OF_STOCK = "out_of_stock"
    FRAUD = "fraud"
    PAYMENT_DECLINED = "payment_declined"
    OTHER = "other"


class ProcessState(StrEnum):
    """Where a change the channel handles asynchronously stands (a shipment, a cancellation)."""

    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    TIMEOUT = "TIMEOUT"

    @property
    def accepted(self) -> bool:
        """Done or under way on the channel's side: nothing to send again."""
        return self in (ProcessState.SUCCESS, ProcessState.PENDING)


class OrderStatus(StrEnum):
    OPEN = "open"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class Order(Model):
    channel: str = Field(description="System type of the channel, e.g. 'bol'")
    channel_order_id: str
    placed_at: datetime
    status: OrderStatus = OrderStatus.OPEN
    customer: Customer
    billing_address: Address
    shipping_address: Address
    lines: tuple[OrderLine, ...] = Field(min_length=1)
    shipping_cost: Money | None = None
    currency: CurrencyCode = "EUR"
    note: str = ""
    name: str = Field(default="", description="The order's number as the channel shows it to people, e.g. '#1001'")
    payment_method: str = Field(
        default="", description="How the buyer paid, in the channel's words (a webshop's payment gateway)"
    )
    channel_total: Money | None = Field(
        default=None, description="What the channel says the buyer pays in all; a backoffice booking must match it"
    )
    backoffice_payment_method: str = Field(
        default="", description="Filled in from the link: the backoffice's payment method for `payment_method`"
    )
    book_at: str = Field(default="", description="Filled in from the link: where the backoffice books it (a till)")
    updated_at: datetime | None = Field(
        default=None, description="When the channel last changed the order; an older state never replaces a newer"
    )

    @property
    def cancel_requested_lines(self) -> tuple[str, ...]:
        """Line ids the buyer asked the channel to cancel, still open."""
        return tuple(line.line_id for line in self.lines if line.cancel_requested)

    @property
    def total(self) -> Money:
        total = sum((line.total.amount for line in self.lines), Decimal(0))
        if self.shipping_cost is not None:
            total += self.shipping_cost.amount
        return Money(amount=total, currency=self.currency)


class StockLevel(Model):
    sku: str
    quantity: int = Field(description="Units available to sell after the link's rules are applied")
    observed_at: datetime = Field(description="When the backoffice reported this level; orders stale events")
    warehouse: str = ""


class WarehouseStock(Model):
    """What a backoffice holds of one SKU in one warehouse (location), before a link's rules."""

    sku: str
    warehouse: str = Field(default="", description="The backoffice's warehouse/location id; '' when it has one")
    on_hand: int = Field(description="Technical stock: units physically there")
    backorders: int = Field(default=0, ge=0, description="Units promised to open orders (reserved/committed)")
    observed_at: datetime
    sequence: int | None = Field(
        default=None,
        ge=0,
        description="The backoffice's own counter for this level (KORONA's revision), which orders levels; "
        "None: they are ordered by observed_at",
    )

    @property
    def free(self) -> int:
        return self.on_hand - self.backorders


class Shipment(Model):
    channel_order_id: str
    line_ids: tuple[str, ...] = ()
    tracking_code: str = ""
    carrier: str = ""
    shipped_at: datetime | None = None


class ReturnLine(Model):
    sku: str = Field(default="", description="As the refund names it; '' when only the order line says")
    quantity: int = Field(gt=0)
    restock: bool = Field(description="The units go back into stock (returned, or cancelled before shipping)")
    line_id: str = Field(default="", description="The channel's order line the units come from")


class Return(Model):
    """A refund or return on the channel: which units of which order, and whether they go back to stock."""

    source: str = Field(description="The channel's system, as its orders carry it")
    source_id: str = Field(description="The channel's id of the refund or return")
    order_reference: str = Field(description="The channel's order id")
    lines: tuple[ReturnLine, ...]
    refunded: Money | None = None
    note: str = ""

    @property
    def restocked(self) -> tuple[ReturnLine, ...]:
        return tuple(line for line in self.lines if line.restock)


class Product(Model):
    sku: str
    title: str
    ean: str = ""
    price: Money | None = None
    sale_price: Money | None = None
    stock_managed: bool = True
    quantity: int = 0
    image_url: str = ""
    weight_grams: int | None = None
    category: str = ""
    group: str = ""
    url: str = Field(default="", description="The product's own page, where the backoffice's shop has one")
    published: bool | None = Field(
        default=None,
        description="Whether the backoffice offers it on the link's sales channel (StoreKeeper's publication); "
        "None: the backoffice does not say, and the link's product groups decide",
    )
    attributes: dict[str, str] = Field(
        default_factory=dict,
        description="The backoffice's other fields by its field names, for links that map them to channel attributes",
    )


def sortable(moment: datetime) -> str:
    """UTC, fixed width, microseconds: comparing the text compares the time (14:00+01:00 < 13:30Z)."""
    if moment.tzinfo is None:
        raise ValueError("a stock level's time must carry its offset")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
