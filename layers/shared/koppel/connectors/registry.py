"""Which connector serves which system, imported only when a link needs it (cold starts stay small)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import httpx

from koppel.config import Account, SystemType
from koppel.connectors.base import (
    OrderSink,
    OrderSource,
    ProductSource,
    ProductTarget,
    ProgressSource,
    ShipmentChannel,
    StockSource,
    StockTarget,
)
from koppel.errors import UnsupportedSystem

ORDER_SOURCES: dict[SystemType, str] = {SystemType.BOL: "koppel.connectors.bol"}
ORDER_SINKS: dict[SystemType, str] = {SystemType.SHOPIFY: "koppel.connectors.shopify"}
PROGRESS_SOURCES: dict[SystemType, str] = {SystemType.SHOPIFY: "koppel.connectors.shopify"}
SHIPMENT_CHANNELS: dict[SystemType, str] = {SystemType.BOL: "koppel.connectors.bol"}
STOCK_TARGETS: dict[SystemType, str] = {
    SystemType.BOL: "koppel.connectors.bol",
    SystemType.SHOPIFY: "koppel.connectors.shopify",
    # Partners that take stock by webhook (Copernicus for Winkelstraat.nl, custom middleware).
    SystemType.WINKELSTRAAT: "koppel.connectors.outgoing_webhook",
    SystemType.GENERIC: "koppel.connectors.outgoing_webhook",
}
STOCK_SOURCES: dict[SystemType, str] = {SystemType.SHOPIFY: "koppel.connectors.shopify"}
PRODUCT_SOURCES: dict[SystemType, str] = {SystemType.SHOPIFY: "koppel.connectors.shopify"}
PRODUCT_TARGETS: dict[SystemType, str] = {
    SystemType.BOL: "koppel.connectors.bol",
    SystemType.SHOPIFY: "koppel.connectors.shopify",
}


def _build(
    table: dict[SystemType, str], role: str, account: Account, credentials: dict[str, Any], client: httpx.Client
) -> Any:
    module = table.get(account.system)
    if module is None:
        raise UnsupportedSystem(f"koppel has no {role} connector for {account.system} yet", field="system")
    return import_module(module).from_account(account, credentials, client)


def order_source(account: Account, credentials: dict[str, Any], client: httpx.Client) -> OrderSource:
    return _build(ORDER_SOURCES, "order-source", account, credentials, client)


def order_sink(account: Account, credentials: dict[str, Any], client: httpx.Client) -> OrderSink:
    return _build(ORDER_SINKS, "order-sink", account, credentials, client)


def progress_source(account: Account, credentials: dict[str, Any], client: httpx.Client) -> ProgressSource:
    return _build(PROGRESS_SOURCES, "fulfilment", account, credentials, client)


def shipment_channel(account: Account, credentials: dict[str, Any], client: httpx.Client) -> ShipmentChannel:
    return _build(SHIPMENT_CHANNELS, "shipment", account, credentials, client)


def stock_target(account: Account, credentials: dict[str, Any], client: httpx.Client) -> StockTarget:
    return _build(STOCK_TARGETS, "stock", account, credentials, client)


def stock_source(account: Account, credentials: dict[str, Any], client: httpx.Client) -> StockSource | None:
    """None for backoffices that only push their stock to koppel (webhooks) and cannot be read back."""
    if account.system not in STOCK_SOURCES:
        return None
    return _build(STOCK_SOURCES, "stock-source", account, credentials, client)


def product_source(account: Account, credentials: dict[str, Any], client: httpx.Client) -> ProductSource:
    return _build(PRODUCT_SOURCES, "product-source", account, credentials, client)


def product_target(account: Account, credentials: dict[str, Any], client: httpx.Client) -> ProductTarget:
    return _build(PRODUCT_TARGETS, "product", account, credentials, client)
