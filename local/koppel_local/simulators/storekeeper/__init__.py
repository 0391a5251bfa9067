"""The StoreKeeper simulator (see `app`), built from public facts rather than a spec, with what tests
and the demo import from it."""

from koppel_local.simulators.storekeeper.app import (
    DEMO_ACCOUNT,
    DEMO_APIKEY,
    DEMO_CHANNEL,
    DEMO_USER,
    TOKEN_HEADER,
    ShopProduct,
    StoreKeeperSimulator,
)
from koppel_local.simulators.storekeeper.contract import StoreKeeperContract

__all__ = [
    "DEMO_ACCOUNT",
    "DEMO_APIKEY",
    "DEMO_CHANNEL",
    "DEMO_USER",
    "TOKEN_HEADER",
    "ShopProduct",
    "StoreKeeperContract",
    "StoreKeeperSimulator",
]
