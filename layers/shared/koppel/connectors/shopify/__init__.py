"""Shopify (Admin GraphQL API): a backoffice for marketplace orders, and a webshop selling as a channel."""

from koppel.connectors.declaration import Capability, Role, SystemSpec, Webhooks
from koppel.connectors.shopify.settings import ShopifySettings

SYSTEM = SystemSpec(
    name="shopify",
    title="Shopify",
    roles=frozenset({Role.BACKOFFICE, Role.CHANNEL}),
    settings=ShopifySettings,
    credentials=("access_token",),
    optional_credentials=("webhook_secret", "previous_webhook_secret"),
    webhooks=Webhooks(
        scheme="shopify",
        verifier="koppel.connectors.shopify.webhooks:verify",
        stock_levels="koppel.connectors.shopify.webhooks:stock_levels",
        orders="koppel.connectors.shopify.deliveries:order",
        returns="koppel.connectors.shopify.deliveries:refund",
        topics=frozenset(
            {
                "orders/create",
                "orders/updated",
                "orders/paid",
                "orders/cancelled",
                "orders/fulfilled",
                "orders/partially_fulfilled",
                "refunds/create",
                "products/create",
                "products/update",
                "inventory_levels/update",
            }
        ),
    ),
    connector="koppel.connectors.shopify.connector:from_account",
    serves=frozenset(
        {
            Capability.ORDER_SINK,
            Capability.PROGRESS_SOURCE,
            Capability.STOCK_TARGET,
            Capability.STOCK_SOURCE,
            Capability.INVENTORY_ITEMS,
            Capability.PRODUCT_SOURCE,
            Capability.PRODUCT_TARGET,
        }
    ),
)
