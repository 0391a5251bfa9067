"""KORONA articles to the Shopify webshop (flow 6): name, price from the "Shopify" price group,
stock tracking and the picture, for the SKUs the webshop has; each run reads only the articles
KORONA changed since the last one (its revisions).

Through the deployed product-sync handler, with KORONA and Shopify as simulators on 127.0.0.1.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import product_sync
import pytest
from helpers import Invocation
from scenarios import schedule_event
from werkzeug.serving import make_server

from koppel import wiring
from koppel.config import Link
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.korona import DEMO_PASSWORD, DEMO_USER, KoronaSimulator, load_contract
from koppel_local.simulators.shopify import ShopifySimulator

LINK = "till-to-shop"
SYNC = Invocation(function_name="ProductSyncFunction", timeout=600)
OLD_IMAGE = "https://cdn.example/mug-old.jpg"


class Catalogue:
    def __init__(self, till: KoronaSimulator, shop: ShopifySimulator, groups: dict[str, str]) -> None:
        self.till, self.shop, self.groups = till, shop, groups

    def run(self) -> str:
        product_sync.lambda_handler(schedule_event(), SYNC())
        return wiring.activity_log().recent(LINK)[-1].message


@pytest.fixture
def catalogue(stack, schema):
    till = KoronaSimulator(contract=contract_or_skip(load_contract))
    groups = {"Shopify": till.add_price_group("Shopify"), "Store": till.add_price_group("Store")}
    till.add_product(
        "MUG-1",
        "Stoneware mug, blue",
        codes=["8712345000017"],
        prices={groups["Shopify"]: "14.95", groups["Store"]: "12.50"},
        image_url=OLD_IMAGE,
    )
    till.add_product("GIFT-CARD", "Gift card", prices={groups["Shopify"]: "25.00"}, track_inventory=False)
    till.add_product("TEA-1", "Rooibos tea, store only", prices={groups["Store"]: "4.99"})
    till.add_product("POSTER", "Poster A2", prices={groups["Shopify"]: "9.00"})  # not in the webshop
    shop = ShopifySimulator(schema=schema, bucket_size=100_000, restore_rate=10_000)
    shop.add_variant("MUG-1", barcode="8712345000017", title="Mug", price="1.00", image_url=OLD_IMAGE)
    shop.add_variant("GIFT-CARD", title="Gift card", price="20.00")
    shop.add_variant("TEA-1", title="Tea", price="3.00")
    servers, urls = [], []
    for app in (till, shop):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        urls.append(f"http://127.0.0.1:{server.server_port}")
    stack.add_account(
        "till",
        "korona",
        {"user": DEMO_USER, "password": DEMO_PASSWORD},
        settings={"account_id": till.account_id, "base_url": urls[0] + "/web/api/v3"},  # price_group: the default
    )
    stack.add_account(
        "webshop",
        "shopify",
        {"access_token": shop.access_token},
        settings={"shop_domain": "demo-shop.myshopify.com", "base_url": urls[1]},
    )
    wiring.config_store().put_link(
        Link(
            link_id=LINK,
            backoffice="till",
            channel="webshop",
            flows={"orders": False, "tracking": False, "stock": False, "products": True},
        )
    )
    yield Catalogue(till, shop, groups)
    for server in servers:
        server.shutdown()
    assert till.violations == [], "koppel sent KORONA a request its spec refuses"
    assert shop.violations == [], "koppel sent Shopify a document its schema refuses"


def test_articles_priced_for_shopify_reach_the_variants_the_webshop_has(catalogue):
    summary = catalogue.run()

    mug, card, tea = (catalogue.shop.variant(sku) for sku in ("MUG-1", "GIFT-CARD", "TEA-1"))
    assert (mug["price"], catalogue.shop.product_of("MUG-1")["title"]) == (Decimal("14.95"), "Stoneware mug, blue")
    assert mug["tracked"] is True
    assert (card["price"], card["tracked"]) == (Decimal("25.00"), False)  # KORONA tracks no stock of it
    assert tea["price"] == Decimal("3.00")  # no price in the Shopify group: left as it is
    # the article the webshop does not have is reported, never created there
    assert "on the backoffice only (POSTER)" in summary
    assert [variant for variant in catalogue.shop.variants if variant["sku"] == "POSTER"] == []
    assert "1 without a price" in summary


def test_the_next_run_reads_only_what_changed_in_korona(catalogue):
    catalogue.run()

    # WHEN nothing changed: KORONA answers 204 and nothing goes to Shopify
    quiet = catalogue.run()
    assert catalogue.till.calls("products")[-1].status == 204
    assert quiet.startswith("0 product(s) read")

    # WHEN the mug's webshop price changes in KORONA
    catalogue.till.set_price("MUG-1", catalogue.groups["Shopify"], "13.95")
    changed = catalogue.run()

    # THEN one article is read and the webshop shows the new price
    assert changed.startswith("1 product(s) read, synced 1")
    assert catalogue.shop.variant("MUG-1")["price"] == Decimal("13.95")


def test_a_replaced_picture_is_added_and_the_old_one_stays(catalogue):
    catalogue.run()
    new_image = "https://cdn.example/mug-new.jpg"

    catalogue.till.set_image("MUG-1", new_image)
    catalogue.run()

    urls = catalogue.shop.media_urls(catalogue.shop.product_of("MUG-1")["id"])
    assert new_image in urls and OLD_IMAGE in urls
