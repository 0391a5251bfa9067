"""Winkelstraat.nl, through its partner Copernicus: the nightly feed and a signed stock webhook."""

from koppel.connectors.declaration import Capability, Role, SystemSpec

SYSTEM = SystemSpec(
    name="winkelstraat",
    title="Winkelstraat.nl (Copernicus)",
    roles=frozenset({Role.CHANNEL}),
    credentials=("signing_secret",),
    optional_credentials=("webhook_secret", "previous_webhook_secret"),
    connector="koppel.connectors.generic.outgoing_webhook:from_account",
    serves=frozenset({Capability.STOCK_TARGET}),
    takes_feed=True,
    notes="orders into the backoffice not built yet",
)
