"""KORONA.pos (KORONA.cloud API v3): a backoffice whose articles and stock koppel reads, changes by
revision every minute (KORONA sends no webhooks; stock mutations may also arrive by koppel-signed
webhook), and that books a webshop's orders, returns and cancellations as receipts at an external
point of sale."""

from koppel.connectors.declaration import Capability, Role, SystemSpec
from koppel.connectors.korona.settings import KoronaSettings

SYSTEM = SystemSpec(
    name="korona",
    title="KORONA.pos",
    roles=frozenset({Role.BACKOFFICE}),
    settings=KoronaSettings,
    credentials=("user", "password"),
    # coupling_id: the external point of sale's coupling id, needed to book receipts.
    optional_credentials=("coupling_id", "webhook_secret", "previous_webhook_secret"),
    connector="koppel.connectors.korona.connector:from_account",
    serves=frozenset(
        {
            Capability.PRODUCT_SOURCE,
            Capability.STOCK_SOURCE,
            Capability.STOCK_CHANGES,
            Capability.ORDER_SINK,
            Capability.RETURN_SINK,
        }
    ),
    webhook_only=True,  # a till without an API user still pushes its stock mutations
    notes="POS/ERP; articles and stock read by API, changes by revision every minute, stock also by "
    "koppel-signed webhook; webshop orders, returns and cancellations booked as receipts",
)
