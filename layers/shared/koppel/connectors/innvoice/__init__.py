"""InnVoice: declared so accounts can be set up; no connector yet."""

from koppel.connectors.declaration import Role, SystemSpec

SYSTEM = SystemSpec(
    name="innvoice",
    title="InnVoice",
    roles=frozenset({Role.BACKOFFICE}),
    optional_credentials=("webhook_secret", "previous_webhook_secret"),
    notes="invoicing; no connector yet",
)
