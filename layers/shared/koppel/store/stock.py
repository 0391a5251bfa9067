"""Stock per link and SKU in koppel's table: the backoffice's levels per warehouse, and what the
channel was last told.

LINK#{link_id} / STOCK#{sku} holds, in one item:
- `levels`: per warehouse the on-hand and backorder figures with the version they were reported
  under (a sender's sequence number, or the moment observed);
- `quantity`: the link's stock from those levels (its basis and warehouses applied, before the
  buffer) and `observed_at`, the newest level's time: what the feed and the pusher read;
- `pending`: the channel still has to hear of it; `pushed`: the last quantity the channel accepted;
  `channel_ref`: the channel's own id for the SKU; `push_error`: why the channel refused it.

Every change is a read followed by a write conditional on the revision it read, so concurrent
workers never interleave: a level is merged only if its version is newer than the warehouse's
stored one, and stock can never be set back by a stale or replayed event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from koppel.errors import StateConflict
from koppel.ports.feed import FeedRow
from koppel.ports.stock import IncomingLevel, Level, Merge, StockRecord, is_newer
from koppel.store.dynamodb import DynamoTable, TextCursor, sortable, to_item

STOCK_PREFIX = "STOCK#"
MERGE_ATTEMPTS = 10
REASK_SECONDS = 60  # well past the push delay and the pusher's batching window


class DynamoStockStore:
    def __init__(self, table: DynamoTable) -> None:
        self.table = table
        self._read_cursor = TextCursor(table, "stock-read")  # where reconciliation's read of the backoffice stopped
        self._changes_cursor = TextCursor(table, "stock-changes")  # how far the backoffice's change feed was read

    # --- reading -----------------------------------------------------------------------------
    def get(self, link_id: str, sku: str) -> StockRecord | None:
        item = self.table.get(f"LINK#{link_id}", STOCK_PREFIX + sku)
        return _record(item) if item else None

    def get_many(self, link_id: str, skus: Iterable[str]) -> list[StockRecord]:
        """Consistent reads of these SKUs' records (missing ones left out)."""
        return [_record(item) for item in self.table.get_many(f"LINK#{link_id}", (STOCK_PREFIX + sku for sku in skus))]

    def all(self, link_id: str) -> Iterator[StockRecord]:
        for item in self.table.iter_query(f"LINK#{link_id}", STOCK_PREFIX):
            yield _record(item)

    def feed_rows(self, link_id: str) -> Iterator[FeedRow]:
        """In SKU order (the table's key order), streamed."""
        for record in self.all(link_id):
            if record.observed_at:
                yield FeedRow(record.sku, record.quantity, datetime.fromisoformat(record.observed_at))

    def quantities(self, link_id: str, skus: Sequence[str]) -> dict[str, int]:
        return {record.sku: record.quantity for record in self.get_many(link_id, skus) if record.observed_at}

    def level(self, link_id: str, sku: str) -> tuple[int, datetime] | None:
        record = self.get(link_id, sku)
        if record is None or not record.observed_at:
            return None
        return record.quantity, datetime.fromisoformat(record.observed_at)

    # --- writing -----------------------------------------------------------------------------
    def merge(
        self,
        link_id: str,
        sku: str,
        incoming: Sequence[IncomingLevel],
        *,
        quantity_of: Callable[[Mapping[str, Level]], int],
        sellable: Callable[[int], int],
    ) -> Merge:
        """Merge one SKU's levels; the record turns pending when what the channel should sell changes."""
        for _ in range(MERGE_ATTEMPTS):
            record = self.get(link_id, sku) or StockRecord(link_id=link_id, sku=sku)
            levels = dict(record.levels)
            accepted = 0
            for level in incoming:
                held = levels.get(level.warehouse)
                if not is_newer(level.version, held.version if held is not None else None):
                    continue
                levels[level.warehouse] = Level(
                    level.on_hand, level.backorders, level.version, sortable(level.observed_at)
                )
                accepted += 1
            now = int(time.time())
            # Ask for a push when the SKU turns pending; while it waits, later mutations join that
            # push. Asked long ago and still pending (a request lost, a redelivery): ask again.
            overdue = record.pending and now - record.asked_at >= REASK_SECONDS
            if not accepted:
                return Merge(sku, 0, len(incoming), record.quantity, record.pending, ask=overdue)
            quantity = quantity_of(levels)
            pending = record.pending or sellable(quantity) != record.pushed
            ask = pending and (not record.pending or overdue)
            newest = max(level.at for level in levels.values())
            ean = next((level.ean for level in incoming if level.ean), record.ean)
            changed = {
                "levels": json.dumps({name: level.__dict__ for name, level in levels.items()}, sort_keys=True),
                "quantity": quantity,
                "observed_at": newest,
                "pending": pending,
                "ean": ean,
                "asked_at": now if ask else record.asked_at,
            }
            if self._write(record, changed):
                return Merge(sku, accepted, len(incoming) - accepted, quantity, pending, ask=ask)
        raise StateConflict(f"stock of {sku} kept changing under koppel; try again", sku=sku)

    def mark_pending(self, record: StockRecord) -> bool:
        """The channel must hear of this SKU again (False: it changed meanwhile)."""
        return self._write(record, {"pending": True, "asked_at": int(time.time())})

    def read_cursor(self, link_id: str) -> str | None:
        return self._read_cursor.get(link_id)

    def set_read_cursor(self, link_id: str, cursor: str | None) -> None:
        self._read_cursor.set(link_id, cursor)

    def changes_cursor(self, link_id: str) -> str | None:
        return self._changes_cursor.get(link_id)

    def set_changes_cursor(self, link_id: str, cursor: str) -> None:
        self._changes_cursor.set(link_id, cursor)

    def mark_pushed(self, record: StockRecord, pushed: int, channel_ref: str) -> bool:
        """The channel accepted `pushed`; False when the stock moved meanwhile and must go out again."""
        now = sortable(datetime.now(UTC))
        changed = {"pending": False, "pushed": pushed, "pushed_at": now, "channel_ref": channel_ref, "push_error": None}
        return self._write(record, changed)

    def mark_refused(self, record: StockRecord, error: str) -> bool:
        """The channel cannot take this SKU: kept visible with the reason, not retried until it changes.

        The channel's id is forgotten, so an offer or product made again there is found anew."""
        return self._write(record, {"pending": False, "push_error": error, "channel_ref": None})

    def _write(self, record: StockRecord, changed: Mapping[str, Any]) -> bool:
        values = {**_item(record), **changed, "rev": record.rev + 1}
        try:
            self.table.put(
                values,
                ConditionExpression="attribute_not_exists(pk) OR rev = :rev",
                ExpressionAttributeValues=to_item({":rev": record.rev}),
            )
        except self.table.client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def _item(record: StockRecord) -> dict[str, Any]:
    return {
        "pk": f"LINK#{record.link_id}",
        "sk": STOCK_PREFIX + record.sku,
        "levels": json.dumps({name: level.__dict__ for name, level in record.levels.items()}, sort_keys=True),
        "quantity": record.quantity,
        "observed_at": record.observed_at or None,
        "ean": record.ean or None,
        "pending": record.pending,
        "pushed": record.pushed,
        "pushed_at": record.pushed_at or None,
        "channel_ref": record.channel_ref or None,
        "push_error": record.push_error or None,
        "asked_at": record.asked_at or None,
    }


def _record(item: Mapping[str, Any]) -> StockRecord:
    levels = {name: Level(**values) for name, values in json.loads(item.get("levels") or "{}").items()}
    return StockRecord(
        link_id=str(item["pk"])[len("LINK#") :],
        sku=str(item["sk"])[len(STOCK_PREFIX) :],
        rev=int(item.get("rev", 0)),
        levels=levels,
        quantity=int(item.get("quantity", 0)),
        observed_at=str(item.get("observed_at", "")),
        ean=str(item.get("ean", "")),
        pending=bool(item.get("pending", False)),
        pushed=None if item.get("pushed") is None else int(item["pushed"]),
        pushed_at=str(item.get("pushed_at", "")),
        channel_ref=str(item.get("channel_ref", "")),
        push_error=str(item.get("push_error", "")),
        asked_at=int(item.get("asked_at", 0)),
    )
