"""StoreKeeper as a backoffice: one connector, one module per capability.

Built from the public facts koppel keeps on StoreKeeper (`FACTS-systems-2.md` §1.5, §2.2), not from a
specification (StoreKeeper publishes none); what is not verified is listed in each module.

- `orders.py`: `OrderSink` (paid administrative orders, found again by `shop_order_number`);
- `products.py`: `ProductSource` (shop products with their publication on the account's sales channel);
- `stock.py`: `StockSource` and `StockLookup` (levels of published, stock-keeping products);
- `hooks.py`: the hooks' token, the API key `init` brings, the products `events` name;
- `client.py`: the JSON RPC with the API-key auth block, StoreKeeper's error classes in koppel's words.
"""

from __future__ import annotations

from typing import Any

import httpx

from koppel.config import Account
from koppel.connectors.accounts import settings_of
from koppel.connectors.http import Clock, RetryPolicy
from koppel.connectors.storekeeper.client import ApiKey, StoreKeeperClient
from koppel.connectors.storekeeper.orders import StoreKeeperOrders
from koppel.connectors.storekeeper.settings import (
    API_ACCOUNT,
    API_KEY,
    API_SUBACCOUNT,
    API_URL,
    API_USER,
    StoreKeeperSettings,
)
from koppel.connectors.storekeeper.stock import StoreKeeperStock


class StoreKeeperConnector(StoreKeeperOrders, StoreKeeperStock):
    """A StoreKeeper shop: every protocol its declaration serves, each from its own module."""

    def __init__(
        self,
        client: httpx.Client,
        key: ApiKey | None,
        settings: StoreKeeperSettings,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.storekeeper = StoreKeeperClient(client, key, settings, policy=policy, clock=clock)


def api_key(credentials: dict[str, Any]) -> ApiKey | None:
    """The API key an `init` hook wrote into the secret; None before one came (or after `disconnect`)."""
    found = {name: str(credentials.get(name) or "").strip() for name in (API_URL, API_ACCOUNT, API_USER, API_KEY)}
    if not all(found.values()):
        return None
    return ApiKey(
        api_url=found[API_URL],
        account=found[API_ACCOUNT],
        user=found[API_USER],
        apikey=found[API_KEY],
        subaccount=str(credentials.get(API_SUBACCOUNT) or "").strip(),
    )


def from_account(
    account: Account,
    credentials: dict[str, Any],
    client: httpx.Client,
    *,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
) -> StoreKeeperConnector:
    """The connector for a StoreKeeper account; `credentials` is its Secrets Manager secret. Before
    StoreKeeper's `init` hook came, every call says to connect the koppel app in StoreKeeper first."""
    settings = settings_of(account, StoreKeeperSettings, "a StoreKeeper")
    return StoreKeeperConnector(client, api_key(credentials), settings, policy=policy, clock=clock)
