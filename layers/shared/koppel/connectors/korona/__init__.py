"""KORONA.pos: declared so accounts can be set up; stock by koppel-signed webhook, no API connector yet."""

from koppel.connectors.declaration import Role, SystemSpec

SYSTEM = SystemSpec(
    name="korona",
    title="KORONA.pos",
    roles=frozenset({Role.BACKOFFICE}),
    optional_credentials=("webhook_secret", "previous_webhook_secret"),
    notes="POS/ERP; stock by koppel-signed webhook, no API connector yet",
)
