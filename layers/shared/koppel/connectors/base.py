"""What koppel asks of a connector, one small protocol per capability.

A connector module implements the protocols its system supports, translating to and from
`koppel.models` at its edge. Connectors take an injected `httpx.Client` (wrapped in `HttpApi`),
never build their own, and never touch boto3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from koppel.models import CancelReason, Money, Order, ProcessState, Product, WarehouseStock


@dataclass(frozen=True)
class OrderPage:
    """One page of open orders from a channel: ids only; details are fetched per order."""

    order_ids: tuple[str, ...]
    next_page: int | None  # None: this was the last page


@dataclass(frozen=True)
class BackofficeOrder:
    backoffice_order_id: str
    name: str = ""  # what the merchant sees, e.g. "#1001"


@dataclass(frozen=True)
class Variant:
    variant_id: str
    sku: str = ""
    barcode: str = ""


@runtime_checkable
class OrderSource(Protocol):
    """A sales channel we poll for open orders (bol.com, Amazon, ...)."""

    def list_open_orders(self, page: int) -> OrderPage: ...

    def get_order(self, channel_order_id: str) -> Order:
        """The order as the channel has it now; a line the buyer asked to cancel has `cancel_requested`."""
        ...


@runtime_checkable
class OrderSink(Protocol):
    """A backoffice that receives orders (Shopify, KORONA, SnelStart, ...)."""

    def find_order(self, channel: str, channel_order_id: str) -> BackofficeOrder | None:
        """The order created earlier for this channel reference, if any: recovery after a crash."""
        ...

    def create_order(self, order: Order, *, tag: str, create_customer: bool = True) -> BackofficeOrder:
        """Create as a normal, unfulfilled order. Every line carries `backoffice_variant_id`.

        The buyer is matched to the backoffice's customer with the same e-mail; with `create_customer`
        a missing one is created first, without it the order is placed without a customer."""
        ...

    def find_variant(self, sku: str, ean: str = "") -> Variant | None:
        """The backoffice product variant with this SKU (or barcode = EAN)."""
        ...


@dataclass(frozen=True)
class OrderChangesPage:
    orders: tuple[Order, ...]  # each as the webshop has it now, with its `updated_at`
    cursor: str  # where the next read goes on; kept, it is never None
    more: bool  # changes are waiting beyond this page: read again now


@runtime_checkable
class OrderChanges(Protocol):
    """A webshop that sends no order webhooks but can list its orders by when they last changed (Magento's
    `updated_at`, PrestaShop's `date_upd`). Koppel keeps each order as the newest state it read and hands
    it to the same import as a webhook's order."""

    def order_changes(self, cursor: str | None, *, since: datetime) -> OrderChangesPage:
        """Orders created or changed since `cursor`; None: since `since` (a first run's look-back).

        Reading again from a kept cursor may answer an order already read (the overlap that keeps a
        change made in the cursor's own second); it never leaves out one changed after the cursor.
        Orders in a state koppel does not import (awaiting payment, on hold) are left out: they come
        again when they change."""
        ...


@runtime_checkable
class OrderLookup(Protocol):
    """A webshop whose order webhooks only name the orders that changed (Shoprenter signs nothing it
    sends): koppel reads each named order from the webshop's API and trusts nothing else of the body."""

    def order(self, channel_order_id: str) -> Order | None:
        """The order as the webshop has it now; None when it is in a state koppel does not import
        (awaiting payment, failed): it comes again when it changes. NotFound when there is no such order."""
        ...


@runtime_checkable
class ReturnSink(Protocol):
    """A backoffice that books units coming back from an order it took: a reversal or a return receipt,
    a credit note. Each booking is keyed by `return_id`, so it can be found again after a lost answer."""

    def find_return(self, channel: str, channel_order_id: str, return_id: str) -> BackofficeOrder | None:
        """The booking made earlier for this order and key, if any."""
        ...

    def book_return(self, booked: BackofficeOrder, returned: Order, *, return_id: str, whole: bool) -> BackofficeOrder:
        """Book the units of `returned` (the booked order's lines that come back, each with its share of
        the money and its `backoffice_variant_id`) back into stock. `whole`: the entire order is
        cancelled, and the backoffice reverses `booked` where it can."""
        ...


# --- shipments and cancellations ------------------------------------------------------------------
@dataclass(frozen=True)
class Parcel:
    """One shipment the backoffice made for an order: which channel lines, with which code."""

    line_ids: tuple[str, ...]
    tracking_codes: tuple[str, ...] = ()
    company: str = ""  # the carrier as the backoffice names it, if it does
    shipped_at: datetime | None = None

    @property
    def key(self) -> str:
        """Stable identity, so a parcel is sent to the channel once however often it is read."""
        return "|".join(sorted(self.line_ids)) + "#" + ",".join(sorted(self.tracking_codes))


@dataclass(frozen=True)
class Progress:
    """What the backoffice says about an imported order now."""

    completed: bool
    cancelled: bool = False
    cancel_reason: CancelReason | None = None  # when cancelled: why, in koppel's words
    cancel_note: str = ""  # the backoffice's own words for it, for the activity log
    parcels: tuple[Parcel, ...] = ()


@dataclass(frozen=True)
class ChannelProcess:
    """An asynchronous change on the channel (bol's process status)."""

    process_id: str
    status: ProcessState
    error: str = ""


@runtime_checkable
class ProgressSource(Protocol):
    """A backoffice that reports fulfilment and cancellation of the orders koppel created in it."""

    def order_progress(self, backoffice_order_id: str) -> Progress: ...

    def cancel_order(self, backoffice_order_id: str, reason: CancelReason) -> None: ...


@runtime_checkable
class ShipmentChannel(Protocol):
    """A channel that takes the shipments of its orders."""

    def ship(self, order: Order, parcel: Parcel, carrier: str | None) -> ChannelProcess:
        """Send one parcel. `carrier` is koppel's carrier name (`koppel.carriers`), None when unknown;
        the connector maps it to the channel's own code, given the order's delivery country."""
        ...

    def follow(self, process: ChannelProcess) -> ChannelProcess:
        """Poll until the process is no longer PENDING or the connector's budget is spent."""
        ...


@runtime_checkable
class ChannelCancellations(Protocol):
    """A channel that reports its buyers' cancellation requests (`OrderLine.cancel_requested` on the
    orders it returns) and takes cancellations of lines."""

    def cancel(self, order: Order, line_ids: tuple[str, ...], reason: CancelReason) -> ChannelProcess:
        """Cancel these lines (none named: every line still open) on the channel."""
        ...

    def follow(self, process: ChannelProcess) -> ChannelProcess: ...


# --- stock and products ---------------------------------------------------------------------------
@dataclass(frozen=True)
class StockUpdate:
    """One SKU's quantity for a channel, the link's rules (basis, warehouses, buffer) already applied."""

    sku: str  # the backoffice SKU
    quantity: int  # >= 0; a connector clamps to what its channel accepts (bol: 999)
    channel_ref: str  # the channel's own id for it (bol offer id, Shopify inventory item gid)
    observed_at: str = ""  # when the backoffice observed the newest level behind it (UTC), for channels that take it


@dataclass(frozen=True)
class StockPushResult:
    sku: str
    accepted: bool
    error: str = ""  # why the channel refused this SKU, in words an operator can act on
    retryable: bool = False  # a transient failure: try again later rather than report it as refused


@runtime_checkable
class StockTarget(Protocol):
    """A channel that takes stock levels (bol offers, a Shopify store as channel, a partner's webhook)."""

    max_batch: int  # updates the flow hands over per call to `push_stock`

    def channel_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        """(sku, ean) pairs → the channel's id per SKU, for those the channel has; the others are left out."""
        ...

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[StockPushResult]:
        """Set each SKU's available quantity; one result per update, in the same order."""
        ...


@dataclass(frozen=True)
class StockPage:
    levels: tuple[WarehouseStock, ...]
    cursor: str | None  # None: this was the last page


@runtime_checkable
class StockSource(Protocol):
    """A backoffice koppel can read stock from (reconciliation, the first feed)."""

    def stock_page(self, cursor: str | None) -> StockPage: ...


@dataclass(frozen=True)
class StockChangesPage:
    levels: tuple[WarehouseStock, ...]  # each with its `sequence`, so an older read never wins
    cursor: str  # where the next read goes on; kept, it is never None
    more: bool  # changes are waiting beyond this page: read again now


@runtime_checkable
class StockChanges(Protocol):
    """A backoffice that sends no stock webhooks but keeps a change feed koppel polls (KORONA's revisions)."""

    def stock_changes(self, cursor: str | None) -> StockChangesPage:
        """The levels changed since `cursor`; None: from the beginning (every level once)."""
        ...


@runtime_checkable
class StockLookup(Protocol):
    """A backoffice whose stock webhooks only name the products that changed (StoreKeeper's hooks carry
    ids): koppel reads their levels from the backoffice's API and trusts nothing else of the body."""

    def stock_of(self, product_ids: Sequence[str]) -> list[WarehouseStock]:
        """The levels of the named products as the backoffice has them now, each with the moment it
        changed (`observed_at`). A product that no longer exists, keeps no stock or is not offered
        on the link's sales channel gives no level."""
        ...


@runtime_checkable
class InventoryItems(Protocol):
    """A backoffice whose stock webhooks name an inventory item at a location rather than a SKU."""

    def inventory_item_at(self, inventory_item_id: str, location_id: str) -> tuple[str, int | None]:
        """The item's SKU and its on-hand units at the location (None: not stocked there)."""
        ...


@dataclass(frozen=True)
class ProductPage:
    products: tuple[Product, ...]
    cursor: str | None  # None: this was the last page
    # A source with a change feed, on its last page: where the next pass starts, so that it reads only
    # what changed since. None: the next pass reads everything again.
    resume: str | None = None


@runtime_checkable
class ProductSource(Protocol):
    """A backoffice koppel can read products from, a page at a time (product sync, nightly feed)."""

    def product_page(self, cursor: str | None, *, price_list: str = "") -> ProductPage:
        """`price_list` empty: the default price. Named: only products with a price in that list, at that price."""
        ...


@dataclass(frozen=True)
class ProductUpdate:
    """A backoffice product for a channel: its price already taken from the link's price list."""

    product: Product
    channel_ref: str  # the channel's own id for the SKU (bol offer id, Shopify variant gid)
    image_changed: bool = False  # the backoffice's image differs from the one last sent: upload it as a new one
    # The channel's own attributes to set, by the channel's attribute code (the link's `products.attributes`
    # maps the backoffice's fields onto them).
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductPushResult:
    sku: str
    accepted: bool
    error: str = ""
    retryable: bool = False


@runtime_checkable
class ProductTarget(Protocol):
    """A channel koppel keeps product data current on, for products it already has (matched by SKU/EAN)."""

    max_batch: int

    def product_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        """(sku, ean) pairs → the channel's product id per SKU, for those it has; others are left out."""
        ...

    def push_products(self, updates: Sequence[ProductUpdate]) -> list[ProductPushResult]:
        """Update each product on the channel; one result per update, in the same order."""
        ...


@runtime_checkable
class ProductCreation(Protocol):
    """A channel koppel may create products on (a webshop), for links with `products.create_missing`."""

    def create_products(self, updates: Sequence[ProductUpdate]) -> list[ProductPushResult]:
        """Create each product (its `channel_ref` is empty); one result per update, in the same order. A
        product the channel turns out to have already is updated instead, never made twice."""
        ...


# --- customers' open amounts ------------------------------------------------------------------------
@dataclass(frozen=True)
class CustomerBalance:
    email: str  # how the webshop knows the customer
    open_amount: Money  # what the customer owes on open sales invoices; zero when nothing is open
    customer_ref: str = ""  # the backoffice's own id of the customer


@dataclass(frozen=True)
class BalancePage:
    balances: tuple[CustomerBalance, ...]
    cursor: str | None  # None: this was the last page


@runtime_checkable
class BalanceSource(Protocol):
    """A backoffice that keeps its customers' open invoices (accounting)."""

    def balance_page(self, cursor: str | None) -> BalancePage:
        """Every customer with an e-mail address and their open amount, zero included, a page at a time."""
        ...


@dataclass(frozen=True)
class BalancePushResult:
    email: str
    accepted: bool
    error: str = ""  # "no such customer" included: the webshop has no account for the e-mail
    retryable: bool = False


@runtime_checkable
class BalanceTarget(Protocol):
    """A webshop whose customer accounts can carry an attribute for the open amount."""

    def push_balances(self, balances: Sequence[CustomerBalance], attribute: str) -> list[BalancePushResult]:
        """Set `attribute` on each e-mail's customer account to its open amount; one result per balance."""
        ...
