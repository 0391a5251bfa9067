"""The PrestaShop 8 webservice simulator (see `app`), with what tests and the demo import from it."""

from koppel_local.simulators.prestashop.app import (
    DEMO_WS_KEY,
    RESOURCES,
    PrestaShopContract,
    PrestaShopSimulator,
    load_contract,
    row,
)

__all__ = ["DEMO_WS_KEY", "RESOURCES", "PrestaShopContract", "PrestaShopSimulator", "load_contract", "row"]
