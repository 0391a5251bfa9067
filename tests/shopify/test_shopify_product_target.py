"""Shopify as a channel of another backoffice (a KORONA POS, say): koppel keeps product data current
on the products the store already has, matched by SKU, against the simulated store."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from koppel.connectors.base import ProductPushResult, ProductTarget, ProductUpdate
from koppel.connectors.shopify.connector import ShopifyConnector
from koppel.connectors.shopify.settings import ShopifySettings
from koppel.errors import AuthenticationFailed
from koppel.models import Money, Product
from koppel_local.reference import MISSING_REASON, reference_file
from koppel_local.simulators.shopify import ShopifySimulator

if TYPE_CHECKING:  # the fixtures' types; pytest provides conftest itself, it is not a package
    from helpers import FakeTime

SHOP = "koppel-demo.myshopify.com"
OLD_IMAGE = "https://cdn.shopify.com/s/files/mug-old.jpg"
NEW_IMAGE = "https://korona.example.com/images/mug-new.jpg"

needs_schema = pytest.mark.skipif(
    reference_file("shopify", "admin_2025-04.schema.graphql") is None, reason=MISSING_REASON
)


def euro(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def product(sku: str, **fields: Any) -> Product:
    """What the backoffice says about a SKU; only the fields a test names differ from the store's."""
    defaults: dict[str, Any] = {"title": sku, "price": euro("8.50")}
    return Product(sku=sku, **(defaults | fields))


def update_for(simulator: ShopifySimulator, item: Product, *, image_changed: bool = False) -> ProductUpdate:
    return ProductUpdate(product=item, channel_ref=simulator.variant(item.sku)["id"], image_changed=image_changed)


def calls_of(simulator: ShopifySimulator, operation: str) -> list[dict[str, Any]]:
    return [call for call in simulator.calls if call["operation"] == operation]


@pytest.fixture
def sent(http_client: httpx.Client) -> list[dict[str, Any]]:
    """Every GraphQL body koppel sends, as Shopify receives it."""
    bodies: list[dict[str, Any]] = []
    http_client.event_hooks["request"].append(lambda request: bodies.append(json.loads(request.read())))
    return bodies


@pytest.fixture
def mug_with_image(simulator: ShopifySimulator) -> dict[str, Any]:
    """A mug in the store whose product already shows an image."""
    return simulator.add_variant(
        "MUG-GREEN", barcode="8712345678944", title="Mug green", price="9.50", product_image_url=OLD_IMAGE
    )


@pytest.fixture
def shirt_sizes(simulator: ShopifySimulator) -> Callable[[], list[dict[str, Any]]]:
    """A shirt in two sizes: one product, two variants."""

    def seed() -> list[dict[str, Any]]:
        small = simulator.add_variant("SHIRT-S", title="Linen shirt", variant_title="S", price="39.95")
        large = simulator.add_variant(
            "SHIRT-L", title="Linen shirt", variant_title="L", price="39.95", product_id=small["product_id"]
        )
        return [small, large]

    return seed


def test_the_connector_keeps_products_current_on_a_channel_store(connector: ShopifyConnector) -> None:
    assert isinstance(connector, ProductTarget)
    assert connector.max_batch == 250


# --- product_refs ---------------------------------------------------------------------------------
def test_product_refs_link_whole_skus_then_barcodes_to_variants(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN a longer SKU that Shopify's word search also finds, and a SKU two variants share
    simulator.add_variant("MUG-BLUE-XL", barcode="8712345678920")
    simulator.add_variant("TWIN", title="Twin A")
    simulator.add_variant("TWIN", title="Twin B")

    # WHEN koppel links the POS's SKUs
    refs = connector.product_refs(
        [
            ("MUG-BLUE", ""),
            ("OLD-SKU", "8712345678906"),  # renamed in Shopify: the barcode still matches
            ("TWIN", ""),
            ("NOT-THERE", "0000000000000"),
        ]
    )

    # THEN each linked SKU names its variant (not its inventory item); shared and unknown ones are left out
    assert refs == {
        "MUG-BLUE": simulator.variant("MUG-BLUE")["id"],
        "OLD-SKU": simulator.variant("TSHIRT-RED-M")["id"],
    }


# --- prices ---------------------------------------------------------------------------------------
def test_a_sale_shows_as_the_price_with_the_regular_price_struck_through(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN the POS sells the mug at 6.95 instead of its regular 8.50
    item = product("MUG-BLUE", price=euro("8.50"), sale_price=euro("6.95"))

    # WHEN koppel pushes it
    results = connector.push_products([update_for(simulator, item)])

    # THEN the store's price is the sale price and compare-at the regular one, to the cent, in euros
    assert results == [ProductPushResult("MUG-BLUE", accepted=True)]
    variant = simulator.variant("MUG-BLUE")
    assert (variant["price"], variant["compare_at_price"]) == (Decimal("6.95"), Decimal("8.50"))
    assert isinstance(variant["price"], Decimal)
    [read_back] = [p for p in connector.product_page(None).products if p.sku == "MUG-BLUE"]
    assert (read_back.price, read_back.sale_price) == (euro("8.50"), euro("6.95"))


def test_without_a_sale_the_compare_at_price_is_cleared(
    connector: ShopifyConnector, simulator: ShopifySimulator, sent: list[dict[str, Any]]
) -> None:
    # GIVEN the store still shows an old sale on the T-shirt, and the POS has no sale (a "sale" price
    # above the regular one is none either)
    simulator.add_variant("CAP", price="12.00", compare_at_price="15.00")
    simulator.variant("TSHIRT-RED-M")["compare_at_price"] = Decimal("24.95")
    items = [
        product("TSHIRT-RED-M", price=euro("21.50")),
        product("CAP", price=euro("13.00"), sale_price=euro("14.00")),
    ]

    # WHEN koppel pushes them
    results = connector.push_products([update_for(simulator, item) for item in items])

    # THEN each shows its regular price and no compare-at price; the prices went out as decimal strings
    assert all(result.accepted for result in results)
    shirt, cap = simulator.variant("TSHIRT-RED-M"), simulator.variant("CAP")
    assert (shirt["price"], shirt["compare_at_price"]) == (Decimal("21.50"), None)
    assert (cap["price"], cap["compare_at_price"]) == (Decimal("13.00"), None)
    prices = [v["price"] for body in sent if "variants" in body["variables"] for v in body["variables"]["variants"]]
    assert prices == ["21.50", "13.00"]


def test_a_price_in_another_currency_than_the_shops_is_refused(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN a euro shop and a price list in dollars
    item = product("MUG-BLUE", price=Money(amount=Decimal("9.99"), currency="USD"))

    # WHEN koppel pushes it
    [result] = connector.push_products([update_for(simulator, item)])

    # THEN the SKU is refused with the reason, and the euro price stays
    assert (result.accepted, result.retryable) == (False, False)
    assert "USD" in result.error and "EUR" in result.error
    assert simulator.variant("MUG-BLUE")["price"] == Decimal("8.50")


# --- barcode, tracking, weight --------------------------------------------------------------------
def test_barcode_weight_and_stock_tracking_land_on_the_variant(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN the POS has a new EAN and a weight for the mug, and does not count its stock
    item = product("MUG-BLUE", ean="8719999000012", weight_grams=350, stock_managed=False)

    # WHEN koppel pushes it
    [result] = connector.push_products([update_for(simulator, item)])

    # THEN the store shows that barcode, 350 grams, and no inventory tracking
    assert result.accepted is True
    variant = simulator.variant("MUG-BLUE")
    assert variant["barcode"] == "8719999000012"
    assert (variant["weight"], variant["weight_unit"]) == (Decimal(350), "GRAMS")
    assert variant["tracked"] is False


def test_an_empty_ean_and_unknown_weight_leave_the_stores_values(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN a variant with a barcode and a weight in kilograms, and a POS that knows neither
    simulator.add_variant("KETTLE", barcode="8712345678999", weight="1.2", weight_unit="KILOGRAMS")

    # WHEN koppel pushes the kettle
    [result] = connector.push_products([update_for(simulator, product("KETTLE"))])

    # THEN the barcode and weight stay as the merchant set them
    assert result.accepted is True
    kettle = simulator.variant("KETTLE")
    assert (kettle["barcode"], kettle["weight"], kettle["weight_unit"]) == (
        "8712345678999",
        Decimal("1.2"),
        "KILOGRAMS",
    )


# --- title ----------------------------------------------------------------------------------------
def test_the_title_changes_on_a_product_with_one_variant(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN the POS renamed the mug
    item = product("MUG-BLUE", title="Mug blue, 300 ml")

    # WHEN koppel pushes it
    [result] = connector.push_products([update_for(simulator, item)])

    # THEN the store's product carries the new title
    assert result.accepted is True
    assert simulator.product_of("MUG-BLUE")["title"] == "Mug blue, 300 ml"


def test_an_unchanged_title_costs_no_call(connector: ShopifyConnector, simulator: ShopifySimulator) -> None:
    # GIVEN the POS's title is the store's
    [result] = connector.push_products([update_for(simulator, product("MUG-BLUE", title="Mug blue"))])

    # THEN nothing renames the product
    assert result.accepted is True
    assert calls_of(simulator, "KoppelUpdateProduct") == []


def test_the_title_of_a_product_with_several_variants_stays(
    connector: ShopifyConnector, simulator: ShopifySimulator, shirt_sizes: Callable[[], list[dict[str, Any]]]
) -> None:
    # GIVEN a shirt in two sizes, and a POS that names one of its SKUs differently
    shirt_sizes()
    items = [
        product("SHIRT-S", title="Linen shirt S", price=euro("34.95")),
        product("SHIRT-L", title="Linen shirt L", price=euro("36.95")),
    ]

    # WHEN koppel pushes both sizes
    results = connector.push_products([update_for(simulator, item) for item in items])

    # THEN both prices land in one mutation, and the product's title is left alone
    assert [result.accepted for result in results] == [True, True]
    assert (simulator.variant("SHIRT-S")["price"], simulator.variant("SHIRT-L")["price"]) == (
        Decimal("34.95"),
        Decimal("36.95"),
    )
    assert len(calls_of(simulator, "KoppelUpdateVariants")) == 1
    assert simulator.product_of("SHIRT-S")["title"] == "Linen shirt"
    assert calls_of(simulator, "KoppelUpdateProduct") == []


# --- image ----------------------------------------------------------------------------------------
def test_a_changed_image_is_added_as_new_media_and_the_old_one_stays(
    connector: ShopifyConnector, simulator: ShopifySimulator, mug_with_image: dict[str, Any]
) -> None:
    # GIVEN a new photo of the mug in the POS
    item = product("MUG-GREEN", title="Mug green", price=euro("9.50"), image_url=NEW_IMAGE)

    # WHEN koppel pushes it as changed
    [result] = connector.push_products([update_for(simulator, item, image_changed=True)])

    # THEN the product has both images, and the variant shows the new one
    assert result.accepted is True
    assert simulator.media_of("MUG-GREEN") == [OLD_IMAGE, NEW_IMAGE]
    assert simulator.variant("MUG-GREEN")["image_url"] == NEW_IMAGE


def test_an_unchanged_image_is_not_sent(
    connector: ShopifyConnector,
    simulator: ShopifySimulator,
    mug_with_image: dict[str, Any],
    sent: list[dict[str, Any]],
) -> None:
    # GIVEN the POS's image is the one sent last time
    item = product("MUG-GREEN", title="Mug green", price=euro("9.95"), image_url=NEW_IMAGE)

    # WHEN koppel pushes the new price
    [result] = connector.push_products([update_for(simulator, item, image_changed=False)])

    # THEN the price lands and no image goes out: no media, no variant image
    assert result.accepted is True
    assert simulator.variant("MUG-GREEN")["price"] == Decimal("9.95")
    assert simulator.media_of("MUG-GREEN") == [OLD_IMAGE]
    [mutation] = [body for body in sent if body["operationName"] == "KoppelUpdateVariants"]
    assert mutation["variables"]["media"] is None
    assert all("mediaSrc" not in variant for variant in mutation["variables"]["variants"])


def test_an_image_shopify_cannot_fetch_is_refused_for_its_sku(
    connector: ShopifyConnector, simulator: ShopifySimulator, mug_with_image: dict[str, Any]
) -> None:
    # GIVEN an image path that is no URL
    item = product("MUG-GREEN", title="Mug green", image_url="C:/images/mug.jpg")

    # WHEN koppel pushes it as changed
    [result] = connector.push_products([update_for(simulator, item, image_changed=True)])

    # THEN Shopify's message tells the operator, and the old image stays
    assert (result.accepted, result.retryable) == (False, False)
    assert "Image URL is invalid" in result.error
    assert simulator.media_of("MUG-GREEN") == [OLD_IMAGE]


# --- refusals and failures ------------------------------------------------------------------------
def test_an_unknown_variant_is_refused_while_the_rest_land(
    connector: ShopifyConnector, simulator: ShopifySimulator
) -> None:
    # GIVEN one SKU whose variant the merchant deleted, between two that exist, and one never linked
    updates = [
        update_for(simulator, product("TSHIRT-RED-M", title="T-shirt red M", price=euro("18.00"))),
        ProductUpdate(product("GONE"), channel_ref="gid://shopify/ProductVariant/999999"),
        update_for(simulator, product("MUG-BLUE", title="Mug blue", price=euro("7.00"))),
        ProductUpdate(product("UNLINKED"), channel_ref=""),
    ]

    # WHEN koppel pushes them
    results = connector.push_products(updates)

    # THEN one result per update, in order: the unknown ones refused, the others in the store
    assert [(r.sku, r.accepted, r.retryable) for r in results] == [
        ("TSHIRT-RED-M", True, False),
        ("GONE", False, False),
        ("MUG-BLUE", True, False),
        ("UNLINKED", False, False),
    ]
    assert "no such variant" in results[1].error
    assert (simulator.variant("TSHIRT-RED-M")["price"], simulator.variant("MUG-BLUE")["price"]) == (
        Decimal("18.00"),
        Decimal("7.00"),
    )


def test_a_refused_variant_does_not_hold_back_its_sibling(
    connector: ShopifyConnector, simulator: ShopifySimulator, shirt_sizes: Callable[[], list[dict[str, Any]]]
) -> None:
    # GIVEN a negative price for one size of the shirt
    shirt_sizes()
    items = [product("SHIRT-S", price=euro("-1.00")), product("SHIRT-L", price=euro("36.95"))]

    # WHEN koppel pushes both
    small, large = connector.push_products([update_for(simulator, item) for item in items])

    # THEN the small one is refused with Shopify's message, the large one has its price
    assert (small.accepted, small.retryable) == (False, False)
    assert small.error == "Price must be greater than or equal to 0"
    assert large.accepted is True
    assert simulator.variant("SHIRT-S")["price"] == Decimal("39.95")
    assert simulator.variant("SHIRT-L")["price"] == Decimal("36.95")


@pytest.mark.parametrize("after_execution", [False, True])
def test_an_outage_leaves_the_product_retryable(
    connector: ShopifyConnector, simulator: ShopifySimulator, after_execution: bool
) -> None:
    # GIVEN Shopify fails the update (before or after running it)
    simulator.fail_next(1, status=503, after_execution=after_execution, operation="productVariantsBulkUpdate")

    # WHEN koppel pushes
    [result] = connector.push_products([update_for(simulator, product("MUG-BLUE", title="Mug blue"))])

    # THEN the SKU is to be tried again later, and the mutation was not re-sent within the call
    assert (result.accepted, result.retryable) == (False, True)
    assert len(calls_of(simulator, "KoppelUpdateVariants")) == 1


def test_a_wrong_token_raises_instead_of_refusing_every_sku(
    http_client: httpx.Client, simulator: ShopifySimulator, fake_time: FakeTime
) -> None:
    # GIVEN an access token the shop no longer accepts
    wrong = ShopifyConnector(http_client, "shpat_revoked", ShopifySettings(shop_domain=SHOP), clock=fake_time.clock())

    # WHEN koppel pushes THEN the account's problem is raised, not blamed on the SKU
    with pytest.raises(AuthenticationFailed):
        wrong.push_products([update_for(simulator, product("MUG-BLUE"))])


# --- schema -----------------------------------------------------------------------------------------
@needs_schema
def test_every_product_target_document_fits_the_2025_04_schema(
    connector: ShopifyConnector, simulator: ShopifySimulator, mug_with_image: dict[str, Any]
) -> None:
    refs = connector.product_refs([("MUG-GREEN", ""), ("NOPE", "8712345678906")])
    item = product(
        "MUG-GREEN",
        title="Mug green, 300 ml",
        ean="8719999000029",
        price=euro("9.50"),
        sale_price=euro("7.95"),
        weight_grams=410,
        image_url=NEW_IMAGE,
    )
    results = connector.push_products([ProductUpdate(item, refs["MUG-GREEN"], image_changed=True)])

    assert all(result.accepted for result in results)
    assert simulator.validating is True
    assert simulator.violations == []
    assert {call["operation"] for call in simulator.calls} == {
        "KoppelVariantsBy",
        "KoppelVariantOwners",
        "KoppelUpdateVariants",
        "KoppelUpdateProduct",
    }
    assert not any(call.get("refused") for call in simulator.calls)
