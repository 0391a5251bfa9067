"""Shopify, through the Admin GraphQL API: one connector, one module per capability.

- `orders.py`: `OrderSink` (marketplace orders into the shop, customers, variants by SKU);
- `fulfilment.py`: `ProgressSource` (fulfilments with their tracking, cancellation);
- `stock.py`: `StockTarget`, `StockSource`, `InventoryItems`;
- `products.py`: `ProductSource`, `ProductTarget`;
- `client.py`: the GraphQL transport with Shopify's query-cost bucket, and its errors;
- `variants.py`: the store's variants by SKU or barcode, what stock and product updates link to;
- `values.py`: global ids, search terms, decimals and times as Shopify writes them.

Every capability sends through the one `ShopifyGraphQL` of its connector, so they share the cost
bucket Shopify keeps per app and shop.
"""

from __future__ import annotations

from typing import Any

import httpx

from koppel.config import Account
from koppel.connectors.http import Clock, RetryPolicy
from koppel.connectors.shopify.client import SYSTEM, ShopifyGraphQL
from koppel.connectors.shopify.fulfilment import ShopifyProgressSource
from koppel.connectors.shopify.orders import ShopifyOrderSink
from koppel.connectors.shopify.products import ShopifyProductSource, ShopifyProductTarget
from koppel.connectors.shopify.settings import ShopifySettings
from koppel.connectors.shopify.stock import STOCK_BATCH, ShopifyInventoryItems, ShopifyStockSource, ShopifyStockTarget
from koppel.errors import ConfigurationError


class ShopifyConnector(
    ShopifyOrderSink,
    ShopifyProgressSource,
    ShopifyStockTarget,
    ShopifyStockSource,
    ShopifyInventoryItems,
    ShopifyProductSource,
    ShopifyProductTarget,
):
    """A Shopify store: every protocol its declaration serves, each from its own module."""

    system = SYSTEM
    # One attribute serves StockTarget and ProductTarget: 250 quantities fill one stock mutation;
    # products go out one mutation per product whatever the batch, so the size only bounds a call.
    max_batch = STOCK_BATCH

    def __init__(
        self,
        client: httpx.Client,
        access_token: str,
        settings: ShopifySettings,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.graphql = ShopifyGraphQL(client, access_token, settings, policy=policy, clock=clock)

    @property
    def throttled(self) -> int:
        """How often Shopify answered THROTTLED so far."""
        return self.graphql.throttled


def from_account(
    account: Account,
    credentials: dict[str, Any],
    client: httpx.Client,
    *,
    clock: Clock | None = None,
) -> ShopifyConnector:
    """The connector for a configured Shopify account; `credentials` is its Secrets Manager secret."""
    settings = account.typed_settings()
    if not isinstance(settings, ShopifySettings):
        raise ConfigurationError(f"account {account.account_id} is not a Shopify account", field="system")
    token = str(credentials.get("access_token") or "").strip()
    if not token:
        raise ConfigurationError("Shopify credentials need an access_token", field="access_token")
    return ShopifyConnector(client, token, settings, clock=clock)
