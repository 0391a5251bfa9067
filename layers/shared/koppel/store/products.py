"""What koppel last sent a channel of each product: LINK#{link_id} / PRODUCT#{sku}, and the sync cursor."""

from __future__ import annotations

from collections.abc import Iterable

from koppel.ports.products import ProductRecord
from koppel.store.dynamodb import DynamoTable, TextCursor

PREFIX = "PRODUCT#"


class DynamoProductRecords:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table
        self._cursor = TextCursor(table, "products")

    def get_many(self, link_id: str, skus: Iterable[str]) -> dict[str, ProductRecord]:
        items = self.table.get_many(f"LINK#{link_id}", (PREFIX + sku for sku in skus))
        return {
            record.sku: record
            for record in (
                ProductRecord(
                    sku=str(item["sk"])[len(PREFIX) :],
                    digest=str(item.get("digest", "")),
                    image_url=str(item.get("image_url", "")),
                    channel_ref=str(item.get("channel_ref", "")),
                    status=str(item.get("status", "")),
                    error=str(item.get("error", "")),
                )
                for item in items
            )
        }

    def all(self, link_id: str) -> list[ProductRecord]:
        items = self.table.query(f"LINK#{link_id}", PREFIX)
        return list(self.get_many(link_id, [str(item["sk"])[len(PREFIX) :] for item in items]).values())

    def put(self, link_id: str, record: ProductRecord) -> None:
        values = {"pk": f"LINK#{link_id}", "sk": PREFIX + record.sku, **record.__dict__}
        values.pop("sku")
        self.table.put({key: value for key, value in values.items() if value != ""})

    def cursor(self, link_id: str) -> str | None:
        return self._cursor.get(link_id)

    def set_cursor(self, link_id: str, cursor: str | None) -> None:
        self._cursor.set(link_id, cursor)
