"""StockSource: read with its cursor until the last page, every level once, at its warehouse."""

from __future__ import annotations

from typing import Any

from koppel.connectors.declaration import Capability

CAPABILITY = Capability.STOCK_SOURCE

MAX_PAGES = 100


def test_every_level_is_read_once_across_pages(harness: Any, connector: Any) -> None:
    # GIVEN more items than a page holds, some stocked in a second warehouse too
    shop, south = harness.default_location(), harness.add_location("Warehouse South")
    expected: dict[tuple[str, str], int] = {}
    for number in range(harness.stock_page_size * 2 + 5):
        on_hand = {shop: number} if number % 3 else {shop: number, south: 100 + number}
        sku = f"STOCK-{number:04d}"
        harness.add_stocked_item(sku, on_hand)
        expected |= {(sku, harness.warehouse_of(location)): units for location, units in on_hand.items()}

    # WHEN koppel pages through with the cursor until it is None
    levels = []
    cursor: str | None = None
    pages = 0
    while pages < MAX_PAGES:
        page = connector.stock_page(cursor)
        levels.extend(page.levels)
        cursor, pages = page.cursor, pages + 1
        if cursor is None:
            break

    assert cursor is None
    assert pages >= 3
    read = [(level.sku, level.warehouse) for level in levels]
    assert len(read) == len(set(read)), "a level was read twice"
    assert {(level.sku, level.warehouse): level.on_hand for level in levels} == expected
