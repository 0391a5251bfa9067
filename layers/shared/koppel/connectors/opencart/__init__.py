"""OpenCart: declared so accounts can be set up; no connector yet."""

from koppel.connectors.declaration import Role, SystemSpec

SYSTEM = SystemSpec(
    name="opencart",
    title="OpenCart",
    roles=frozenset({Role.BACKOFFICE, Role.CHANNEL}),
    optional_credentials=("webhook_secret", "previous_webhook_secret"),
    notes="a webshop; no connector yet",
)
