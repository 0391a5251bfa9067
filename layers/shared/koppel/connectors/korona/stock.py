"""KORONA's stock per article and warehouse (`StockSource`).

`GET /accounts/{koronaAccountId}/organizationalUnits/{organizationalUnitId}/productStocks` lists an
organizational unit's stock a page at a time (KORONA.retail; an organizational unit keeps stock when
it "contains a warehouse"). koppel reads the account's `organizational_units`, else every unit of
`GET /organizationalUnits` with `warehouse: true`, one after the other; the cursor is
`{unit id}:{page}`.

`ProductStock.amount.actual` is on hand. The spec also gives `ordered`, `lent`, `reorderLevel` and
`maxLevel` beside it, the figures of reordering from suppliers: `ordered` is stock on its way in,
not units promised to buyers, so it is not a backorder. KORONA reports no reservation; backorders
are 0. A fraction (an article sold by weight) is rounded down to whole units.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from koppel.connectors.base import StockPage
from koppel.connectors.korona.client import KoronaPart, reference_id
from koppel.models import WarehouseStock


class KoronaStockSource(KoronaPart):
    """`StockSource`: KORONA's stock, warehouse by warehouse."""

    _units: tuple[str, ...] | None = None

    def stock_page(self, cursor: str | None) -> StockPage:
        units = self._stock_units()
        if not units:
            return StockPage(levels=(), cursor=None)
        unit, _, page = (cursor or "").partition(":")
        index = units.index(unit) if unit in units else 0  # a unit gone since: start over
        number = int(page) if page.isdigit() and unit in units else 1
        found = self.korona.page(f"/organizationalUnits/{units[index]}/productStocks", number)
        now = datetime.now(UTC)
        levels = tuple(level for entry in found.results if (level := warehouse_stock(entry, units[index], now)))
        if found.next_page is not None:
            following: str | None = f"{units[index]}:{found.next_page}"
        elif index + 1 < len(units):
            following = f"{units[index + 1]}:1"
        else:
            following = None
        return StockPage(levels=levels, cursor=following)

    def _stock_units(self) -> tuple[str, ...]:
        if self._units is None:
            chosen = tuple(unit.strip() for unit in self.settings.organizational_units if unit.strip())
            if not chosen:
                chosen = tuple(
                    str(unit["id"])
                    for unit in self.korona.every("/organizationalUnits")
                    if unit.get("warehouse") and unit.get("id") and unit.get("active") is not False
                )
            self._units = chosen
        return self._units


def warehouse_stock(entry: dict[str, Any], unit: str, now: datetime) -> WarehouseStock | None:
    """One `ProductStock` as koppel's level; None without an article number koppel could match."""
    sku = str((entry.get("product") or {}).get("number") or "").strip()
    if not sku:
        return None
    actual = (entry.get("amount") or {}).get("actual")
    return WarehouseStock(
        sku=sku,
        warehouse=reference_id(entry.get("warehouse")) or unit,
        on_hand=math.floor(Decimal(str(actual))) if actual is not None else 0,
        observed_at=now,  # KORONA gives the level no time; it is the stock as of this read
    )
