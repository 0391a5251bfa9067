"""Amazon (Selling Partner API): declared so accounts can be set up; no connector yet."""

from koppel.connectors.declaration import Role, SystemSpec

SYSTEM = SystemSpec(
    name="amazon",
    title="Amazon (Selling Partner API)",
    roles=frozenset({Role.CHANNEL}),
    webhooks=None,
    notes="a marketplace; no connector yet",
)
