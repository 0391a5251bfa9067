"""The InnVoice simulator (see `app`), built from public facts rather than a spec, with what tests
and the demo import from it."""

from koppel_local.simulators.innvoice.app import (
    DEMO_PASSWORD,
    DEMO_REG,
    DEMO_USER,
    ROUTES,
    Document,
    InnVoiceSimulator,
    Line,
    Product,
)
from koppel_local.simulators.innvoice.contract import VAT_KEYS, InnVoiceContract, load_contract

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_REG",
    "DEMO_USER",
    "ROUTES",
    "VAT_KEYS",
    "Document",
    "InnVoiceContract",
    "InnVoiceSimulator",
    "Line",
    "Product",
    "load_contract",
]
