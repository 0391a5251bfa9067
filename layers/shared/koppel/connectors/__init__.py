"""koppel's connectors, one package per external system.

Each package declares its system once, in its `__init__.py` (`SYSTEM`, a
`koppel.connectors.declaration.SystemSpec`); the registry reads every package listed here. Adding a
system is a new package and one line in this list (see docs/connectors.md).
"""

PACKAGES: tuple[str, ...] = (
    "amazon",
    "bol",
    "generic",
    "innvoice",
    "korona",
    "magento",
    "opencart",
    "prestashop",
    "shopify",
    "shoprenter",
    "snelstart",
    "storekeeper",
    "winkelstraat",
    "woocommerce",
)
