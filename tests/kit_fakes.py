"""Throw-away connector parts that connector-kit tests declare systems with (by dotted path)."""

from __future__ import annotations

from typing import Any

from koppel.webhooks import Delivery


class StockOnly:
    """A connector that serves stock but not products: what a half-built package looks like."""

    max_batch = 10

    def channel_refs(self, skus: Any) -> dict[str, str]:
        return {sku: sku for sku, _ in skus}

    def push_stock(self, updates: Any) -> list[Any]:
        return []


def stock_only(account: Any, credentials: Any, client: Any) -> StockOnly:
    return StockOnly()


def accept_named(account: Any, secrets: Any, headers: Any, body: bytes, ctx: Any) -> Delivery:
    """A verifier that takes any delivery, named after its account (what a system's own scheme returns)."""
    return Delivery(account.account_id, account.system, "stock.changed", "e1", f"{account.account_id}:token")
