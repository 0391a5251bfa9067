"""Shopify as a sales channel (koppel sets its stock) and as a backoffice (koppel reads its stock and
products), against the simulated store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from koppel.connectors.base import (
    InventoryItems,
    ProductSource,
    StockPushResult,
    StockSource,
    StockTarget,
    StockUpdate,
)
from koppel.connectors.shopify.connector import ShopifyConnector
from koppel.connectors.shopify.settings import ShopifySettings
from koppel.errors import ConfigurationError
from koppel.models import Money, Order, Product
from koppel_local.reference import MISSING_REASON, reference_file
from koppel_local.simulators.shopify import ShopifySimulator

if TYPE_CHECKING:  # the fixtures' types; pytest provides conftest itself, it is not a package
    from helpers import FakeTime

TOKEN = "shpat_test_token"
SHOP = "koppel-demo.myshopify.com"
ENDPOINT = f"https://{SHOP}/admin/api/2025-04/graphql.json"
SINGLE_QUERY_MAX = 1000

needs_schema = pytest.mark.skipif(
    reference_file("shopify", "admin_2025-04.schema.graphql") is None, reason=MISSING_REASON
)


def item_of(simulator: ShopifySimulator, sku: str) -> str:
    return simulator.variant(sku)["inventory_item_id"]


def update(simulator: ShopifySimulator, sku: str, quantity: int) -> StockUpdate:
    return StockUpdate(sku=sku, quantity=quantity, channel_ref=item_of(simulator, sku))


def calls_of(simulator: ShopifySimulator, operation: str) -> list[dict[str, Any]]:
    return [call for call in simulator.calls if call["operation"] == operation]


def connector_with(http_client: httpx.Client, fake_time: FakeTime, **settings: Any) -> ShopifyConnector:
    return ShopifyConnector(http_client, TOKEN, ShopifySettings(shop_domain=SHOP, **settings), clock=fake_time.clock())


def test_the_connector_takes_stock_and_gives_stock_and_products(connector: ShopifyConnector) -> None:
    assert isinstance(connector, StockTarget)
    assert isinstance(connector, StockSource)
    assert isinstance(connector, ProductSource)
    assert isinstance(connector, InventoryItems)
    assert connector.max_batch == 250


# --- push_stock -----------------------------------------------------------------------------------
def test_pushed_stock_is_what_the_store_shows_as_available(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN 10 T-shirts and 3 mugs in the store, linked by their SKUs
    refs = connector.channel_refs([("TSHIRT-RED-M", ""), ("MUG-BLUE", "")])

    # WHEN koppel pushes 4 T-shirts and no mugs
    results = connector.push_stock(
        [StockUpdate("TSHIRT-RED-M", 4, refs["TSHIRT-RED-M"]), StockUpdate("MUG-BLUE", 0, refs["MUG-BLUE"])]
    )

    # THEN both are accepted and the merchant sees them in the inventory, with koppel as the source
    assert results == [StockPushResult("TSHIRT-RED-M", accepted=True), StockPushResult("MUG-BLUE", accepted=True)]
    assert (simulator.inventory("TSHIRT-RED-M"), simulator.inventory("MUG-BLUE")) == (4, 0)
    [adjustment] = simulator.adjustments
    assert adjustment["reason"] == "correction"
    assert adjustment["referenceDocumentUri"].startswith("koppel://")
    assert [change["location"]["id"] for change in adjustment["changes"]] == [simulator.locations[0]["id"]] * 2


def test_a_negative_quantity_is_sent_as_zero(connector: ShopifyConnector, simulator: ShopifySimulator) -> None:
    # GIVEN a backoffice that oversold: -2 mugs
    # WHEN koppel pushes it
    [result] = connector.push_stock([update(simulator, "MUG-BLUE", -2)])

    # THEN the store shows none left, not a refusal
    assert result.accepted is True
    assert simulator.inventory("MUG-BLUE") == 0


def test_600_skus_go_out_as_three_mutations_of_at_most_250(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN 600 SKUs in the store
    for number in range(600):
        simulator.add_variant(f"BULK-{number:03}", inventory=1)
    updates = [update(simulator, f"BULK-{number:03}", number) for number in range(600)]

    # WHEN koppel pushes them all at once
    results = connector.push_stock(updates)

    # THEN three mutations carried 250, 250 and 100 quantities, and every SKU has its number
    assert len(calls_of(simulator, "KoppelSetStock")) == 3
    assert [len(adjustment["changes"]) for adjustment in simulator.adjustments] == [250, 250, 100]
    assert all(result.accepted for result in results)
    assert [result.sku for result in results] == [u.sku for u in updates]
    assert simulator.inventory("BULK-000") == 0
    assert simulator.inventory("BULK-599") == 599


def test_an_unknown_inventory_item_is_refused_while_the_rest_land(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN one update for an inventory item the store no longer has, between two good ones
    updates = [
        update(simulator, "TSHIRT-RED-M", 6),
        StockUpdate("GONE", 5, "gid://shopify/InventoryItem/999999"),
        update(simulator, "MUG-BLUE", 1),
    ]

    # WHEN koppel pushes them
    results = connector.push_stock(updates)

    # THEN only that SKU is refused, with Shopify's reason, and the other two are in the store
    assert [(r.sku, r.accepted, r.retryable) for r in results] == [
        ("TSHIRT-RED-M", True, False),
        ("GONE", False, False),
        ("MUG-BLUE", True, False),
    ]
    assert "could not be found" in results[1].error
    assert (simulator.inventory("TSHIRT-RED-M"), simulator.inventory("MUG-BLUE")) == (6, 1)


def test_two_updates_for_one_item_send_the_last(connector: ShopifyConnector, simulator: ShopifySimulator) -> None:
    # GIVEN two backoffice SKUs linked to the same Shopify inventory item
    mug = item_of(simulator, "MUG-BLUE")

    results = connector.push_stock([StockUpdate("MUG-OLD", 2, mug), StockUpdate("MUG-NEW", 5, mug)])

    # THEN Shopify got one quantity (it refuses an item twice), the last one, and both count as set
    assert [(r.sku, r.accepted) for r in results] == [("MUG-OLD", True), ("MUG-NEW", True)]
    assert [len(adjustment["changes"]) for adjustment in simulator.adjustments] == [1]
    assert simulator.inventory("MUG-BLUE") == 5


def test_an_update_without_an_inventory_item_is_refused_without_asking_shopify(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    [result] = connector.push_stock([StockUpdate("UNLINKED", 3, "")])

    assert result.accepted is False
    assert result.error
    assert calls_of(simulator, "KoppelSetStock") == []


def test_stock_goes_to_the_accounts_location(
    http_client: httpx.Client, simulator: ShopifySimulator, fake_time: FakeTime
) -> None:
    # GIVEN a second location, the account's, where the mug is stocked too
    warehouse = simulator.add_location("Warehouse Tilburg")
    simulator.set_inventory("MUG-BLUE", 20, location=warehouse["id"])
    number = warehouse["id"].rsplit("/", 1)[-1]
    connector = connector_with(http_client, fake_time, location_id=number)

    # WHEN koppel pushes 7 mugs
    [result] = connector.push_stock([update(simulator, "MUG-BLUE", 7)])

    # THEN the warehouse has 7, the shop's own location kept its 3, and no location lookup was needed
    assert result.accepted is True
    assert simulator.inventory("MUG-BLUE", location=number) == 7
    assert simulator.inventory("MUG-BLUE", location=simulator.locations[0]["id"]) == 3
    assert calls_of(simulator, "KoppelLocations") == []


def test_without_a_location_setting_the_shops_location_is_looked_up_once(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    connector.push_stock([update(simulator, "MUG-BLUE", 1)])
    connector.push_stock([update(simulator, "MUG-BLUE", 2)])

    assert len(calls_of(simulator, "KoppelLocations")) == 1
    assert simulator.inventory("MUG-BLUE") == 2


def test_an_item_not_stocked_at_the_location_is_refused_for_that_sku(
    http_client: httpx.Client, simulator: ShopifySimulator, fake_time: FakeTime
) -> None:
    # GIVEN the account's location stocks the T-shirt but not the mug
    warehouse = simulator.add_location("Warehouse")
    simulator.set_inventory("TSHIRT-RED-M", 1, location=warehouse["id"])
    connector = connector_with(http_client, fake_time, location_id=warehouse["id"])

    results = connector.push_stock([update(simulator, "TSHIRT-RED-M", 9), update(simulator, "MUG-BLUE", 9)])

    assert [(r.sku, r.accepted) for r in results] == [("TSHIRT-RED-M", True), ("MUG-BLUE", False)]
    assert "not stocked at the location" in results[1].error
    assert simulator.inventory("TSHIRT-RED-M", location=warehouse["id"]) == 9


def test_a_throttled_push_waits_for_the_bucket_and_lands(
    connector: ShopifyConnector, simulator: ShopifySimulator, fake_time: FakeTime
) -> None:
    # GIVEN a push went through, and then the store's bucket was drained by other calls
    connector.push_stock([update(simulator, "MUG-BLUE", 1)])
    simulator.set_available(5)

    # WHEN koppel pushes again
    [result] = connector.push_stock([update(simulator, "MUG-BLUE", 8)])

    # THEN Shopify throttled once, koppel waited (requested - available) / restore rate, and it landed
    assert result.accepted is True
    assert simulator.throttled == 1
    requested = simulator.last_cost["requestedQueryCost"]
    assert fake_time.sleeps == [pytest.approx((requested - 5) / 100)]
    assert simulator.inventory("MUG-BLUE") == 8


@pytest.mark.parametrize("after_execution", [False, True])
def test_an_outage_leaves_the_push_retryable(
    connector: ShopifyConnector, simulator: ShopifySimulator, after_execution: bool
) -> None:
    # GIVEN Shopify fails the mutation (before or after running it)
    simulator.fail_next(1, status=503, after_execution=after_execution, operation="inventorySetQuantities")

    # WHEN koppel pushes
    results = connector.push_stock([update(simulator, "MUG-BLUE", 5), update(simulator, "TSHIRT-RED-M", 5)])

    # THEN no SKU counts as refused: each is to be tried again later
    assert [(r.accepted, r.retryable) for r in results] == [(False, True), (False, True)]
    assert len(calls_of(simulator, "KoppelSetStock")) == 1  # mutations are not re-sent within the call


# --- channel_refs ---------------------------------------------------------------------------------
def test_channel_refs_match_whole_skus_then_barcodes(connector: ShopifyConnector, simulator: ShopifySimulator) -> None:
    # GIVEN a longer SKU that Shopify's word search also finds, and a duplicated SKU
    simulator.add_variant("MUG-BLUE-XL", barcode="8712345678920")
    simulator.add_variant("TWIN", title="Twin A")
    simulator.add_variant("TWIN", title="Twin B")

    # WHEN koppel links its SKUs
    refs = connector.channel_refs(
        [
            ("MUG-BLUE", ""),
            ("OLD-SKU", "8712345678906"),  # renamed in Shopify: the barcode still matches
            ("TWIN", ""),
            ("NOT-THERE", "0000000000000"),
            ("MUG-BLUE-X", ""),
        ]
    )

    # THEN exact matches only: the SKU, else the barcode; shared and unknown SKUs are left out
    assert refs == {
        "MUG-BLUE": item_of(simulator, "MUG-BLUE"),
        "OLD-SKU": item_of(simulator, "TSHIRT-RED-M"),
    }


def test_channel_refs_search_several_skus_in_one_query(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    for number in range(60):
        simulator.add_variant(f"LINKED-{number}")

    refs = connector.channel_refs([(f"LINKED-{number}", "") for number in range(60)])

    assert len(refs) == 60
    assert len(calls_of(simulator, "KoppelVariantsBy")) == 2  # 50 SKUs per search


# --- sku_for_inventory_item -----------------------------------------------------------------------
def test_the_sku_of_an_inventory_levels_update_webhook(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN an inventory_levels/update webhook: numeric ids, no SKU (Shopify's sample payload shape)
    item_number = int(item_of(simulator, "MUG-BLUE").rsplit("/", 1)[-1])
    webhook = {
        "inventory_item_id": item_number,
        "location_id": int(simulator.locations[0]["id"].rsplit("/", 1)[-1]),
        "available": 6,
        "updated_at": "2025-05-01T12:00:00+02:00",
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/1?inventory_item_id={item_number}",
    }

    # WHEN koppel asks which SKU it is
    sku = connector.sku_for_inventory_item(webhook["inventory_item_id"])

    # THEN it is the mug, by numeric id or by gid
    assert sku == "MUG-BLUE"
    assert connector.sku_for_inventory_item(item_of(simulator, "TSHIRT-RED-M")) == "TSHIRT-RED-M"


def test_an_inventory_item_without_a_sku_has_an_empty_sku(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    simulator.add_variant("", title="Gift wrap")

    assert connector.sku_for_inventory_item(simulator.variants[-1]["inventory_item_id"]) == ""
    assert connector.sku_for_inventory_item("999999") == ""


# --- inventory_item_at ----------------------------------------------------------------------------
def test_an_inventory_levels_update_names_the_sku_and_its_on_hand_at_that_location(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN 6 mugs free and 2 held by open orders at the shop's location
    location = simulator.locations[0]["id"]
    simulator.set_inventory("MUG-BLUE", 6, location=location, committed=2)

    # WHEN a webhook names the mug's inventory item and the location by their numbers
    found = connector.inventory_item_at(item_of(simulator, "MUG-BLUE").rsplit("/", 1)[-1], location.rsplit("/", 1)[-1])

    # THEN it is the mug, with 8 on hand there
    assert found == ("MUG-BLUE", 8)


def test_an_inventory_item_not_stocked_at_the_location_has_no_on_hand(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    elsewhere = simulator.add_location("Pop-up store")["id"]

    assert connector.inventory_item_at(item_of(simulator, "MUG-BLUE"), elsewhere) == ("MUG-BLUE", None)


# --- stock_page -----------------------------------------------------------------------------------
def all_stock(connector: ShopifyConnector) -> tuple[list[Any], int]:
    levels, pages, cursor = [], 0, None
    while True:
        page = connector.stock_page(cursor)
        levels.extend(page.levels)
        pages += 1
        cursor = page.cursor
        if cursor is None:
            return levels, pages


def test_stock_pages_give_on_hand_and_backorders_per_location(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN 70 more SKUs, one stocked at two locations with units committed to orders, and SKUs
    # koppel cannot use: untracked, and without a SKU
    warehouse = simulator.add_location("Warehouse")
    for number in range(70):
        simulator.add_variant(f"STOCK-{number:02}", inventory=number)
    moment = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
    simulator.add_variant(
        "SPLIT",
        stock={simulator.locations[0]["id"]: 4, warehouse["id"]: 10},
        committed=3,
        updated_at=moment,
    )
    simulator.add_variant("SERVICE", tracked=False, inventory=0)
    simulator.add_variant("", title="No SKU", inventory=5)

    # WHEN koppel reads all stock page by page
    levels, pages = all_stock(connector)

    # THEN 75 items took 3 pages; each level is per numeric location id, on hand and what is not free
    assert pages == 3
    by_key = {(level.sku, level.warehouse): level for level in levels}
    shop, store = (location["id"].rsplit("/", 1)[-1] for location in (simulator.locations[0], warehouse))
    assert (by_key["SPLIT", shop].on_hand, by_key["SPLIT", shop].backorders) == (7, 3)
    assert (by_key["SPLIT", store].on_hand, by_key["SPLIT", store].backorders) == (10, 0)
    assert by_key["SPLIT", shop].free == 4
    assert by_key["SPLIT", shop].observed_at == moment
    assert by_key["STOCK-69", shop].on_hand == 69
    assert by_key["TSHIRT-RED-M", shop].on_hand == 10
    assert len(levels) == 2 + 70 + 2
    assert {level.sku for level in levels}.isdisjoint({"SERVICE", ""})
    assert all(call["cost"] < SINGLE_QUERY_MAX for call in calls_of(simulator, "KoppelStockPage"))


def test_an_order_shows_as_backorders_until_it_ships(
    connector: ShopifyConnector, simulator: ShopifySimulator, make_order: Callable[..., Order]
) -> None:
    # GIVEN koppel created an order for 2 of the 10 T-shirts
    created = connector.create_order(make_order("123"), tag="koppel")

    # THEN the T-shirts on hand are still 10, of which 2 are promised
    tshirt = next(level for level in connector.stock_page(None).levels if level.sku == "TSHIRT-RED-M")
    assert (tshirt.on_hand, tshirt.backorders) == (10, 2)

    # WHEN the merchant ships the order
    simulator.fulfill(created.backoffice_order_id, tracking_numbers=["3SABC"])

    # THEN 8 are on hand and none promised
    tshirt = next(level for level in connector.stock_page(None).levels if level.sku == "TSHIRT-RED-M")
    assert (tshirt.on_hand, tshirt.backorders) == (8, 0)


def test_an_item_at_many_locations_has_all_its_levels(connector: ShopifyConnector, simulator: ShopifySimulator) -> None:
    # GIVEN a SKU stocked at 8 locations, more than one stock page reads per item
    locations = [simulator.add_location(f"Store {number}") for number in range(8)]
    simulator.add_variant("EVERYWHERE", stock={location["id"]: index for index, location in enumerate(locations)})

    levels, _ = all_stock(connector)

    everywhere = sorted(level.on_hand for level in levels if level.sku == "EVERYWHERE")
    assert everywhere == list(range(8))


# --- product_page ---------------------------------------------------------------------------------
def all_products(connector: ShopifyConnector, price_list: str = "") -> tuple[dict[str, Product], int]:
    products: dict[str, Product] = {}
    pages, cursor = 0, None
    while True:
        page = connector.product_page(cursor, price_list=price_list)
        products.update((product.sku, product) for product in page.products)
        pages += 1
        cursor = page.cursor
        if cursor is None:
            return products, pages


def seed_catalog(simulator: ShopifySimulator) -> None:
    shirt = simulator.add_variant(
        "SHIRT-S",
        barcode="8712345678937",
        title="Linen shirt",
        variant_title="Small",
        price="39.95",
        compare_at_price="49.95",
        product_type="Shirts",
        category="Shirts & Tops",
        vendor="Linnen & Co",
        tags=("summer", "linen"),
        product_image_url="https://cdn.shopify.com/shirt.jpg",
        weight="0.25",
        weight_unit="KILOGRAMS",
        inventory=12,
    )
    simulator.add_variant(
        "SHIRT-L",
        title="ignored: the product's title counts",
        variant_title="Large",
        price="39.95",
        compare_at_price="39.95",  # not higher: no sale
        product_id=shirt["product_id"],
        image_url="https://cdn.shopify.com/shirt-large.jpg",
        weight="10",
        weight_unit="OUNCES",
    )
    simulator.add_variant("GIFT-CARD", title="Gift card", price="25.00", tracked=False, category="Gift Cards")


def test_products_carry_prices_images_weights_and_grouping(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN a shirt in two sizes, the small one on sale, and a gift card without tracked stock
    seed_catalog(simulator)

    # WHEN koppel reads the products
    products, _ = all_products(connector)

    # THEN each variant is a product with exact prices in the shop's currency
    small, large, gift = products["SHIRT-S"], products["SHIRT-L"], products["GIFT-CARD"]
    assert small == Product(
        sku="SHIRT-S",
        title="Linen shirt - Small",
        ean="8712345678937",
        price=Money(amount=Decimal("49.95"), currency="EUR"),
        sale_price=Money(amount=Decimal("39.95"), currency="EUR"),
        stock_managed=True,
        quantity=12,
        image_url="https://cdn.shopify.com/shirt.jpg",
        weight_grams=250,
        category="Shirts",
        group="Linnen & Co",
    )
    assert isinstance(small.price.amount, Decimal)  # type: ignore[union-attr]
    assert (large.title, large.price, large.sale_price) == ("Linen shirt - Large", small.sale_price, None)
    assert large.image_url == "https://cdn.shopify.com/shirt-large.jpg"  # the variant's own image first
    assert large.weight_grams == 283  # 10 oz
    assert (gift.title, gift.stock_managed, gift.category, gift.weight_grams) == (
        "Gift card",
        False,
        "Gift Cards",
        None,
    )
    assert products["MUG-BLUE"].title == "Mug blue"


def test_product_prices_are_in_the_shops_currency(connector: ShopifyConnector, simulator: ShopifySimulator) -> None:
    simulator.shop_currency = "SEK"

    products, _ = all_products(connector)

    assert products["MUG-BLUE"].price == Money(amount=Decimal("8.50"), currency="SEK")


def test_product_pages_follow_the_cursor_within_the_cost_limit(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    for number in range(120):
        simulator.add_variant(f"CAT-{number:03}", price="1.00")
    simulator.add_variant("", title="No SKU")

    products, pages = all_products(connector)

    assert pages == 3  # 123 variants, 50 per page
    assert len(products) == 122
    assert all(call["cost"] < SINGLE_QUERY_MAX for call in calls_of(simulator, "KoppelProductPage"))


def test_a_price_list_gives_only_its_products_at_its_prices(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN a Danish price list with the small shirt on sale and the mug, not the rest
    seed_catalog(simulator)
    price_list = simulator.add_price_list(
        "Denmark", {"SHIRT-S": ("299.00", "349.00"), "MUG-BLUE": "65.00"}, currency="DKK"
    )

    # WHEN koppel reads products for that price list
    products, _ = all_products(connector, price_list=price_list["id"])

    # THEN only those two, at the list's prices in its currency
    assert set(products) == {"SHIRT-S", "MUG-BLUE"}
    assert products["SHIRT-S"].price == Money(amount=Decimal("349.00"), currency="DKK")
    assert products["SHIRT-S"].sale_price == Money(amount=Decimal("299.00"), currency="DKK")
    assert (products["MUG-BLUE"].price, products["MUG-BLUE"].sale_price) == (
        Money(amount=Decimal("65.00"), currency="DKK"),
        None,
    )
    assert products["SHIRT-S"].weight_grams == 250
    assert all(call["cost"] < SINGLE_QUERY_MAX for call in calls_of(simulator, "KoppelPriceListPage"))


def test_an_unknown_price_list_is_a_configuration_error(connector: ShopifyConnector) -> None:
    with pytest.raises(ConfigurationError):
        connector.product_page(None, price_list="gid://shopify/PriceList/424242")


# --- the simulator's inventorySetQuantities ---------------------------------------------------------
SET_QUANTITIES = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}"""


def set_quantities(http_client: httpx.Client, **given: Any) -> dict[str, Any]:
    answer = http_client.post(
        ENDPOINT,
        json={"query": SET_QUANTITIES, "variables": {"input": given}},
        headers={"X-Shopify-Access-Token": TOKEN},
    )
    return answer.json()["data"]["inventorySetQuantities"]


def test_simulator_refuses_a_negative_quantity_and_sets_none_of_the_batch(
    http_client: httpx.Client, simulator: ShopifySimulator
) -> None:
    location = simulator.locations[0]["id"]
    payload = set_quantities(
        http_client,
        name="available",
        reason="correction",
        ignoreCompareQuantity=True,
        quantities=[
            {"inventoryItemId": item_of(simulator, "MUG-BLUE"), "locationId": location, "quantity": 9},
            {"inventoryItemId": item_of(simulator, "TSHIRT-RED-M"), "locationId": location, "quantity": -1},
        ],
    )

    assert payload["inventoryAdjustmentGroup"] is None
    assert payload["userErrors"] == [
        {
            "field": ["input", "quantities", "1", "quantity"],
            "message": "The quantity can't be negative.",
            "code": "INVALID_QUANTITY_NEGATIVE",
        }
    ]
    assert simulator.inventory("MUG-BLUE") == 3


def test_simulator_wants_a_compare_quantity_unless_told_to_ignore_it(
    http_client: httpx.Client, simulator: ShopifySimulator
) -> None:
    quantity = {"inventoryItemId": item_of(simulator, "MUG-BLUE"), "locationId": simulator.locations[0]["id"]}

    missing = set_quantities(
        http_client, name="available", reason="correction", quantities=[{**quantity, "quantity": 5}]
    )
    stale = set_quantities(
        http_client,
        name="available",
        reason="correction",
        quantities=[{**quantity, "quantity": 5, "compareQuantity": 1}],
    )
    fresh = set_quantities(
        http_client, name="on_hand", reason="correction", quantities=[{**quantity, "quantity": 5, "compareQuantity": 3}]
    )

    assert missing["userErrors"][0]["code"] == "COMPARE_QUANTITY_REQUIRED"
    assert stale["userErrors"][0]["code"] == "COMPARE_QUANTITY_STALE"
    assert fresh["userErrors"] == []
    assert fresh["inventoryAdjustmentGroup"]["changes"] == [{"name": "on_hand", "delta": 2, "quantityAfterChange": 5}]
    assert simulator.quantities("MUG-BLUE") == {"available": 5, "committed": 0, "on_hand": 5}


def test_simulator_refuses_an_unknown_reason(http_client: httpx.Client, simulator: ShopifySimulator) -> None:
    payload = set_quantities(http_client, name="available", reason="because", ignoreCompareQuantity=True, quantities=[])

    assert payload["userErrors"][0]["code"] == "INVALID_REASON"


# --- schema -----------------------------------------------------------------------------------------
@needs_schema
def test_every_stock_and_product_document_fits_the_2025_04_schema(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    seed_catalog(simulator)
    price_list = simulator.add_price_list("Denmark", {"MUG-BLUE": "65.00"}, currency="DKK")
    many = simulator.add_location("Extra")
    for number in range(6):
        simulator.set_inventory("MUG-BLUE", number, location=simulator.add_location(f"Shop {number}")["id"])
    simulator.set_inventory("MUG-BLUE", 1, location=many["id"])

    refs = connector.channel_refs([("MUG-BLUE", ""), ("NOPE", "8712345678906")])
    connector.push_stock([StockUpdate(sku, 1, ref) for sku, ref in refs.items()])
    connector.sku_for_inventory_item(refs["MUG-BLUE"])
    connector.inventory_item_at(refs["MUG-BLUE"], many["id"])
    all_stock(connector)
    all_products(connector)
    all_products(connector, price_list=price_list["id"])

    assert simulator.validating is True
    assert simulator.violations == []
    assert {call["operation"] for call in simulator.calls} == {
        "KoppelVariantsBy",
        "KoppelLocations",
        "KoppelSetStock",
        "KoppelInventoryItemSku",
        "KoppelInventoryItemAt",
        "KoppelStockPage",
        "KoppelItemLevels",
        "KoppelProductPage",
        "KoppelPriceListPage",
    }
    assert not any(call.get("refused") for call in simulator.calls)
