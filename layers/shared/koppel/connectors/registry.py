"""Which connector serves which system, imported only when a link needs it (cold starts stay small)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import httpx

from koppel.config import Account, SystemType
from koppel.connectors.base import OrderSink, OrderSource, ProgressSource, ShipmentChannel
from koppel.errors import UnsupportedSystem

ORDER_SOURCES: dict[SystemType, str] = {SystemType.BOL: "koppel.connectors.bol"}
ORDER_SINKS: dict[SystemType, str] = {SystemType.SHOPIFY: "koppel.connectors.shopify"}
PROGRESS_SOURCES: dict[SystemType, str] = {SystemType.SHOPIFY: "koppel.connectors.shopify"}
SHIPMENT_CHANNELS: dict[SystemType, str] = {SystemType.BOL: "koppel.connectors.bol"}


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
