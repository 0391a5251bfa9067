"""OpenCart 3 with the "OpenCart REST Admin API" extension: a webshop selling as a channel.

OpenCart's own API only builds carts in a session, so koppel needs the extension (opencart-api.com)
installed. It sends no webhooks: koppel polls its orders by `date_modified` (shop time, read as the
account's `time_zone`), and writes products, prices and stock to it by product id.
"""

from koppel.connectors.declaration import Capability, Role, SystemSpec
from koppel.connectors.opencart.settings import OpenCartSettings

SYSTEM = SystemSpec(
    name="opencart",
    title="OpenCart",
    roles=frozenset({Role.CHANNEL}),
    settings=OpenCartSettings,
    # restadmin_secret: the secret key set in the REST Admin API extension, sent as X-Oc-Restadmin-Id.
    credentials=("restadmin_secret",),
    webhooks=None,
    connector="koppel.connectors.opencart.connector:from_account",
    serves=frozenset(
        {
            Capability.ORDER_CHANGES,
            Capability.PRODUCT_TARGET,
            Capability.PRODUCT_CREATION,
            Capability.STOCK_TARGET,
        }
    ),
    notes="webshop with the REST Admin API extension; orders polled by date_modified (no webhooks); "
    "products and stock written",
)
