"""InnVoice's stock as koppel reads it (`StockSource`): one level per product and warehouse.

A product of `GET /{reg}/product` holds one `Keszlet` per warehouse in `Keszletek`, each with its
`Raktar_Keszlet`; the facts name no warehouse id or name in it, so a warehouse is its position,
counted from 1 ("1" is the first warehouse). A link's `stock.warehouses` names the positions whose
stock it sums, as InnVoice's own webshop connectors let the merchant choose. A fraction is rounded
down to whole units; InnVoice reports no reservations (backorders 0). The whole list is read at the
start of a pass and handed out a page of products at a time; the cursor is the offset.

Built from public facts (two apps reading this list, `FACTS-systems-2.md` §2.1), not from a spec;
which warehouse a position is, is not verified.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from koppel.connectors.base import StockPage
from koppel.connectors.innvoice.products import PAGE_SIZE, InnVoiceProducts
from koppel.models import WarehouseStock


class InnVoiceStock(InnVoiceProducts):
    """`StockSource`: every product's stock in each of its warehouses."""

    def stock_page(self, cursor: str | None) -> StockPage:
        offset = int(cursor) if cursor and cursor.isdigit() else 0
        everything = self.catalogue(fresh=cursor is None)
        now = datetime.now(UTC)
        levels = tuple(
            WarehouseStock(sku=item.sku, warehouse=str(position), on_hand=math.floor(units), observed_at=now)
            for item in everything[offset : offset + PAGE_SIZE]
            for position, units in enumerate(item.stock, 1)
        )
        following = offset + PAGE_SIZE
        return StockPage(levels=levels, cursor=str(following) if following < len(everything) else None)
