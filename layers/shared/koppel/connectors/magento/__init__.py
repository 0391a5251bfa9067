"""Magento 2 (Adobe Commerce / Magento Open Source 2.4, admin REST API): a webshop selling as a channel.
It sends no webhooks: koppel polls its orders by `updated_at`, and writes products, prices, stock and
customers' open amounts to it."""

from koppel.connectors.declaration import Capability, Role, SystemSpec
from koppel.connectors.magento.settings import MagentoSettings

SYSTEM = SystemSpec(
    name="magento",
    title="Magento 2",
    roles=frozenset({Role.CHANNEL}),
    settings=MagentoSettings,
    # access_token: an integration's access token, sent as Bearer (the store must allow integration
    # tokens as bearer since 2.4.4: Stores > Configuration > Services > OAuth).
    credentials=("access_token",),
    webhooks=None,
    connector="koppel.connectors.magento.connector:from_account",
    serves=frozenset(
        {
            Capability.ORDER_CHANGES,
            Capability.PRODUCT_TARGET,
            Capability.PRODUCT_CREATION,
            Capability.STOCK_TARGET,
            Capability.BALANCE_TARGET,
        }
    ),
    notes="webshop; orders polled by updated_at (no webhooks); products, stock (MSI or legacy) and "
    "open amounts written",
)
