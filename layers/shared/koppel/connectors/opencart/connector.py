"""OpenCart (with the REST Admin API extension) as a webshop channel: one connector, one module per capability.

- `orders.py`: `OrderChanges` (orders polled by `date_modified` in windows, shop time to UTC);
- `products.py`: `ProductTarget` and `ProductCreation` (found by SKU in a listed index, addressed by id);
- `stock.py`: `StockTarget` (a product's quantity);
- `client.py`: the secret header, the `{success, error, data}` envelope, errors in words;
- `routes.py`: the extension's routes, in the path or query URL form (another extension replaces it).

The extension has no published spec; see `client.py` and the module docstrings for what is assumed
and `docs/opencart.md` for what was not verified against a real shop.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from koppel.config import Account
from koppel.connectors.accounts import secret, settings_of
from koppel.connectors.http import Clock, RetryPolicy
from koppel.connectors.opencart.client import OpenCartClient
from koppel.connectors.opencart.orders import OpenCartOrderChanges
from koppel.connectors.opencart.products import OpenCartProducts
from koppel.connectors.opencart.settings import OpenCartSettings
from koppel.connectors.opencart.stock import STOCK_BATCH, OpenCartStockTarget


class OpenCartConnector(OpenCartOrderChanges, OpenCartProducts, OpenCartStockTarget):
    """An OpenCart shop: every protocol its declaration serves, each from its own module."""

    # One attribute serves StockTarget and ProductTarget: both send one request per SKU, so it only bounds a call.
    max_batch = STOCK_BATCH

    def __init__(
        self,
        client: httpx.Client,
        secret: str,
        settings: OpenCartSettings,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.opencart = OpenCartClient(client, secret, settings, policy=policy, clock=clock)
        if wall_clock is not None:
            self.wall_clock = wall_clock  # type: ignore[method-assign]


def from_account(
    account: Account,
    credentials: dict[str, Any],
    client: httpx.Client,
    *,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
    wall_clock: Callable[[], datetime] | None = None,
) -> OpenCartConnector:
    """The connector for a configured OpenCart account; `credentials` is its Secrets Manager secret."""
    settings = settings_of(account, OpenCartSettings, "an OpenCart")
    key = secret(
        credentials,
        "restadmin_secret",
        "OpenCart credentials need the REST Admin API extension's secret key as restadmin_secret",
    )
    return OpenCartConnector(client, key, settings, policy=policy, clock=clock, wall_clock=wall_clock)
