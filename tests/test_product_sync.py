"""Products and prices from a Shopify backoffice to bol.com, every 10 minutes, in batches with a cursor.

Through the deployed handler, with both simulators on 127.0.0.1. The test context has less than a
minute left from the start, so each run does one page, as a run near its timeout would.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import product_sync
import pytest
from helpers import assert_allowed
from scenarios import schedule_event
from werkzeug.serving import make_server

from koppel import wiring
from koppel.config import Link, LinkMode
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, BolSimulator, RateLimit
from koppel_local.simulators.shopify import ShopifySimulator

LINK = "shop-to-bol"


def ean(number: int) -> str:
    body = f"871234{number:06d}"
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(body))
    return body + str((10 - total % 10) % 10)


@pytest.fixture
def catalogue(stack, schema):
    shop = ShopifySimulator(schema=schema, bucket_size=100_000, restore_rate=10_000)
    bol = BolSimulator(rate_limit=RateLimit(10_000, 1.0))
    servers = []
    for app in (shop, bol):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(f"http://127.0.0.1:{server.server_port}")
        app.server = server
    shop_url, bol_url = servers
    stack.add_account(
        "shop-main",
        "shopify",
        {"access_token": shop.access_token},
        settings={"shop_domain": "demo-shop.myshopify.com", "base_url": shop_url},
    )
    stack.add_account(
        "bol-nl",
        "bol",
        {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
        settings={"base_url": bol_url, "token_url": bol_url + "/token"},
    )
    put_link()
    yield shop, bol
    for app in (shop, bol):
        app.server.shutdown()
    assert bol.violations == [], "koppel sent bol.com a request its spec refuses"
    assert shop.violations == [], "koppel sent Shopify a document its schema refuses"


def put_link(**products) -> None:
    wiring.config_store().put_link(
        Link(
            link_id=LINK,
            backoffice="shop-main",
            channel="bol-nl",
            flows={"orders": False, "tracking": False, "stock": False, "products": True},
            products=products,
        )
    )


def run(context) -> str:
    product_sync.lambda_handler(schedule_event(), context)
    return wiring.activity_log().recent(LINK)[-1].message


def test_prices_reach_the_offers_bol_has_and_one_sided_skus_are_reported(stack, catalogue, context, aws_calls):
    shop, bol = catalogue
    # GIVEN a mug on sale and a tea in the shop, both offered on bol, and a teapot bol does not have
    shop.add_variant("MUG", barcode=ean(1), title="Mug", price="12.95", compare_at_price="14.95")
    shop.add_variant("TEA", barcode=ean(2), title="Tea", price="6.5")
    shop.add_variant("TEAPOT", barcode=ean(3), title="Teapot", price="39.00")
    bol.add_offer("offer-mug", ean(1), reference="MUG")
    bol.add_offer("offer-tea", ean(2))
    # WHEN the product sync runs
    aws_calls.clear()
    summary = run(context)
    assert_allowed("ProductSyncFunction", aws_calls)
    # THEN bol sells each at the price the buyer pays in the shop
    assert (bol.offer_price("offer-mug"), bol.offer_price("offer-tea")) == (Decimal("12.95"), Decimal("6.50"))
    # AND the teapot is reported, not created
    assert "1 on the backoffice only (TEAPOT)" in summary
    # AND a second run sends nothing that did not change
    sent = len(bol.price_updates)
    assert "synced 0, 2 unchanged" in run(context)
    assert len(bol.price_updates) == sent
    # AND a changed price goes out on the next run
    shop.variant("TEA")["price"] = Decimal("5.95")
    run(context)
    assert bol.offer_price("offer-tea") == Decimal("5.95")


def test_a_large_first_sync_spans_several_runs_through_the_cursor(stack, catalogue, context):
    shop, bol = catalogue
    for number in range(120):
        shop.add_variant(f"SKU-{number:03d}", barcode=ean(100 + number), title=f"Product {number}", price="10.00")
        bol.add_offer(f"offer-{number:03d}", ean(100 + number), reference=f"SKU-{number:03d}")
    # Each run has under a minute left from its start: one page of 50, then it hands over
    assert "continues next run" in run(context)
    assert len({update.offer_id for update in bol.price_updates}) == 50
    assert "continues next run" in run(context)
    assert "catalogue done, next run starts over" in run(context)
    assert len({update.offer_id for update in bol.price_updates}) == 120
    assert wiring.product_records().cursor(LINK) is None


def test_only_products_priced_in_the_links_price_list_are_synced(stack, catalogue, context):
    shop, bol = catalogue
    shop.add_variant("MUG", barcode=ean(1), title="Mug", price="12.95")
    shop.add_variant("TEA", barcode=ean(2), title="Tea", price="6.50")
    bol.add_offer("offer-mug", ean(1), reference="MUG", price="1.00")
    bol.add_offer("offer-tea", ean(2), reference="TEA", price="1.00")
    price_list = shop.add_price_list("bol.com", {"MUG": "13.49"})
    put_link(price_list=price_list["id"])
    run(context)
    assert bol.offer_price("offer-mug") == Decimal("13.49")  # the list's price, not the shop's
    assert bol.offer_price("offer-tea") == Decimal("1.00")  # not in the list: untouched


def test_publication_rules_per_channel(stack, catalogue, context):
    shop, bol = catalogue
    shop.add_variant("MUG", barcode=ean(1), title="Mug", price="12.95", vendor="Ceramics")
    shop.add_variant("TEA", barcode=ean(2), title="Tea", price="6.50", vendor="Tea House")
    shop.add_variant("CLEARANCE", barcode=ean(3), title="Old mug", price="2.00", vendor="Outlet")
    for number, sku in enumerate(("MUG", "TEA", "CLEARANCE"), start=1):
        bol.add_offer(f"offer-{sku}", ean(number), reference=sku, price="1.00")
    # GIVEN a link that publishes only the ceramics and tea groups, and excludes the outlet anyway
    put_link(publish_all_by_default=False, published_groups=["Ceramics", "Tea House"], excluded_groups=["Tea House"])
    summary = run(context)
    assert bol.offer_price("offer-MUG") == Decimal("12.95")
    assert (bol.offer_price("offer-TEA"), bol.offer_price("offer-CLEARANCE")) == (Decimal("1.00"), Decimal("1.00"))
    assert "2 not published on this link" in summary


def test_test_mode_says_what_it_would_sync_and_changes_nothing(stack, catalogue, context):
    shop, bol = catalogue
    shop.add_variant("MUG", barcode=ean(1), title="Mug", price="12.95")
    bol.add_offer("offer-mug", ean(1), reference="MUG", price="1.00")
    link = wiring.config_store().get_link(LINK)
    wiring.config_store().put_link(link.model_copy(update={"mode": LinkMode.TEST}))
    assert "would sync 1" in run(context)
    assert bol.price_updates == []


def test_a_second_webshop_as_channel_gets_prices_and_a_replaced_image(stack, catalogue, schema, context):
    shop, _ = catalogue
    # GIVEN an outlet store selling the main shop's products, already listing the mug
    outlet = ShopifySimulator(schema=schema, bucket_size=100_000, restore_rate=10_000)
    outlet.add_variant("MUG", barcode=ean(1), title="Mug", price="1.00", image_url="https://cdn.example/old.jpg")
    server = make_server("127.0.0.1", 0, outlet, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stack.add_account(
        "outlet",
        "shopify",
        {"access_token": outlet.access_token},
        settings={"shop_domain": "outlet.myshopify.com", "base_url": f"http://127.0.0.1:{server.server_port}"},
    )
    wiring.config_store().put_link(
        Link(
            link_id="shop-to-outlet",
            backoffice="shop-main",
            channel="outlet",
            flows={"orders": False, "tracking": False, "stock": False, "products": True},
        )
    )
    shop.add_variant(
        "MUG",
        barcode=ean(1),
        title="Mug",
        price="12.95",
        compare_at_price="14.95",
        image_url="https://cdn.example/a.jpg",
    )
    try:
        # WHEN the sync runs
        product_sync.lambda_handler(schedule_event(), context)
        # THEN the outlet shows the sale price against the regular one, and the new image beside the old
        variant = outlet.variant("MUG")
        assert (variant["price"], variant["compare_at_price"]) == (Decimal("12.95"), Decimal("14.95"))
        assert "https://cdn.example/a.jpg" in outlet.media_urls(outlet.product_of("MUG")["id"])
        # AND a replaced image in the backoffice is uploaded as a new one on the next run
        shop.variant("MUG")["image_url"] = "https://cdn.example/b.jpg"
        product_sync.lambda_handler(schedule_event(), context)
        urls = outlet.media_urls(outlet.product_of("MUG")["id"])
        assert {"https://cdn.example/a.jpg", "https://cdn.example/b.jpg"} <= set(urls)
        assert outlet.violations == []
    finally:
        server.shutdown()


def test_a_changed_price_list_starts_the_pass_over(stack, catalogue, context):
    shop, bol = catalogue
    for number in range(60):
        shop.add_variant(f"SKU-{number:03d}", barcode=ean(100 + number), title=f"P {number}", price="10.00")
        bol.add_offer(f"offer-{number:03d}", ean(100 + number), reference=f"SKU-{number:03d}", price="1.00")
    assert "continues next run" in run(context)  # one page of 50 done, a productVariants cursor stored
    price_list = shop.add_price_list("bol.com", {"SKU-059": "12.00"})
    put_link(price_list=price_list["id"])
    # WHEN the next run reads the price list, THEN it starts at its beginning (no foreign cursor)
    assert "catalogue done" in run(context)
    assert bol.offer_price("offer-059") == Decimal("12.00")


def test_a_refused_product_is_not_sent_again_until_it_changes(stack, catalogue, context):
    shop, bol = catalogue
    shop.add_variant("MUG", barcode=ean(1), title="Mug", price="12.95")
    bol.add_offer("offer-mug", ean(1), reference="MUG", price="1.00")
    bol.refuse_price("offer-mug", "Price change not allowed for this offer")
    assert "refused: MUG: Price change not allowed for this offer" in run(context)
    sent = len(bol.price_updates)
    run(context)
    assert len(bol.price_updates) == sent
    shop.variant("MUG")["price"] = Decimal("11.95")
    run(context)
    assert bol.offer_price("offer-mug") == Decimal("11.95")


def test_the_backoffices_own_publication_comes_before_the_links_groups():
    from koppel.config import Link
    from koppel.flows.feed import for_channel
    from koppel.flows.products import published
    from koppel.models import Product

    # GIVEN a link that publishes only its ceramics, excluding the outlet, and one that publishes everything
    some = Link(
        link_id="sk-ws", backoffice="sk", channel="ws",
        products={"publish_all_by_default": False, "published_groups": ["Ceramics"], "excluded_groups": ["Outlet"]},
    )  # fmt: skip
    every = Link(link_id="sk-all", backoffice="sk", channel="ws")
    on_channel = Product(sku="MUG", title="Mug", published=True, quantity=3)
    off_channel = Product(sku="TEA", title="Tea", published=False, group="Ceramics", quantity=3)
    outlet = Product(sku="VASE", title="Vase", published=True, group="Outlet", quantity=3)
    silent = Product(sku="BOWL", title="Bowl", group="Ceramics", quantity=3)  # the backoffice does not say
    # THEN a product the backoffice offers on the channel is published whatever the groups, one it does
    # not offer there never is, an excluded group stays out, and the groups decide where it says nothing
    assert [published(some, p) for p in (on_channel, off_channel, outlet, silent)] == [True, False, False, True]
    assert [published(every, p) for p in (on_channel, off_channel, outlet, silent)] == [True, False, True, True]
    # AND the nightly feed follows the same rule
    assert [p.sku for p in for_channel(some, [on_channel, off_channel, outlet, silent])] == ["MUG", "BOWL"]
