"""What the feed flow reads and writes through: koppel's stock per SKU and the feed bucket."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class FeedRow:
    sku: str
    quantity: int
    observed_at: datetime


class StockQuantities(Protocol):
    """The link's stock as koppel holds it (basis and warehouses applied, before the buffer)."""

    def feed_rows(self, link_id: str) -> Iterable[FeedRow]: ...
    def quantities(self, link_id: str, skus: Sequence[str]) -> dict[str, int]: ...


class FeedWriter(Protocol):
    def upload(self, key: str, chunks: Iterable[bytes], content_type: str) -> int: ...
    def exists(self, key: str) -> bool: ...
    def presign(self, key: str, expires_in: int) -> str: ...
