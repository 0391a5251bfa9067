"""Stock in a Shopify store, both ways.

As a sales channel (`StockTarget`) it takes stock: `push_stock` sets each inventory item's
`available` quantity at one location with `inventorySetQuantities`. As a backoffice it gives stock
(`StockSource`: on hand and committed per location), and its `inventory_levels/update` webhooks
name an inventory item, which `InventoryItems` turns into a SKU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from koppel.connectors.base import StockPage, StockPushResult, StockUpdate
from koppel.connectors.shopify import variants
from koppel.connectors.shopify.client import Operation, ShopifyPart
from koppel.connectors.shopify.values import gid, numeric_id, parse_time
from koppel.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectorError,
    PermanentConnectorError,
    TransientConnectorError,
)
from koppel.models import WarehouseStock
from koppel.observability import logger

# Stock: inventorySetQuantities takes at most 250 quantities per call (shopify.dev); koppel is the
# source of truth for the number it sends, so no compare-and-set. The reference names koppel in the
# shop's inventory history.
STOCK_BATCH = 250
STOCK_QUANTITY = "available"
STOCK_REASON = "correction"
STOCK_REFERENCE = "koppel://stock-sync"
MAX_STOCK = 1_000_000_000  # Shopify refuses a higher quantity
# Page sizes that keep a page's requested cost near half the 1000-point single-query maximum.
STOCK_ITEMS_PER_PAGE = 30
LEVELS_PER_ITEM = 5


# `isPrimary` is deprecated: the shop's oldest active location that fulfils online orders stands in.
LOCATIONS = Operation(
    name="KoppelLocations",
    document="""
query KoppelLocations {
  locations(first: 50, sortKey: ID) {
    nodes { id fulfillsOnlineOrders }
  }
}""",
    mutation=False,
    estimated_cost=52,
)

SET_STOCK = Operation(
    name="KoppelSetStock",
    document="""
mutation KoppelSetStock($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}""",
    mutation=True,
    estimated_cost=12,
)


INVENTORY_ITEM_SKU = Operation(
    name="KoppelInventoryItemSku",
    document="""
query KoppelInventoryItemSku($id: ID!) {
  inventoryItem(id: $id) { sku }
}""",
    mutation=False,
    estimated_cost=1,
)

# An inventory webhook says what is available at a location; on hand comes with the SKU, in one call.
INVENTORY_ITEM_AT = Operation(
    name="KoppelInventoryItemAt",
    document="""
query KoppelInventoryItemAt($id: ID!, $locationId: ID!) {
  inventoryItem(id: $id) {
    sku
    inventoryLevel(locationId: $locationId) { quantities(names: ["available", "on_hand"]) { name quantity } }
  }
}""",
    mutation=False,
    estimated_cost=3,
)

LEVEL_FIELDS = """
        nodes { updatedAt location { id } quantities(names: ["available", "on_hand"]) { name quantity } }
        pageInfo { hasNextPage endCursor }"""

STOCK_PAGE = Operation(
    name="KoppelStockPage",
    document=f"""
query KoppelStockPage($after: String) {{
  inventoryItems(first: {STOCK_ITEMS_PER_PAGE}, after: $after) {{
    nodes {{
      id sku tracked
      inventoryLevels(first: {LEVELS_PER_ITEM}) {{{LEVEL_FIELDS}
      }}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}""",
    mutation=False,
    estimated_cost=800,
)

# Only for an item stocked at more locations than a stock page reads: the rest of its levels.
ITEM_LEVELS = Operation(
    name="KoppelItemLevels",
    document=f"""
query KoppelItemLevels($id: ID!, $after: String) {{
  inventoryItem(id: $id) {{
    inventoryLevels(first: 50, after: $after) {{{LEVEL_FIELDS}
    }}
  }}
}}""",
    mutation=False,
    estimated_cost=202,
)


class ShopifyStockTarget(ShopifyPart):
    """`StockTarget`: Shopify as a sales channel, its stock set by koppel."""

    _stock_location: str | None = None  # the account's location, else the shop's default once asked

    def channel_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        """(sku, ean) -> the inventory item gid of the one variant with that SKU, else that barcode.

        A SKU (or barcode) that several variants share is left out: stock pushed to one chosen at
        random would be wrong for the other.
        """
        return variants.refs(
            self.graphql, skus, "inventory item", lambda node: str((node.get("inventoryItem") or {}).get("id") or "")
        )

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[StockPushResult]:
        """Set each inventory item's available quantity at the account's location, 250 per mutation."""
        results: list[StockPushResult | None] = [None] * len(updates)
        sendable: list[int] = []
        for index, update in enumerate(updates):
            if update.channel_ref.strip():
                sendable.append(index)
            else:
                results[index] = StockPushResult(
                    update.sku, accepted=False, error="no Shopify inventory item for this SKU"
                )
        if not sendable:
            return [result for result in results if result is not None]
        try:
            location = self._location()
        except AuthenticationFailed:
            raise  # the account's token, not a SKU, is the problem
        except (ConnectorError, ConfigurationError) as exc:
            retryable = isinstance(exc, TransientConnectorError)
            for index in sendable:
                results[index] = StockPushResult(updates[index].sku, False, str(exc), retryable=retryable)
            return [result for result in results if result is not None]
        for start in range(0, len(sendable), STOCK_BATCH):
            self._push_batch(updates, sendable[start : start + STOCK_BATCH], location, results)
        return [result for result in results if result is not None]

    def _push_batch(
        self,
        updates: Sequence[StockUpdate],
        indexes: list[int],
        location: str,
        results: list[StockPushResult | None],
    ) -> None:
        # One quantity per inventory item (Shopify refuses the same item twice); the last update wins.
        by_item: dict[str, list[int]] = {}
        for index in indexes:
            by_item.setdefault(gid("InventoryItem", updates[index].channel_ref), []).append(index)
        pending = {item: group[-1] for item, group in by_item.items()}

        def settle(item: str, result: StockPushResult) -> None:
            for index in by_item[item]:
                results[index] = replace(result, sku=updates[index].sku)

        # Each round either sets everything or drops at least one refused quantity, so this ends.
        while pending:
            items = list(pending)
            quantities = [
                {"inventoryItemId": item, "locationId": location, "quantity": stock_quantity(updates[pending[item]])}
                for item in items
            ]
            try:
                payload = self.graphql.execute(SET_STOCK, {"input": stock_input(quantities)})["inventorySetQuantities"]
            except AuthenticationFailed:
                raise
            except TransientConnectorError as exc:
                # Setting an absolute quantity twice does no harm: whatever happened, a retry is safe.
                for item in items:
                    settle(item, StockPushResult("", False, str(exc), retryable=True))
                return
            except PermanentConnectorError as exc:
                for item in items:
                    settle(item, StockPushResult("", False, str(exc)))
                return
            if payload is None:
                for item in items:
                    settle(item, StockPushResult("", False, "shopify answered without a result", retryable=True))
                return
            errors = payload.get("userErrors") or []
            if not errors:
                for item in items:
                    settle(item, StockPushResult("", True))
                logger.info("stock set in shopify", items=len(items))
                return
            refused = {
                position: str(error.get("message") or "")
                for error in errors
                if (position := quantity_index(error)) is not None and position < len(items)
            }
            general = [str(error.get("message") or "") for error in errors if quantity_index(error) is None]
            if general or not refused:
                message = "; ".join(general) or "; ".join(refused.values()) or "refused by shopify"
                for item in items:
                    settle(item, StockPushResult("", False, f"shopify refused the stock update: {message}"))
                return
            for position, message in refused.items():
                settle(items[position], StockPushResult("", False, message))
                del pending[items[position]]
            if payload.get("inventoryAdjustmentGroup") is not None:
                # Shopify set the others already; sending them again is not needed.
                for item in pending:
                    settle(item, StockPushResult("", True))
                return
            # All or nothing at Shopify: one refused quantity and none was set, so the rest go again.
            logger.info("shopify refused some stock updates; sending the rest again", refused=len(refused))

    def _location(self) -> str:
        """The location koppel sets stock at: the account's `location_id`, else the shop's default."""
        if self._stock_location is None and self.settings.location_id.strip():
            self._stock_location = gid("Location", self.settings.location_id)
        if self._stock_location is None:
            nodes = self.graphql.execute(LOCATIONS, {})["locations"]["nodes"]
            chosen = next((node for node in nodes if node.get("fulfillsOnlineOrders")), nodes[0] if nodes else None)
            if chosen is None:
                raise ConfigurationError("the Shopify shop has no active location", field="location_id")
            self._stock_location = str(chosen["id"])
        return self._stock_location


class ShopifyStockSource(ShopifyPart):
    """`StockSource`: Shopify as the backoffice, its stock read by koppel."""

    def stock_page(self, cursor: str | None) -> StockPage:
        """Tracked inventory items with a SKU, one `WarehouseStock` per location they are stocked at.

        `on_hand` is Shopify's on hand; `backorders` what of it is not available (committed to
        orders, reserved, damaged, ...); the warehouse is the numeric location id, as in webhooks.
        """
        page = self.graphql.execute(STOCK_PAGE, {"after": cursor})["inventoryItems"]
        levels: list[WarehouseStock] = []
        for item in page.get("nodes") or []:
            sku = str(item.get("sku") or "").strip()
            if not sku or not item.get("tracked"):
                continue  # nothing koppel could match, or a quantity Shopify does not keep
            for level in self._levels(item):
                levels.append(warehouse_stock(sku, level))
        info = page.get("pageInfo") or {}
        return StockPage(levels=tuple(levels), cursor=info.get("endCursor") if info.get("hasNextPage") else None)

    def _levels(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        page = item.get("inventoryLevels") or {}
        levels = list(page.get("nodes") or [])
        while (page.get("pageInfo") or {}).get("hasNextPage"):
            after = page["pageInfo"].get("endCursor")
            found = self.graphql.execute(ITEM_LEVELS, {"id": item["id"], "after": after})["inventoryItem"]
            page = (found or {}).get("inventoryLevels") or {}
            levels.extend(page.get("nodes") or [])
        return levels


class ShopifyInventoryItems(ShopifyPart):
    """`InventoryItems`: the SKU behind an inventory item an `inventory_levels/update` names."""

    def sku_for_inventory_item(self, inventory_item_id: str | int) -> str:
        """The SKU of an inventory item (numeric id, as in `inventory_levels/update`, or gid); "" if none."""
        item = self.graphql.execute(INVENTORY_ITEM_SKU, {"id": gid("InventoryItem", str(inventory_item_id))})[
            "inventoryItem"
        ]
        return str((item or {}).get("sku") or "").strip()

    def inventory_item_at(self, inventory_item_id: str | int, location_id: str | int) -> tuple[str, int | None]:
        """An inventory item's SKU ("" if none) and its on-hand units at a location (None if not stocked there)."""
        variables = {
            "id": gid("InventoryItem", str(inventory_item_id)),
            "locationId": gid("Location", str(location_id)),
        }
        item = self.graphql.execute(INVENTORY_ITEM_AT, variables)["inventoryItem"] or {}
        level = item.get("inventoryLevel") or {}
        counts = {entry["name"]: int(entry["quantity"]) for entry in level.get("quantities") or []}
        return str(item.get("sku") or "").strip(), counts.get("on_hand")


def stock_quantity(update: StockUpdate) -> int:
    return max(0, min(update.quantity, MAX_STOCK))


def stock_input(quantities: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": STOCK_QUANTITY,
        "reason": STOCK_REASON,
        "referenceDocumentUri": STOCK_REFERENCE,
        # koppel's number is the truth to set, whatever Shopify held a moment ago.
        "ignoreCompareQuantity": True,
        "quantities": quantities,
    }


def quantity_index(error: dict[str, Any]) -> int | None:
    """The quantity a user error points at (`["input", "quantities", "3", "quantity"]` -> 3), if any."""
    path = [str(part) for part in error.get("field") or ()]
    if "quantities" in path:
        position = path.index("quantities") + 1
        if position < len(path) and path[position].isdigit():
            return int(path[position])
    return None


def warehouse_stock(sku: str, level: dict[str, Any]) -> WarehouseStock:
    counts = {str(q.get("name")): int(q.get("quantity") or 0) for q in level.get("quantities") or ()}
    on_hand = counts.get("on_hand", 0)
    return WarehouseStock(
        sku=sku,
        warehouse=numeric_id(str((level.get("location") or {}).get("id") or "")),
        on_hand=on_hand,
        backorders=max(0, on_hand - counts.get("available", 0)),
        observed_at=parse_time(level.get("updatedAt")) or datetime.now(UTC),
    )
