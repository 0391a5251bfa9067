"""How a system declares itself to koppel, once, in its own package (`koppel/connectors/<system>/__init__.py`).

The declaration is all that the registry, account validation, `koppel account put`'s help, the
webhook receiver's signature check, the flows' wiring and `koppel systems` know of a system. It is
cheap to import: the connector itself is named by its dotted path and imported only when a link
needs it, so a cold start pays for the systems it uses and no others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pydantic import BaseModel


class Role(StrEnum):
    BACKOFFICE = "backoffice"
    CHANNEL = "channel"


class Capability(StrEnum):
    """One protocol of `koppel.connectors.base` a system's connector serves (the same name, in snake case)."""

    ORDER_SOURCE = "order_source"  # a channel koppel polls for open orders
    ORDER_CHANGES = "order_changes"  # a webshop koppel polls for orders by when they changed (no webhooks)
    ORDER_LOOKUP = "order_lookup"  # a webshop whose order webhooks only name the order: koppel reads it
    ORDER_SINK = "order_sink"  # a backoffice that takes orders
    RETURN_SINK = "return_sink"  # a backoffice that books returned or cancelled units back into stock
    PROGRESS_SOURCE = "progress_source"  # a backoffice that reports fulfilment and cancellation
    SHIPMENT_CHANNEL = "shipment_channel"  # a channel that takes shipments
    CHANNEL_CANCELLATIONS = "channel_cancellations"  # a channel with buyer cancellation requests and cancels
    STOCK_TARGET = "stock_target"  # a channel that takes stock levels
    STOCK_SOURCE = "stock_source"  # a backoffice koppel can read stock from
    STOCK_CHANGES = "stock_changes"  # a backoffice whose stock changes koppel polls (no webhooks)
    STOCK_LOOKUP = "stock_lookup"  # a backoffice whose stock webhooks only name the products: koppel reads them
    INVENTORY_ITEMS = "inventory_items"  # inventory item → SKU look-up for stock webhooks
    PRODUCT_SOURCE = "product_source"  # a backoffice koppel can read products from
    PRODUCT_TARGET = "product_target"  # a channel koppel keeps product data current on
    PRODUCT_CREATION = "product_creation"  # a channel koppel may create the backoffice's new products on
    BALANCE_SOURCE = "balance_source"  # a backoffice that keeps its customers' open invoices
    BALANCE_TARGET = "balance_target"  # a webshop whose customers can carry their open amount


# The topics of koppel's own scheme (README, "Webhooks"): what a system signing with it may send.
KOPPEL_TOPICS = frozenset(
    {
        "stock.changed",
        "order.created",
        "order.updated",
        "order.cancelled",
        "return.created",
        "refund.created",
        "product.created",
        "product.updated",
    }
)


@dataclass(frozen=True)
class Webhooks:
    """How a system's webhooks reach koppel.

    `verifier` and `stock_levels` are dotted paths (`module:function`), imported on first use:
    - verifier(account, secrets, headers, body, ctx) -> Delivery | Ping | Ignored | Install (see `koppel.webhooks`);
    - stock_levels(envelope, payload, inventory_items) -> list[IncomingLevel], for deliveries that
      report stock (`koppel.ports.stock.IncomingLevel`s; see `connectors/shopify/webhooks.py`);
    - orders(envelope, payload) -> Order, for a webshop whose order webhooks carry the whole order as
      it is now (flow 7; see `connectors/shopify/deliveries.py`);
    - returns(envelope, payload) -> Return, for its refund or return webhooks;
    - order_ids(envelope, payload) -> list[str], for a webshop whose order webhooks only name the
      orders that changed: each is read from the webshop (`OrderLookup`), nothing else of the body is
      trusted (see `connectors/shoprenter/webhook.py`);
    - stock_ids(envelope, payload) -> list[str], for a backoffice whose stock webhooks only name the
      products that changed: their levels are read from the backoffice (`StockLookup`), nothing else
      of the body is trusted (see `connectors/storekeeper/hooks.py`).
    `topics` are the topics the system sends and koppel takes; any other verified delivery is
    acknowledged as ignored and queued nowhere (a topic header the signature does not cover must not
    choose what koppel does).
    """

    scheme: str  # shown to the merchant: how deliveries are signed
    verifier: str
    stock_levels: str = ""  # "" : this system's deliveries carry no stock koppel reads
    orders: str = ""  # "" : its order webhooks carry no order koppel books from them
    returns: str = ""
    order_ids: str = ""
    stock_ids: str = ""
    topics: frozenset[str] = KOPPEL_TOPICS
    # The system signs nothing: its deliveries go to `/webhooks/{account_id}/{webhook_secret}`, and
    # `koppel account webhook-url` makes the secret and prints the address.
    secret_in_url: bool = False
    # The system sends a token koppel gives it in this header (StoreKeeper's `UpxHookToken`), compared
    # with the account's webhook secret; `koppel account webhook-url` makes the token and prints it.
    token_header: str = ""


# Systems that sign nothing themselves are fronted by koppel's own documented scheme.
KOPPEL_WEBHOOKS = Webhooks(
    scheme="koppel",
    verifier="koppel.webhooks:verify_koppel",
    stock_levels="koppel.connectors.generic.webhooks:stock_levels",
)


@dataclass(frozen=True)
class SystemSpec:
    name: str  # the account's `system`, e.g. "shopify"
    title: str  # for people, e.g. "Shopify"
    roles: frozenset[Role]
    settings: type[BaseModel] | None = None  # None: free-form settings (anything the merchant sets)
    credentials: tuple[str, ...] = ()  # keys the account's secret must hold
    optional_credentials: tuple[str, ...] = ()
    webhooks: Webhooks | None = KOPPEL_WEBHOOKS  # None: the system sends koppel no webhooks
    connector: str = ""  # dotted path of `from_account(account, credentials, client)`; "" : none yet
    serves: frozenset[Capability] = field(default_factory=frozenset)
    takes_feed: bool = False  # a channel that fetches koppel's nightly feed by URL
    # An account may be set up without API credentials, pushing its stock by webhook only: koppel
    # then reads nothing from it and works from what it pushed. Off, missing credentials are an error.
    webhook_only: bool = False
    # An order sink whose API can find an order it took by the channel's reference (`find_order`).
    # Off, an order whose create may have reached it (a lost answer, a crash) is never sent again by
    # koppel on its own: it waits for a person to check the backoffice and accept it.
    finds_orders: bool = True
    notes: str = ""  # one line for `koppel systems`, e.g. what is not built yet

    def __post_init__(self) -> None:
        if self.serves and not self.connector:
            raise ValueError(f"{self.name} declares capabilities but names no connector")

    def can(self, capability: Capability) -> bool:
        return capability in self.serves

    def plays(self, role: Role) -> bool:
        return role in self.roles
