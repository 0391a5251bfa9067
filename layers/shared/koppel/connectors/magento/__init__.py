"""Magento 2: declared so accounts can be set up; no connector yet."""

from koppel.connectors.declaration import Role, SystemSpec

SYSTEM = SystemSpec(
    name="magento",
    title="Magento 2",
    roles=frozenset({Role.BACKOFFICE, Role.CHANNEL}),
    optional_credentials=("webhook_secret", "previous_webhook_secret"),
    notes="a webshop; no connector yet",
)
