"""KORONA.pos (KORONA.cloud API v3): a backoffice whose articles and stock koppel reads; stock
mutations may also arrive by koppel-signed webhook. Receipts (webshop orders in) are not built yet."""

from koppel.connectors.declaration import Capability, Role, SystemSpec
from koppel.connectors.korona.settings import KoronaSettings

SYSTEM = SystemSpec(
    name="korona",
    title="KORONA.pos",
    roles=frozenset({Role.BACKOFFICE}),
    settings=KoronaSettings,
    credentials=("user", "password"),
    optional_credentials=("webhook_secret", "previous_webhook_secret"),
    connector="koppel.connectors.korona.connector:from_account",
    serves=frozenset({Capability.PRODUCT_SOURCE, Capability.STOCK_SOURCE}),
    webhook_only=True,  # a till without an API user still pushes its stock mutations
    notes="POS/ERP; articles and stock read by API, stock also by koppel-signed webhook; receipts not built yet",
)
