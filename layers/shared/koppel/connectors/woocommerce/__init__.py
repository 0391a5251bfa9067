"""WooCommerce: its signed webhooks (stock of stock-managed products) are read; no API connector yet."""

from koppel.connectors.declaration import Role, SystemSpec, Webhooks
from koppel.connectors.woocommerce.settings import WooCommerceSettings

SYSTEM = SystemSpec(
    name="woocommerce",
    title="WooCommerce",
    roles=frozenset({Role.BACKOFFICE, Role.CHANNEL}),
    settings=WooCommerceSettings,
    optional_credentials=("webhook_secret", "previous_webhook_secret"),
    webhooks=Webhooks(
        scheme="woocommerce",
        verifier="koppel.connectors.woocommerce.webhooks:verify",
        stock_levels="koppel.connectors.woocommerce.webhooks:stock_levels",
        topics=frozenset(
            {
                "order.created",
                "order.updated",
                "product.created",
                "product.updated",
            }
        ),
    ),
    notes="stock webhooks only; no API connector yet",
)
