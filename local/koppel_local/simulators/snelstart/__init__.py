"""The SnelStart B2B API v2 simulator (see `app`), with what tests and the demo import from it."""

from koppel_local.simulators.snelstart.app import (
    BASE,
    DEMO_CLIENT_KEY,
    DEMO_SUBSCRIPTION_KEY,
    ROUTES,
    SCOPES,
    SPEC,
    TOKEN_PATH,
    SnelStartSimulator,
    load_contract,
)

__all__ = [
    "BASE",
    "DEMO_CLIENT_KEY",
    "DEMO_SUBSCRIPTION_KEY",
    "ROUTES",
    "SCOPES",
    "SPEC",
    "TOKEN_PATH",
    "SnelStartSimulator",
    "load_contract",
]
