"""Shoprenter as a webshop channel (and a source of products and stock): one connector, one module
per capability.

- `orders.py`: `OrderChanges` (orders polled by `dateUpdated`) and `order(order_id)`;
- `webhook.py`: `changed_order_ids(body)`, the order ids an order-status webhook names;
- `products.py`: `ProductTarget` and `ProductSource` (by SKU; net prices; batched writes);
- `stock.py`: `StockTarget` and `StockSource` (the `stock1`..`stock4` fields);
- `client.py`: the client-credentials token, the batch endpoint, Shoprenter's errors in words;
- `limiter.py`: 3 requests a second per shop, shared by every connector of the shop in the process.
"""

from __future__ import annotations

from typing import Any

import httpx

from koppel.config import Account
from koppel.connectors.accounts import secret, settings_of
from koppel.connectors.auth import TokenCache
from koppel.connectors.http import Clock, RetryPolicy
from koppel.connectors.shoprenter.client import ShoprenterClient
from koppel.connectors.shoprenter.orders import ShoprenterOrderChanges
from koppel.connectors.shoprenter.products import ShoprenterProducts
from koppel.connectors.shoprenter.settings import ShoprenterSettings
from koppel.connectors.shoprenter.stock import STOCK_BATCH, ShoprenterStock
from koppel.connectors.shoprenter.webhook import changed_order_ids

__all__ = ["ShoprenterConnector", "changed_order_ids", "from_account"]


class ShoprenterConnector(ShoprenterOrderChanges, ShoprenterProducts, ShoprenterStock):
    """A Shoprenter shop: every protocol its declaration serves, each from its own module."""

    # Stock goes as one request per SKU inside a batch of at most 200; products take up to three
    # requests each (price, name, sale price), which the batch splits as it needs.
    max_batch = STOCK_BATCH

    def __init__(
        self,
        client: httpx.Client,
        client_id: str,
        client_secret: str,
        settings: ShoprenterSettings,
        *,
        account_id: str,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        tokens: TokenCache | None = None,
    ) -> None:
        self.settings = settings
        self.shoprenter = ShoprenterClient(
            client,
            client_id,
            client_secret,
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
) -> ShoprenterConnector:
    """The connector for a configured Shoprenter account; `credentials` is its Secrets Manager secret.
    Its token is kept in the process's shared cache (or `tokens`), keyed by account and client id."""
    settings = settings_of(account, ShoprenterSettings, "a Shoprenter")
    found = {
        key: secret(
            credentials,
            key,
            f"Shoprenter credentials need the {key} of the shop's API client (Settings > Integrations > API settings)",
        )
        for key in ("client_id", "client_secret")
    }
    return ShoprenterConnector(
        client,
        found["client_id"],
        found["client_secret"],
        settings,
        account_id=account.account_id,
        policy=policy,
        clock=clock,
        tokens=tokens,
    )
