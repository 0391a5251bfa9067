"""PrestaShop 8 (webservice): a webshop selling as a channel. It sends no webhooks: koppel polls its orders
by `date_upd`, and writes products, prices and stock to it."""

from koppel.connectors.declaration import Capability, Role, SystemSpec
from koppel.connectors.prestashop.settings import PrestaShopSettings

SYSTEM = SystemSpec(
    name="prestashop",
    title="PrestaShop",
    roles=frozenset({Role.CHANNEL}),
    settings=PrestaShopSettings,
    # ws_key: a webservice key (Advanced Parameters > Webservice), sent as the Basic user with an empty
    # password; it needs GET on orders, customers, addresses, countries, currencies, products,
    # combinations, stock_availables, tax_rules and taxes, and PUT/POST on products and stock_availables.
    credentials=("ws_key",),
    webhooks=None,
    connector="koppel.connectors.prestashop.connector:from_account",
    serves=frozenset(
        {
            Capability.ORDER_CHANGES,
            Capability.PRODUCT_TARGET,
            Capability.PRODUCT_CREATION,
            Capability.STOCK_TARGET,
        }
    ),
    notes="webshop; orders polled by date_upd (no webhooks); products, prices (written without tax) and stock "
    "(stock_availables, combinations too) written; no open amounts: a PrestaShop customer has no custom "
    "attribute to hold one",
)
