"""The KORONA.cloud API v3 simulator (see `app`), with what tests and the demo import from it."""

from koppel_local.simulators.korona.app import (
    BASE,
    DAILY_LIMIT,
    DEFAULT_PAGE_SIZE,
    DEMO_PASSWORD,
    DEMO_USER,
    PARALLEL_UPDATES,
    ROUTES,
    SPEC,
    KoronaSimulator,
    load_contract,
)

__all__ = [
    "BASE",
    "DAILY_LIMIT",
    "DEFAULT_PAGE_SIZE",
    "DEMO_PASSWORD",
    "DEMO_USER",
    "PARALLEL_UPDATES",
    "ROUTES",
    "SPEC",
    "KoronaSimulator",
    "load_contract",
]
