"""KORONA's stock per article and warehouse: read in full (`StockSource`) and by revision (`StockChanges`).

`GET /accounts/{koronaAccountId}/organizationalUnits/{organizationalUnitId}/productStocks` lists an
organizational unit's stock a page at a time (KORONA.retail; an organizational unit keeps stock when
it "contains a warehouse"). koppel reads the account's `organizational_units`, else every unit of
`GET /organizationalUnits` with `warehouse: true`, one after the other.

- In full (reconciliation, the first feed): the cursor is `{unit id}:{page}`.
- By revision (every minute; KORONA sends no webhooks): every `ProductStock` carries a `revision`,
  unique per object type and raised by each change, and a list asked with `revision=R` answers only
  what changed after R. koppel asks each unit for `revision=R&sort=revision`, one page, and goes on
  from the highest revision on that page (keyset paging: a level changed while koppel reads moves to
  the end of the list instead of shifting a page under the reader). The cursor is each unit's
  revision, `{unit id}={revision}` joined by `,`. That KORONA honours `sort=revision` is read from
  the spec's `sort` parameter, not verified against the live API; a level missed would still be
  caught by the 20-minute full read.

The revision orders the levels (`WarehouseStock.sequence`) in both reads, so an older read never
overwrites a newer one: stock never moves backwards.

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

from koppel.connectors.base import StockChangesPage, StockPage
from koppel.connectors.korona.client import PAGE_SIZE, KoronaPart, reference_id
from koppel.models import WarehouseStock


class KoronaStockSource(KoronaPart):
    """`StockSource` and `StockChanges`: KORONA's stock, warehouse by warehouse."""

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

    def stock_changes(self, cursor: str | None) -> StockChangesPage:
        """One page per unit of what changed after its revision in `cursor` (a new unit: from 0)."""
        held = revisions(cursor)
        reached: dict[str, int] = {}
        levels: list[WarehouseStock] = []
        more = False
        now = datetime.now(UTC)
        for unit in self._stock_units():
            since = held.get(unit, 0)
            found = self.korona.page(
                f"/organizationalUnits/{unit}/productStocks", 1, revision=since or None, sort="revision"
            )
            seen = [int(entry["revision"]) for entry in found.results if str(entry.get("revision", "")).isdigit()]
            if seen:
                reached[unit] = max(since, *seen)
                more = more or len(found.results) >= PAGE_SIZE
            elif found.results and found.max_revision is not None:
                reached[unit] = max(since, found.max_revision)  # objects without their revision: take the list's
            else:
                reached[unit] = since
            levels.extend(level for entry in found.results if (level := warehouse_stock(entry, unit, now)))
        return StockChangesPage(levels=tuple(levels), cursor=cursor_of(reached), more=more)

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


def revisions(cursor: str | None) -> dict[str, int]:
    """`{unit id}={revision},…` as a dict; anything unreadable counts as "from the beginning"."""
    held: dict[str, int] = {}
    for part in (cursor or "").split(","):
        unit, _, revision = part.partition("=")
        if unit.strip() and revision.strip().isdigit():
            held[unit.strip()] = int(revision)
    return held


def cursor_of(reached: dict[str, int]) -> str:
    return ",".join(f"{unit}={revision}" for unit, revision in sorted(reached.items()))


def warehouse_stock(entry: dict[str, Any], unit: str, now: datetime) -> WarehouseStock | None:
    """One `ProductStock` as koppel's level; None without an article number koppel could match."""
    sku = str((entry.get("product") or {}).get("number") or "").strip()
    if not sku:
        return None
    actual = (entry.get("amount") or {}).get("actual")
    revision = str(entry.get("revision", ""))
    return WarehouseStock(
        sku=sku,
        warehouse=reference_id(entry.get("warehouse")) or unit,
        on_hand=math.floor(Decimal(str(actual))) if actual is not None else 0,
        observed_at=now,  # KORONA gives the level no time; it is the stock as of this read
        sequence=int(revision) if revision.isdigit() else None,
    )
