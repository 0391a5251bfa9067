"""InnVoice (Hungarian invoicing and ERP): a backoffice that turns a webshop's orders into invoices or
proformas, taking stock by article number, and whose products and stock per warehouse koppel reads.

Built from public facts (a third-party client and two apps, `FACTS-systems-2.md` §1.3 and §2.1), not
from a specification: InnVoice publishes none. What is unverified is named in each module of the
connector; the largest gap is that InnVoice documents no search by reference, so koppel cannot find
an invoice again after a lost answer (`invoices.py`).
"""

from koppel.connectors.declaration import Capability, Role, SystemSpec
from koppel.connectors.innvoice.settings import InnVoiceSettings

SYSTEM = SystemSpec(
    name="innvoice",
    title="InnVoice",
    roles=frozenset({Role.BACKOFFICE}),
    settings=InnVoiceSettings,
    credentials=("user", "password"),
    optional_credentials=("webhook_secret", "previous_webhook_secret"),
    connector="koppel.connectors.innvoice.connector:from_account",
    serves=frozenset({Capability.ORDER_SINK, Capability.PRODUCT_SOURCE, Capability.STOCK_SOURCE}),
    finds_orders=False,  # no documented search by reference: a lost answer waits for a person
    notes="invoicing/ERP; webshop orders as invoices or proformas (stock by article number), products and stock "
    "per warehouse read from the full product list; no look-up by reference after a lost answer",
)
