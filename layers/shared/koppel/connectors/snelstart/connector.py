"""SnelStart (B2B API v2) as a backoffice: one connector, one module per capability.

- `orders.py`: `OrderSink` (webshop orders as verkooporders, the buyer found or made as a relatie);
- `stock.py`: `StockSource` and `StockChanges` (the stock on the articles, polled by `modifiedOn`);
- `products.py`: `ProductSource` (articles, their sales price or an action price);
- `balances.py`: `BalanceSource` (what each customer owes on open sales invoices);
- `articles.py`: articles read in batches, the change-feed cursor;
- `client.py`: the koppelsleutel's token, the subscription key, OData lists, writes sent once, errors.
"""

from __future__ import annotations

from typing import Any

import httpx

from koppel.config import Account
from koppel.connectors.accounts import secret, settings_of
from koppel.connectors.auth import TokenCache
from koppel.connectors.http import Clock, RetryPolicy
from koppel.connectors.snelstart.balances import SnelStartBalances
from koppel.connectors.snelstart.client import SnelStartClient
from koppel.connectors.snelstart.orders import SnelStartOrders
from koppel.connectors.snelstart.products import SnelStartProducts
from koppel.connectors.snelstart.settings import SnelStartSettings
from koppel.connectors.snelstart.stock import SnelStartStock


class SnelStartConnector(SnelStartOrders, SnelStartStock, SnelStartProducts, SnelStartBalances):
    """A SnelStart administration: every protocol its declaration serves, each from its own module."""

    def __init__(
        self,
        client: httpx.Client,
        subscription_key: str,
        client_key: str,
        settings: SnelStartSettings,
        *,
        account_id: str,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        tokens: TokenCache | None = None,
    ) -> None:
        self.settings = settings
        self.snelstart = SnelStartClient(
            client,
            subscription_key,
            client_key,
            settings,
            account_id=account_id,
            policy=policy,
            clock=clock,
            tokens=tokens,
        )


def from_account(
    account: Account,
    credentials: dict[str, Any],
    client: httpx.Client,
    *,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
    tokens: TokenCache | None = None,
) -> SnelStartConnector:
    """The connector for a configured SnelStart account; `credentials` is its Secrets Manager secret.
    Its token is kept in the process's shared cache (or `tokens`), keyed by the account."""
    settings = settings_of(account, SnelStartSettings, "a SnelStart")
    subscription_key = secret(
        credentials,
        "subscription_key",
        "SnelStart credentials need the subscription_key (koppel's partner key from the SnelStart developer portal)",
    )
    client_key = secret(
        credentials,
        "client_key",
        "SnelStart credentials need the client_key: the koppelsleutel the administration made for koppel in "
        "SnelStart Web",
    )
    return SnelStartConnector(
        client,
        subscription_key,
        client_key,
        settings,
        account_id=account.account_id,
        policy=policy,
        clock=clock,
        tokens=tokens,
    )
