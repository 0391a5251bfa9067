"""StockChanges: a backoffice's stock change feed read from a cursor — everything once from the
beginning, nothing when nothing changed, exactly what changed since, never a change lost while the
feed is read, and every level ordered by the backoffice's own sequence."""

from __future__ import annotations

from typing import Any

from koppel.connectors.declaration import Capability
from koppel.models import WarehouseStock

CAPABILITY = Capability.STOCK_CHANGES

MAX_READS = 100


def read_on(connector: Any, cursor: str | None) -> tuple[list[WarehouseStock], str | None, int]:
    """Read while the feed says more is waiting; the levels, the cursor it ends on, and the reads made."""
    levels: list[WarehouseStock] = []
    for reads in range(1, MAX_READS + 1):
        page = connector.stock_changes(cursor)
        levels.extend(page.levels)
        assert page.cursor, "the feed always hands back where to go on"
        cursor = page.cursor
        if not page.more:
            return levels, cursor, reads
    raise AssertionError(f"the feed still had more after {MAX_READS} reads")


def stocked(harness: Any, count: int) -> dict[tuple[str, str], int]:
    shop, south = harness.default_location(), harness.add_location("Warehouse South")
    expected: dict[tuple[str, str], int] = {}
    for number in range(count):
        on_hand = {shop: number} if number % 4 else {shop: number, south: 50 + number}
        sku = f"FEED-{number:04d}"
        harness.add_stocked_item(sku, on_hand)
        expected |= {(sku, harness.warehouse_of(location)): units for location, units in on_hand.items()}
    return expected


def test_from_the_beginning_every_level_comes_once_with_its_sequence(harness: Any, connector: Any) -> None:
    expected = stocked(harness, harness.stock_page_size + 30)

    levels, _, reads = read_on(connector, None)

    assert reads >= 2
    keys = [(level.sku, level.warehouse) for level in levels]
    assert len(keys) == len(set(keys)), "a level was read twice"
    assert {(level.sku, level.warehouse): level.on_hand for level in levels} == expected
    assert all(level.sequence is not None for level in levels)


def test_nothing_changed_reads_nothing_and_keeps_the_cursor(harness: Any, connector: Any) -> None:
    stocked(harness, 5)
    _, cursor, _ = read_on(connector, None)

    levels, again, _ = read_on(connector, cursor)

    assert levels == []
    assert again == cursor


def test_a_change_comes_alone_and_orders_after_what_was_read(harness: Any, connector: Any) -> None:
    stocked(harness, 5)
    before, cursor, _ = read_on(connector, None)
    shop = harness.default_location()
    held = {(level.sku, level.warehouse): level for level in before}

    harness.change_stock("FEED-0002", shop, 1)
    levels, _, _ = read_on(connector, cursor)

    [level] = levels
    assert (level.sku, level.warehouse, level.on_hand) == ("FEED-0002", harness.warehouse_of(shop), 1)
    assert level.sequence > held[(level.sku, level.warehouse)].sequence


def test_a_change_made_while_the_feed_is_read_is_not_lost(harness: Any, connector: Any) -> None:
    # GIVEN more levels than one read returns
    stocked(harness, harness.stock_page_size * 2)
    shop = harness.default_location()
    first = connector.stock_changes(None)
    assert first.more
    read = {level.sku for level in first.levels}

    # WHEN a level already read, and one not read yet, change before the next read
    early = sorted(read)[0]
    late = "FEED-0199"
    assert late not in read
    harness.change_stock(early, shop, 777)
    harness.change_stock(late, shop, 888)
    rest, _, _ = read_on(connector, first.cursor)

    # THEN both reach koppel with their new figures, the rest exactly once
    newest = {(level.sku, level.warehouse): level.on_hand for level in rest}
    assert newest[(early, harness.warehouse_of(shop))] == 777
    assert newest[(late, harness.warehouse_of(shop))] == 888
    everything = {level.sku for level in first.levels} | {level.sku for level in rest}
    assert everything == {f"FEED-{number:04d}" for number in range(harness.stock_page_size * 2)}
