"""SnelStart (B2B API v2): an accounting backoffice that books a webshop's orders as verkooporders for
their customers, whose articles and stock koppel reads (polled by `modifiedOn`: SnelStart sends no
data webhooks) and whose customers' open invoices koppel hands to the webshop's customer accounts."""

from koppel.connectors.declaration import Capability, Role, SystemSpec
from koppel.connectors.snelstart.settings import SnelStartSettings

SYSTEM = SystemSpec(
    name="snelstart",
    title="SnelStart",
    roles=frozenset({Role.BACKOFFICE}),
    settings=SnelStartSettings,
    # subscription_key: koppel's partner key of SnelStart's API gateway; client_key: the koppelsleutel
    # the administration made for koppel in SnelStart Web.
    credentials=("subscription_key", "client_key"),
    optional_credentials=("webhook_secret", "previous_webhook_secret"),
    connector="koppel.connectors.snelstart.connector:from_account",
    serves=frozenset(
        {
            Capability.ORDER_SINK,
            Capability.STOCK_SOURCE,
            Capability.STOCK_CHANGES,
            Capability.PRODUCT_SOURCE,
            Capability.BALANCE_SOURCE,
        }
    ),
    notes="accounting; webshop orders as verkooporders (customer found or made), articles, action prices and "
    "stock read by API and polled by modifiedOn, customers' open invoice amounts",
)
