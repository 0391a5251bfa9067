"""Shoprenter (Hungarian hosted webshop, Gold plan API): a webshop selling as a channel, and a source
of its products and stock for a backoffice that downloads them.

koppel polls its orders by `dateUpdated`; its "order status change" webhook (unsigned) is read for
order ids only (`changed_order_ids`) and each order fetched again. Prices and stock go through the
batch endpoint, at most 3 requests a second per shop."""

from koppel.connectors.declaration import Capability, Role, SystemSpec, Webhooks
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
    webhooks=Webhooks(
        scheme="url-secret (unsigned; the secret is in the URL, the order read again from the API)",
        verifier="koppel.connectors.shoprenter.webhook:verify",
        order_ids="koppel.connectors.shoprenter.webhook:order_ids",
        topics=frozenset({"order.changed"}),
        secret_in_url=True,
    ),
    connector="koppel.connectors.shoprenter.connector:from_account",
    serves=frozenset(
        {
            Capability.ORDER_CHANGES,
            Capability.ORDER_LOOKUP,
            Capability.PRODUCT_TARGET,
            Capability.STOCK_TARGET,
            Capability.PRODUCT_SOURCE,
            Capability.STOCK_SOURCE,
        }
    ),
    notes="webshop; orders by order-status webhook (secret URL, read for ids) and polled by dateUpdated; "
    "prices, names and stock written in batches; products and stock read; 3 requests/s per shop",
)
