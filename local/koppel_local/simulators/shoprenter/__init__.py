"""The Shoprenter API simulator (see `app`), with what tests and the demo import from it."""

from koppel_local.simulators.shoprenter.app import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SHOP,
    ROUTES,
    ShoprenterSimulator,
)
from koppel_local.simulators.shoprenter.fixtures import FixtureContract, load_contract

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_SHOP",
    "ROUTES",
    "FixtureContract",
    "ShoprenterSimulator",
    "load_contract",
]
