"""The Magento 2.4 admin REST API simulator (see `app`), with what tests and the demo import from it."""

from koppel_local.simulators.magento.app import (
    DEMO_TOKEN,
    ROUTES,
    SPEC,
    MagentoSimulator,
    configurable,
    item,
    load_contract,
)

__all__ = ["DEMO_TOKEN", "ROUTES", "SPEC", "MagentoSimulator", "configurable", "item", "load_contract"]
