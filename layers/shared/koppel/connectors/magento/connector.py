"""Magento 2 (admin REST API) as a webshop channel: one connector, one module per capability.

- `orders.py`: `OrderChanges` (orders polled by `updated_at`, mapped to koppel's orders);
- `products.py`: `ProductTarget` and `ProductCreation` (by SKU; creates sent once, then looked up);
- `stock.py`: `StockTarget` (MSI source items or the legacy stock item);
- `customers.py`: `BalanceTarget` (the open amount in a customer attribute);
- `client.py`: the integration token, `searchCriteria`, Magento's error bodies in words.
"""

from __future__ import annotations

from typing import Any

import httpx

from koppel.config import Account
from koppel.connectors.accounts import secret, settings_of
from koppel.connectors.http import Clock, RetryPolicy
from koppel.connectors.magento.client import MagentoClient
from koppel.connectors.magento.customers import MagentoBalances
from koppel.connectors.magento.orders import MagentoOrderChanges
from koppel.connectors.magento.products import MagentoProducts
from koppel.connectors.magento.settings import MagentoSettings
from koppel.connectors.magento.stock import STOCK_BATCH, MagentoStockTarget


class MagentoConnector(MagentoOrderChanges, MagentoProducts, MagentoStockTarget, MagentoBalances):
    """A Magento store: every protocol its declaration serves, each from its own module."""

    # One attribute serves StockTarget and ProductTarget: a source-items request takes this many
    # quantities; products go one request each, so for them it only bounds a call.
    max_batch = STOCK_BATCH

    def __init__(
        self,
        client: httpx.Client,
        access_token: str,
        settings: MagentoSettings,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.magento = MagentoClient(client, access_token, settings, policy=policy, clock=clock)


def from_account(
    account: Account,
    credentials: dict[str, Any],
    client: httpx.Client,
    *,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
) -> MagentoConnector:
    """The connector for a configured Magento account; `credentials` is its Secrets Manager secret."""
    settings = settings_of(account, MagentoSettings, "a Magento")
    token = secret(
        credentials,
        "access_token",
        "Magento credentials need the integration's access_token (System > Extensions > Integrations)",
    )
    return MagentoConnector(client, token, settings, policy=policy, clock=clock)
