"""StoreKeeper (Dutch retail backoffice): a backoffice that takes a sales channel's orders as
administrative orders and whose products, publication and stock koppel reads.

Built from public facts (`FACTS-systems-2.md` §1.5 and §2.2: StoreKeeper's PHP API wrapper and its
WooCommerce and Magento plugins), not from a specification: StoreKeeper publishes none. What is
unverified is named in each module of the connector.

StoreKeeper hands koppel its API credentials itself: the merchant connects the koppel app in
StoreKeeper with the hook token koppel gave them (`webhook_secret`), and StoreKeeper's `init` hook
brings the API URL and key, which koppel keeps in the account's secret. Its `events` hooks only
name the products that changed; koppel reads their levels from the API (`stock_ids`, `StockLookup`).
"""

from koppel.connectors.declaration import Capability, Role, SystemSpec, Webhooks
from koppel.connectors.storekeeper.settings import API_CREDENTIALS, TOKEN_HEADER, StoreKeeperSettings

SYSTEM = SystemSpec(
    name="storekeeper",
    title="StoreKeeper",
    roles=frozenset({Role.BACKOFFICE}),
    settings=StoreKeeperSettings,
    # Nothing is required at set-up: the API credentials arrive with StoreKeeper's `init` hook.
    credentials=(),
    # api_*: written by the `init` hook, removed by `disconnect`; webhook_secret: the hook token the
    # merchant enters in StoreKeeper (UpxHookToken), previous_webhook_secret while it is rotated.
    optional_credentials=(*API_CREDENTIALS, "webhook_secret", "previous_webhook_secret"),
    webhooks=Webhooks(
        scheme="hook token (UpxHookToken header, compared in constant time; the hooks name products, "
        "koppel reads them from the API)",
        verifier="koppel.connectors.storekeeper.hooks:verify",
        stock_ids="koppel.connectors.storekeeper.hooks:stock_ids",
        topics=frozenset({"stock.changed"}),
        token_header=TOKEN_HEADER,
    ),
    connector="koppel.connectors.storekeeper.connector:from_account",
    serves=frozenset(
        {Capability.ORDER_SINK, Capability.PRODUCT_SOURCE, Capability.STOCK_SOURCE, Capability.STOCK_LOOKUP}
    ),
    finds_orders=True,  # by shop_order_number, the channel's order id
    notes="backoffice; API key by its init hook, stock hooks name products, publication honoured, "
    "channel orders as paid administrative orders",
)
