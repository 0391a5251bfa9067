"""Winkelstraat.nl, through its partner Copernicus: the nightly feed, a signed stock webhook, and the
partner order route.

Copernicus runs the Winkelstraat.nl link (FACTS-systems-2.md §1.5) and publishes no API for it, so
koppel defines the partner contract (docs/partner-api.md): Copernicus fetches the link's nightly feed,
takes every stock change by koppel's signed webhook (`settings.stock_url`, signed with
`signing_secret`; it may answer which SKUs it does not list), and posts Winkelstraat's orders to
`POST /partners/{account_id}/orders`, signed with the account's `webhook_secret`, in the shape of
Winkelstraat's Stock Hub order (`orders.py`). Processing stays in Winkelstraat's own environment, so
koppel sends no shipments or tracking back for this channel.
"""

from koppel.connectors.declaration import Capability, Role, SystemSpec, Webhooks

SYSTEM = SystemSpec(
    name="winkelstraat",
    title="Winkelstraat.nl (Copernicus)",
    roles=frozenset({Role.CHANNEL}),
    # signing_secret: koppel signs the stock webhooks it sends Copernicus with it.
    credentials=("signing_secret",),
    # webhook_secret: Copernicus signs the orders it posts with it (and, while it is rotated, the previous one).
    optional_credentials=("webhook_secret", "previous_webhook_secret"),
    webhooks=Webhooks(
        scheme="koppel",
        verifier="koppel.connectors.winkelstraat.orders:verify",
        orders="koppel.connectors.winkelstraat.orders:order",
        topics=frozenset({"order.created"}),
    ),
    connector="koppel.connectors.generic.outgoing_webhook:from_account",
    serves=frozenset({Capability.STOCK_TARGET}),
    takes_feed=True,
    notes="partner channel; nightly feed, stock by signed webhook (the partner may name SKUs it does not list), "
    "orders in by the partner route POST /partners/{account_id}/orders; no shipments go back (Winkelstraat "
    "processes its orders itself)",
)
