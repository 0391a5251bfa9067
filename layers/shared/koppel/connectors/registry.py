"""Which connector serves which system, imported only when a link needs it (cold starts stay small)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import httpx

from koppel.config import Account, SystemType
from koppel.connectors.base import OrderSink, OrderSource
from koppel.errors import ConfigurationError

ORDER_SOURCES: dict[SystemType, str] = {SystemType.BOL: "koppel.connectors.bol"}
ORDER_SINKS: dict[SystemType, str] = {SystemType.SHOPIFY: "koppel.connectors.shopify"}


def _build(
    table: dict[SystemType, str], role: str, account: Account, credentials: dict[str, Any], client: httpx.Client
) -> Any:
    module = table.get(account.system)
    if module is None:
        raise ConfigurationError(f"koppel has no {role} connector for {account.system} yet", field="system")
    return import_module(module).from_account(account, credentials, client)


def order_source(account: Account, credentials: dict[str, Any], client: httpx.Client) -> OrderSource:
    return _build(ORDER_SOURCES, "order-source", account, credentials, client)


def order_sink(account: Account, credentials: dict[str, Any], client: httpx.Client) -> OrderSink:
    return _build(ORDER_SINKS, "order-sink", account, credentials, client)
