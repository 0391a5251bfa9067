"""PrestaShop 8 (webservice) as a webshop channel: one connector, one module per capability.

- `orders.py`: `OrderChanges` (orders polled by `date_upd`, shop-local time made UTC);
- `products.py`: `ProductTarget` and `ProductCreation` (by reference or EAN; creates sent once, then looked up);
- `stock.py`: `StockTarget` (the stock row of a product or a combination);
- `client.py`: the webservice key, list parameters, XML both ways, PrestaShop's error bodies in words.
"""

from __future__ import annotations

from typing import Any

import httpx

from koppel.config import Account
from koppel.connectors.accounts import secret, settings_of
from koppel.connectors.http import Clock, RetryPolicy
from koppel.connectors.prestashop.client import PrestaShopClient
from koppel.connectors.prestashop.orders import PrestaShopOrderChanges
from koppel.connectors.prestashop.products import PrestaShopProducts
from koppel.connectors.prestashop.settings import PrestaShopSettings
from koppel.connectors.prestashop.stock import STOCK_BATCH, PrestaShopStockTarget


class PrestaShopConnector(PrestaShopOrderChanges, PrestaShopProducts, PrestaShopStockTarget):
    """A PrestaShop shop: every protocol its declaration serves, each from its own module."""

    # One attribute serves StockTarget and ProductTarget: each SKU is a read and a write of its own, so it
    # only bounds one call.
    max_batch = STOCK_BATCH

    def __init__(
        self,
        client: httpx.Client,
        ws_key: str,
        settings: PrestaShopSettings,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.shop = PrestaShopClient(client, ws_key, settings, policy=policy, clock=clock)


def from_account(
    account: Account,
    credentials: dict[str, Any],
    client: httpx.Client,
    *,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
) -> PrestaShopConnector:
    """The connector for a configured PrestaShop account; `credentials` is its Secrets Manager secret."""
    settings = settings_of(account, PrestaShopSettings, "a PrestaShop")
    key = secret(
        credentials,
        "ws_key",
        "PrestaShop credentials need the webservice key as ws_key (Advanced Parameters > Webservice)",
    )
    return PrestaShopConnector(client, key, settings, policy=policy, clock=clock)
