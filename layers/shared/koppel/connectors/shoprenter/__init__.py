"""Shoprenter (Hungarian hosted webshop, Gold plan API): a webshop selling as a channel, and a source
of its products and stock for a backoffice that downloads them.

koppel polls its orders by `dateUpdated`; its "order status change" webhook (unsigned) is read for
order ids only (`changed_order_ids`) and each order fetched again. Prices and stock go through the
batch endpoint, at most 3 requests a second per shop."""

from koppel.connectors.declaration import Capability, Role, SystemSpec
from koppel.connectors.shoprenter.settings import ShoprenterSettings

SYSTEM = SystemSpec(
    name="shoprenter",
    title="Shoprenter",
    roles=frozenset({Role.BACKOFFICE, Role.CHANNEL}),
    settings=ShoprenterSettings,
    # client_id, client_secret: the shop's API client (Settings > Integrations > API settings).
    credentials=("client_id", "client_secret"),
    # webhook_secret: the secret part of the webhook URL the merchant enters in the automation, since
    # Shoprenter signs nothing it sends.
    optional_credentials=("webhook_secret", "previous_webhook_secret"),
    webhooks=None,
    connector="koppel.connectors.shoprenter.connector:from_account",
    serves=frozenset(
        {
            Capability.ORDER_CHANGES,
            Capability.PRODUCT_TARGET,
            Capability.STOCK_TARGET,
            Capability.PRODUCT_SOURCE,
            Capability.STOCK_SOURCE,
        }
    ),
    notes="webshop; orders polled by dateUpdated (order-status webhook read for ids); prices, names and "
    "stock written in batches; products and stock read; 3 requests/s per shop",
)
