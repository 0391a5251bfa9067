"""StockLookup: the levels of the products a stock hook names, read from the backoffice as it has them
now — each named product once, with when it changed; nothing for one that does not exist, keeps no
stock or is no longer offered on the link's sales channel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from contract.harnesses import StockSourceHarness

from koppel.connectors.declaration import Capability

CAPABILITY = Capability.STOCK_LOOKUP


class StockLookupHarness(StockSourceHarness, Protocol):
    def change_stock(self, sku: str, units: int) -> None: ...  # a count or a sale in the backoffice, later

    def add_unstocked_item(self, sku: str) -> str: ...  # a product that keeps no stock; its id

    def withdraw(self, sku: str) -> None: ...  # no longer offered on the link's sales channel

    def missing_id(self) -> str: ...  # an id the backoffice has no product for


def levels_by_sku(connector: Any, ids: list[str]) -> Mapping[str, Any]:
    levels = connector.stock_of(ids)
    skus = [level.sku for level in levels]
    assert len(skus) == len(set(skus)), "a product was given twice"
    return {level.sku: level for level in levels}


def test_the_named_products_come_with_their_level_now(harness: StockLookupHarness, connector: Any) -> None:
    shop = harness.default_location()
    mug = harness.add_stocked_item("LOOK-MUG", {shop: 4})
    pen = harness.add_stocked_item("LOOK-PEN", {shop: 9})
    harness.add_stocked_item("LOOK-CUP", {shop: 2})
    before = levels_by_sku(connector, [mug])["LOOK-MUG"].observed_at

    harness.change_stock("LOOK-MUG", 1)
    found = levels_by_sku(connector, [mug, pen, mug])

    assert set(found) == {"LOOK-MUG", "LOOK-PEN"}  # only the named ones, each once
    assert (found["LOOK-MUG"].on_hand, found["LOOK-PEN"].on_hand) == (1, 9)
    assert found["LOOK-MUG"].warehouse == harness.warehouse_of(shop)
    assert found["LOOK-MUG"].observed_at > before


def test_nothing_comes_for_a_product_that_is_gone_keeps_no_stock_or_is_withdrawn(
    harness: StockLookupHarness, connector: Any
) -> None:
    shop = harness.default_location()
    kept = harness.add_stocked_item("LOOK-KEPT", {shop: 3})
    withdrawn = harness.add_stocked_item("LOOK-GONE", {shop: 5})
    unstocked = harness.add_unstocked_item("LOOK-FREE")
    harness.withdraw("LOOK-GONE")

    found = levels_by_sku(connector, [kept, withdrawn, unstocked, harness.missing_id()])

    assert set(found) == {"LOOK-KEPT"}


def test_no_names_read_nothing(harness: StockLookupHarness, connector: Any) -> None:
    harness.add_stocked_item("LOOK-ANY", {harness.default_location(): 1})
    assert connector.stock_of([]) == []
