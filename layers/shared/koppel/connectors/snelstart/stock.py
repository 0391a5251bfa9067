"""SnelStart's stock as koppel reads it: in full (`StockSource`) and as a change feed (`StockChanges`).

SnelStart has no stock endpoint: an article carries its stock, read-only — `technischeVoorraad`
(on hand) and `vrijeVoorraad` (what is left once open orders are served) — and `voorraadControle`
says whether SnelStart keeps stock for it. koppel reports each active article with stock control as
one level at SnelStart's one location (warehouse ""): on hand the technical stock, backorders the
part of it promised to orders (technical - free, never below zero), so a link's `stock.basis` picks
technical or free. A fraction (an article sold by weight) is rounded down to whole units.

- In full: every article, a batch of up to 100 at a time (`articles.py`); the cursor is the offset.
- By change: the articles whose `modifiedOn` moved since the cursor (`articles.Feed`). The level's
  sequence is that `modifiedOn` in microseconds, so an older read never overwrites a newer one.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from koppel.connectors.base import StockChangesPage, StockPage
from koppel.connectors.snelstart.articles import Feed, read_articles, sequence_of
from koppel.connectors.snelstart.client import SnelStartPart, parse_moment
from koppel.models import WarehouseStock


class SnelStartStock(SnelStartPart):
    """`StockSource` and `StockChanges`: the stock SnelStart keeps on its articles."""

    def stock_page(self, cursor: str | None) -> StockPage:
        skip = int(cursor) if cursor and cursor.isdigit() else 0
        batch = read_articles(self.snelstart, skip=skip)
        now = datetime.now(UTC)
        levels = tuple(level for article in batch.rows if (level := warehouse_stock(article, now)))
        return StockPage(levels=levels, cursor=None if batch.exhausted else str(skip + len(batch.rows)))

    def stock_changes(self, cursor: str | None) -> StockChangesPage:
        """A batch of the articles changed since `cursor`; None: every article once."""
        feed = Feed.read(cursor)
        batch = read_articles(self.snelstart, skip=feed.skip or 0, filter=feed.filter)
        feed.start(batch.answered_at)
        now = datetime.now(UTC)
        levels = [level for article in batch.rows if feed.take(article) and (level := warehouse_stock(article, now))]
        if not batch.exhausted:
            feed.advance(len(batch.rows))
            return StockChangesPage(levels=tuple(levels), cursor=feed.paging(), more=True)
        following, more = feed.finish()
        return StockChangesPage(levels=tuple(levels), cursor=following, more=more)


def warehouse_stock(article: dict[str, Any], now: datetime) -> WarehouseStock | None:
    """An article as a stock level; None when SnelStart keeps no stock for it, or it is inactive."""
    sku = str(article.get("artikelcode") or "").strip()
    if not sku or not article.get("voorraadControle") or article.get("isNonActief"):
        return None
    technical = Decimal(str(article.get("technischeVoorraad") or 0))
    free = Decimal(str(article.get("vrijeVoorraad") if article.get("vrijeVoorraad") is not None else technical))
    return WarehouseStock(
        sku=sku,
        warehouse="",
        on_hand=math.floor(technical),
        backorders=max(0, math.floor(technical) - math.floor(free)),
        observed_at=parse_moment(article.get("modifiedOn")) or now,
        sequence=sequence_of(article),
    )
