"""The open amount koppel last sent per customer and link: LINK#{link_id} / BALANCE#{e-mail digest}."""

from __future__ import annotations

from koppel.store.dynamodb import DynamoTable, TextCursor

PREFIX = "BALANCE#"


class DynamoBalanceRecords:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table
        self._cursor = TextCursor(table, "balances")

    def sent(self, link_id: str, keys: list[str]) -> dict[str, str]:
        items = self.table.get_many(f"LINK#{link_id}", (PREFIX + key for key in keys))
        return {str(item["sk"]).removeprefix(PREFIX): str(item["value"]) for item in items}

    def put(self, link_id: str, key: str, value: str) -> None:
        self.table.put({"pk": f"LINK#{link_id}", "sk": PREFIX + key, "value": value})

    def cursor(self, link_id: str) -> str | None:
        return self._cursor.get(link_id)

    def set_cursor(self, link_id: str, cursor: str | None) -> None:
        self._cursor.set(link_id, cursor)
