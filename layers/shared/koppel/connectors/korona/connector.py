"""KORONA.cloud (API v3) as a backoffice koppel reads: one connector, one module per capability.

- `products.py`: `ProductSource` (articles, prices from a price group);
- `stock.py`: `StockSource` and `StockChanges` (stock per organizational unit's warehouse, by revision);
- `receipts.py`: `OrderSink` and `ReturnSink` (webshop orders, returns and cancellations as receipts);
- `client.py`: basic auth, numbered pages, writes sent once, KORONA's error models.
"""

from __future__ import annotations

from typing import Any

import httpx

from koppel.config import Account
from koppel.connectors.accounts import settings_of, user_and_password
from koppel.connectors.http import Clock, RetryPolicy
from koppel.connectors.korona.client import KoronaClient
from koppel.connectors.korona.products import KoronaProductSource
from koppel.connectors.korona.receipts import KoronaReceipts
from koppel.connectors.korona.settings import KoronaSettings
from koppel.connectors.korona.stock import KoronaStockSource
from koppel.errors import ConfigurationError


class KoronaConnector(KoronaProductSource, KoronaStockSource, KoronaReceipts):
    """A KORONA account: every protocol its declaration serves, each from its own module."""

    def __init__(
        self,
        client: httpx.Client,
        user: str,
        password: str,
        settings: KoronaSettings,
        *,
        coupling_id: str = "",
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.coupling_id = coupling_id
        self.korona = KoronaClient(client, user, password, settings, policy=policy, clock=clock)


def from_account(
    account: Account,
    credentials: dict[str, Any],
    client: httpx.Client,
    *,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
) -> KoronaConnector:
    """The connector for a configured KORONA account; `credentials` is its Secrets Manager secret."""
    settings = settings_of(account, KoronaSettings, "a KORONA")
    if not settings.account_id:
        raise ConfigurationError(
            "reading KORONA needs the account's account_id (a uuid from the KORONA backoffice)",
            field="settings.account_id",
        )
    user, password = user_and_password(credentials, "KORONA credentials need the API user's user and password")
    coupling_id = str(credentials.get("coupling_id") or "").strip()
    return KoronaConnector(client, user, password, settings, coupling_id=coupling_id, policy=policy, clock=clock)
