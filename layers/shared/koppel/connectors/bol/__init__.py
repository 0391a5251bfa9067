"""bol.com (Retailer API v10): the main Dutch marketplace, a sales channel."""

from koppel.connectors.bol.settings import BolSettings
from koppel.connectors.declaration import Capability, Role, SystemSpec

SYSTEM = SystemSpec(
    name="bol",
    title="bol.com",
    roles=frozenset({Role.CHANNEL}),
    settings=BolSettings,
    credentials=("client_id", "client_secret"),
    webhooks=None,  # bol's push notifications are not used: koppel polls every 5 minutes
    connector="koppel.connectors.bol.connector:from_account",
    serves=frozenset(
        {
            Capability.ORDER_SOURCE,
            Capability.SHIPMENT_CHANNEL,
            Capability.CHANNEL_CANCELLATIONS,
            Capability.STOCK_TARGET,
            Capability.PRODUCT_TARGET,
        }
    ),
)
