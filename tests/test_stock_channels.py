"""Stock to the marketplaces and webshops, through the deployed handlers and the simulators on 127.0.0.1.

- One KORONA mutation reaches bol.com (offer stock) and a Shopify store selling as a channel
  (`inventorySetQuantities`) in the same pusher run.
- A Shopify store as the backoffice: its `inventory_levels/update` webhook is a mutation, and the
  20-minute reconciliation reads its stock and pushes only what differs.
- The nightly feed from a Shopify backoffice as Google Merchant XML, gzipped, through the feed URL.
"""

from __future__ import annotations

import gzip
import json
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import feed_generator
import feed_url
import httpx
import pytest
import queue_worker
import stock_pusher
import stock_reconciler
from helpers import assert_allowed, serve
from scenarios import envelope, feed_request, schedule_event, sqs_event

from koppel import wiring
from koppel.config import Link
from koppel.flows.feed import feed_token
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, BolSimulator, RateLimit
from koppel_local.simulators.partner import StockPartner
from koppel_local.simulators.shopify import ShopifySimulator

G = "{http://base.google.com/ns/1.0}"
MUG_EAN, TEA_EAN = "8712345000017", "8712345000024"


@pytest.fixture
def channels(stack, schema, monkeypatch):
    monkeypatch.setenv("STOCK_PUSH_DELAY_SECONDS", "0")
    wiring.reset()
    bol_sim = BolSimulator(rate_limit=RateLimit(10_000, 1.0))
    bol_sim.add_offer("offer-mug", MUG_EAN, reference="MUG-BLUE-350", stock=0)
    bol_sim.add_offer("offer-tea", TEA_EAN, reference="", stock=0)  # found by EAN
    shop_sim = ShopifySimulator(schema=schema, bucket_size=100_000, restore_rate=10_000)
    shop_sim.add_variant("MUG-BLUE-350", barcode=MUG_EAN, title="Stoneware mug, blue", price="14.95", inventory=0)
    shop_sim.add_variant("TEA-ROOIBOS", barcode=TEA_EAN, title="Rooibos tea", price="6.49", inventory=0)
    bol_url, bol_server = serve(bol_sim)
    shop_url, shop_server = serve(shop_sim)
    stack.add_account("korona-pos", "korona", {"webhook_secret": "s"})
    stack.add_account(
        "bol-nl",
        "bol",
        {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
        settings={"base_url": bol_url, "token_url": bol_url + "/token"},
    )
    stack.add_account(
        "webshop",
        "shopify",
        {"access_token": shop_sim.access_token},
        settings={"shop_domain": "demo-shop.myshopify.com", "base_url": shop_url},
    )
    for link_id, channel in (("pos-to-bol", "bol-nl"), ("pos-to-shop", "webshop")):
        wiring.config_store().put_link(
            Link(link_id=link_id, backoffice="korona-pos", channel=channel, flows={"orders": False, "tracking": False})
        )
    yield bol_sim, shop_sim
    bol_server.shutdown()
    shop_server.shutdown()
    assert bol_sim.violations == [], "koppel sent bol.com a request its spec refuses"
    assert shop_sim.violations == [], "koppel sent Shopify a document its schema refuses"


def push(stack, context) -> dict:
    messages = stack.queued("StockPushQueue")
    return stock_pusher.lambda_handler(sqs_event(*[m["Body"] for m in messages]), context)


def test_one_till_sale_reaches_bol_and_the_webshop_in_the_same_run(stack, channels, context):
    bol_sim, shop_sim = channels
    # GIVEN the POS reports 4 mugs and 9 teas (the tea under another SKU, known to both by its EAN)
    levels = [
        {"sku": "MUG-BLUE-350", "on_hand": 4, "observed_at": "2026-11-21T13:00:00Z"},
        {"sku": "TEA-ROOIBOS", "on_hand": 1200, "ean": TEA_EAN, "observed_at": "2026-11-21T13:00:00Z"},
    ]
    queue_worker.lambda_handler(sqs_event(envelope(levels)), context)
    # WHEN the pusher runs once
    assert push(stack, context) == {"batchItemFailures": []}
    # THEN bol.com and Shopify both sell what the POS has (bol at most 999)
    assert (bol_sim.offer_stock("offer-mug"), bol_sim.offer_stock("offer-tea")) == (4, 999)
    assert (shop_sim.inventory("MUG-BLUE-350"), shop_sim.inventory("TEA-ROOIBOS")) == (4, 1200)
    assert len(shop_sim.adjustments) == 1  # both SKUs in one inventorySetQuantities
    # AND the channel ids are remembered: the next change needs no offer export
    exports = len(bol_sim.calls("offer-export"))
    queue_worker.lambda_handler(
        sqs_event(envelope([{"sku": "MUG-BLUE-350", "on_hand": 3, "observed_at": "2026-11-21T13:05:00Z"}])), context
    )
    push(stack, context)
    assert (bol_sim.offer_stock("offer-mug"), shop_sim.inventory("MUG-BLUE-350")) == (3, 3)
    assert len(bol_sim.calls("offer-export")) == exports


def test_a_sku_the_marketplace_does_not_have_waits_visibly(stack, channels, context):
    bol_sim, _ = channels
    queue_worker.lambda_handler(
        sqs_event(envelope([{"sku": "TEAPOT-CAST", "on_hand": 2, "observed_at": "2026-11-21T13:00:00Z"}])), context
    )
    push(stack, context)
    record = wiring.stock_store().get("pos-to-bol", "TEAPOT-CAST")
    assert record.pending is False and "has no product or offer with this SKU" in record.push_error
    assert "refused: TEAPOT-CAST" in wiring.activity_log().recent("pos-to-bol")[-1].message
    assert bol_sim.stock_updates == []


def test_bol_refusing_an_offer_keeps_its_reason(stack, channels, context):
    bol_sim, _ = channels
    bol_sim.refuse_stock("offer-mug", "Offer is on hold")
    queue_worker.lambda_handler(
        sqs_event(envelope([{"sku": "MUG-BLUE-350", "on_hand": 4, "observed_at": "2026-11-21T13:00:00Z"}])), context
    )
    push(stack, context)
    assert wiring.stock_store().get("pos-to-bol", "MUG-BLUE-350").push_error == "Offer is on hold"


# --- a Shopify store as the backoffice --------------------------------------------------------------
@pytest.fixture
def shopify_backoffice(stack, schema, monkeypatch):
    monkeypatch.setenv("STOCK_PUSH_DELAY_SECONDS", "0")
    wiring.reset()
    shop_sim = ShopifySimulator(schema=schema, bucket_size=100_000, restore_rate=10_000)
    for index, (sku, stock) in enumerate((("MUG-BLUE-350", 7), ("TEA-ROOIBOS", 3), ("TEAPOT-CAST", 2))):
        shop_sim.add_variant(
            sku,
            barcode=f"871234500{index:04d}",
            title={"MUG-BLUE-350": "Stoneware mug", "TEA-ROOIBOS": "Rooibos tea", "TEAPOT-CAST": "Teapot"}[sku],
            price=("14.95", "6.49", "39.00")[index],
            compare_at_price=("19.95", None, None)[index],
            inventory=stock,
            vendor=("Koppel Ceramics", "Tea House", "Koppel Ceramics")[index],
            product_type="Kitchen",
            image_url=f"https://cdn.example/{sku}.jpg",
            weight="0.35",
            weight_unit="KILOGRAMS",
        )
    partner = StockPartner(secret="partner-signing-secret")
    shop_url, shop_server = serve(shop_sim)
    partner_url, partner_server = serve(partner)
    stack.add_account(
        "shop-main",
        "shopify",
        {"access_token": shop_sim.access_token, "webhook_secret": "w"},
        settings={"shop_domain": "demo-shop.myshopify.com", "base_url": shop_url},
    )
    stack.add_account(
        "winkelstraat",
        "winkelstraat",
        {"signing_secret": "partner-signing-secret"},
        settings={"stock_url": partner_url + "/stock"},
    )
    wiring.config_store().put_link(
        Link(
            link_id="shop-to-ws",
            backoffice="shop-main",
            channel="winkelstraat",
            flows={"orders": False, "tracking": False, "feed": True},
            feed={"format": "xml", "gzip": True, "product_url": "https://shop.example/p/{sku}", "title": "Shop"},
        )
    )
    yield shop_sim, partner
    shop_server.shutdown()
    partner_server.shutdown()
    assert shop_sim.violations == []


def fetch(link_id: str, token: str) -> dict:
    event = feed_request(token)
    event["pathParameters"] = {"link_id": link_id}
    event["rawPath"] = f"/feeds/{link_id}"
    event["requestContext"]["http"]["path"] = event["rawPath"]
    return event


def shopify_delivery(payload: dict) -> dict:
    return envelope([]) | {
        "account_id": "shop-main",
        "system": "shopify",
        "topic": "inventory_levels/update",
        "dedupe_key": f"shop-main:{uuid.uuid4()}",
        "sent_at": datetime.now(UTC).isoformat(),
        "body": json.dumps(payload),
    }


def inventory_level(shop_sim: ShopifySimulator, sku: str, available: int | None, at: str) -> dict:
    """Shopify's inventory_levels/update body: numeric item and location ids, no SKU."""
    return {
        "inventory_item_id": int(shop_sim.variant(sku)["inventory_item_id"].rsplit("/", 1)[-1]),
        "location_id": int(shop_sim.locations[0]["id"].rsplit("/", 1)[-1]),
        "available": available,
        "updated_at": at,
    }


def test_a_shopify_inventory_webhook_names_an_item_and_koppel_pushes_its_sku(stack, shopify_backoffice, context):
    shop_sim, partner = shopify_backoffice
    payload = inventory_level(shop_sim, "TEA-ROOIBOS", 11, "2026-11-21T14:00Z")
    # WHEN it arrives, and then an older one for the same item
    queue_worker.lambda_handler(sqs_event(shopify_delivery(payload)), context)
    older = payload | {"available": 1, "updated_at": "2026-11-21T13:59:00Z"}
    queue_worker.lambda_handler(sqs_event(shopify_delivery(older)), context)
    push(stack, context)
    # THEN the partner sells the newer quantity, under the SKU
    assert partner.stock == {"TEA-ROOIBOS": 11}


def test_reconciliation_reads_the_shopify_backoffice_and_pushes_what_differs(stack, shopify_backoffice, context):
    shop_sim, partner = shopify_backoffice
    # GIVEN koppel never heard a webhook from the shop: the first run sends every SKU
    stock_reconciler.lambda_handler(schedule_event(), context)
    push(stack, context)
    assert partner.stock == {"MUG-BLUE-350": 7, "TEA-ROOIBOS": 3, "TEAPOT-CAST": 2}
    # WHEN a webhook is missed for one SKU (a manual correction in the shop) and the next run comes
    shop_sim.set_inventory("TEA-ROOIBOS", 8)
    stock_reconciler.lambda_handler(schedule_event(), context)
    push(stack, context)
    # THEN only that SKU goes out
    assert partner.stock["TEA-ROOIBOS"] == 8
    assert [(level["sku"], level["quantity"]) for level in partner.deliveries[-1]["levels"]] == [("TEA-ROOIBOS", 8)]
    # AND a run with nothing changed asks for nothing
    stock_reconciler.lambda_handler(schedule_event(), context)
    assert stack.queued("StockPushQueue") == []
    assert len(partner.deliveries) == 2


def test_a_backoffice_larger_than_one_run_is_read_across_runs(stack, shopify_backoffice, context, monkeypatch):
    shop_sim, partner = shopify_backoffice
    for number in range(40):  # with the three above: more than one page of 30 items
        shop_sim.add_variant(f"EXTRA-{number:02d}", title=f"Extra {number}", price="1.00", inventory=number)
    import stock_reconciler as handler

    monkeypatch.setattr(handler, "SAFETY_SECONDS", 10**6)  # out of time after the first page
    handler.lambda_handler(schedule_event(), context)
    assert wiring.stock_store().read_cursor("shop-to-ws") is not None
    monkeypatch.setattr(handler, "SAFETY_SECONDS", 0)
    handler.lambda_handler(schedule_event(), context)
    assert wiring.stock_store().read_cursor("shop-to-ws") is None
    push(stack, context)
    assert len(partner.stock) == 43 and partner.stock["EXTRA-39"] == 39


def test_the_google_merchant_feed_of_a_shopify_backoffice_through_its_url(
    stack, shopify_backoffice, context, aws_calls
):
    aws_calls.clear()
    feed_generator.lambda_handler(schedule_event(), context)
    assert_allowed("FeedGeneratorFunction", aws_calls)  # reading Shopify's products takes its secret
    token = feed_token(wiring.feed_signing_key(), "shop-to-ws")
    answer = feed_url.lambda_handler(fetch("shop-to-ws", token), context)
    assert answer["statusCode"] == 302
    body = stack.client("s3").get_object(Bucket=stack.ref("FeedBucket"), Key="feeds/shop-to-ws/latest.xml.gz")
    assert body["ContentType"] == "application/gzip"
    root = ET.fromstring(gzip.decompress(body["Body"].read()))
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = {item.findtext(f"{G}id"): item for item in root.iter("item")}
    assert set(items) == {"MUG-BLUE-350", "TEA-ROOIBOS", "TEAPOT-CAST"}
    mug = items["MUG-BLUE-350"]
    assert mug.findtext(f"{G}price") == "19.95 EUR" and mug.findtext(f"{G}sale_price") == "14.95 EUR"
    assert mug.findtext(f"{G}availability") == "in_stock"
    assert mug.findtext("link") == "https://shop.example/p/MUG-BLUE-350"
    assert mug.findtext(f"{G}image_link") == "https://cdn.example/MUG-BLUE-350.jpg"


def test_excluded_groups_stay_out_of_the_feed(stack, shopify_backoffice, context):
    link = wiring.config_store().get_link("shop-to-ws")
    wiring.config_store().put_link(
        link.model_copy(update={"products": link.products.model_copy(update={"excluded_groups": ["Tea House"]})})
    )
    feed_generator.lambda_handler(schedule_event(), context)
    body = stack.client("s3").get_object(Bucket=stack.ref("FeedBucket"), Key="feeds/shop-to-ws/latest.xml.gz")
    root = ET.fromstring(gzip.decompress(body["Body"].read()))
    assert {item.findtext(f"{G}id") for item in root.iter("item")} == {"MUG-BLUE-350", "TEAPOT-CAST"}


def test_the_feed_url_redirects_to_a_fresh_short_lived_url_and_refuses_a_wrong_token(
    stack, shopify_backoffice, context
):
    feed_generator.lambda_handler(schedule_event(), context)
    token = feed_token(wiring.feed_signing_key(), "shop-to-ws")
    first = feed_url.lambda_handler(fetch("shop-to-ws", token), context)["headers"]["Location"]
    assert "latest.xml.gz" in first and httpx.URL(first).params.get("X-Amz-Expires") == "3600"
    time.sleep(1.1)  # presigned URLs carry their signing second
    assert feed_url.lambda_handler(fetch("shop-to-ws", token), context)["headers"]["Location"] != first
    assert feed_url.lambda_handler(fetch("shop-to-ws", "f" * 64), context)["statusCode"] == 401


def test_an_item_no_longer_stocked_at_a_location_sells_nothing_from_it(stack, shopify_backoffice, context):
    shop_sim, partner = shopify_backoffice
    stocked = inventory_level(shop_sim, "TEA-ROOIBOS", 6, "2026-11-21T14:00Z")
    queue_worker.lambda_handler(sqs_event(shopify_delivery(stocked)), context)
    gone = inventory_level(shop_sim, "TEA-ROOIBOS", None, "2026-11-21T14:05Z")
    queue_worker.lambda_handler(sqs_event(shopify_delivery(gone)), context)
    push(stack, context)
    assert partner.stock == {"TEA-ROOIBOS": 0}


@pytest.mark.parametrize(("basis", "sold"), [("free", 6), ("technical", 8)])
def test_a_shopify_inventory_webhook_honours_the_links_stock_basis(stack, shopify_backoffice, context, basis, sold):
    shop_sim, partner = shopify_backoffice
    # GIVEN 8 teas on hand, 2 of them held by open orders: 6 available
    shop_sim.set_inventory("TEA-ROOIBOS", 6, committed=2)
    link = wiring.config_store().get_link("shop-to-ws")
    wiring.config_store().put_link(link.model_copy(update={"stock": link.stock.model_copy(update={"basis": basis})}))
    # WHEN Shopify says 6 are available
    payload = inventory_level(shop_sim, "TEA-ROOIBOS", 6, "2026-11-21T14:00Z")
    queue_worker.lambda_handler(sqs_event(shopify_delivery(payload)), context)
    push(stack, context)
    # THEN free stock sells the 6, technical stock the 8 on hand
    assert partner.stock == {"TEA-ROOIBOS": sold}


def test_a_signed_shopify_inventory_webhook_goes_through_receiver_worker_and_pusher(stack, shopify_backoffice, context):
    import webhook_receiver
    from helpers import api_event, shopify_headers

    shop_sim, partner = shopify_backoffice
    body = json.dumps(inventory_level(shop_sim, "MUG-BLUE-350", 4, "2026-11-21T14:00:00-05:00")).encode()
    # WHEN Shopify posts it, signed with the app's secret
    headers = shopify_headers(body, topic="inventory_levels/update", secret="w")
    answer = webhook_receiver.lambda_handler(api_event("shop-main", body, headers), context)
    assert answer["statusCode"] == 200
    # AND the worker and the pusher take what the queues hold, as their SQS triggers would
    queued = stack.queued("EventQueue")
    assert queue_worker.lambda_handler(sqs_event(*[m["Body"] for m in queued]), context) == {"batchItemFailures": []}
    push(stack, context)
    # THEN the partner sells the mugs
    assert partner.stock == {"MUG-BLUE-350": 4}
    # AND a forged copy is refused and reaches nobody
    forged = body.replace(b'"available": 4', b'"available": 400')
    assert webhook_receiver.lambda_handler(api_event("shop-main", forged, headers), context)["statusCode"] == 401
    assert stack.queued("EventQueue") == []
