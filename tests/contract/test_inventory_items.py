"""InventoryItems: a stock webhook's inventory item and location read as the SKU and its units on hand there."""

from __future__ import annotations

from typing import Any

from koppel.connectors.declaration import Capability

CAPABILITY = Capability.INVENTORY_ITEMS


def test_an_item_at_a_location_is_its_sku_and_on_hand(harness: Any, connector: Any) -> None:
    shop, south = harness.default_location(), harness.add_location("Warehouse South")
    item = harness.add_stocked_item("MUG-BLUE", {shop: 7, south: 2})

    assert connector.inventory_item_at(item, shop) == ("MUG-BLUE", 7)
    assert connector.inventory_item_at(item, south) == ("MUG-BLUE", 2)


def test_an_item_not_stocked_at_a_location_has_no_units_there(harness: Any, connector: Any) -> None:
    shop, south = harness.default_location(), harness.add_location("Warehouse South")
    item = harness.add_stocked_item("MUG-BLUE", {shop: 7})

    assert connector.inventory_item_at(item, south) == ("MUG-BLUE", None)
