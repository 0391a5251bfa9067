"""What product sync keeps per link and SKU: what the channel last accepted, and the read cursor."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ProductRecord:
    sku: str
    digest: str = ""  # of what the channel last accepted
    image_url: str = ""  # the image the channel last got
    channel_ref: str = ""
    status: str = ""  # synced, backoffice_only, refused
    error: str = ""


class ProductRecords(Protocol):
    def get_many(self, link_id: str, skus: Iterable[str]) -> dict[str, ProductRecord]: ...
    def put(self, link_id: str, record: ProductRecord) -> None: ...
    def cursor(self, link_id: str) -> str | None: ...
    def set_cursor(self, link_id: str, cursor: str | None) -> None: ...


class BalanceRecords(Protocol):
    """The amount last sent per customer (LINK#{link_id} / BALANCE#{digest}) and the read's cursor."""

    def sent(self, link_id: str, keys: list[str]) -> dict[str, str]: ...  # digest → "amount|outcome"

    def put(self, link_id: str, key: str, value: str) -> None: ...

    def cursor(self, link_id: str) -> str | None: ...

    def set_cursor(self, link_id: str, cursor: str | None) -> None: ...
