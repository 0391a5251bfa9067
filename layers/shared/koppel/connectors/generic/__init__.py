"""A partner or the merchant's own middleware: sends koppel signed webhooks, takes stock by signed
webhook (`settings.stock_url`) and fetches the nightly feed."""

from koppel.connectors.declaration import Capability, Role, SystemSpec

SYSTEM = SystemSpec(
    name="generic",
    title="Partner webhook",
    roles=frozenset({Role.BACKOFFICE, Role.CHANNEL}),
    optional_credentials=("webhook_secret", "previous_webhook_secret", "signing_secret"),
    connector="koppel.connectors.generic.outgoing_webhook:from_account",
    serves=frozenset({Capability.STOCK_TARGET}),
    takes_feed=True,
)
