"""bol.com orders into Shopify: what the merchant sees in the backoffice, and never twice."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
import pytest
from werkzeug.serving import make_server

from koppel import wiring
from koppel.config import Link, LinkMode
from koppel.connectors import bol, shopify
from koppel.connectors.http import Clock
from koppel.flows.orders import OrderImport, OrderState, SkuMapping
from koppel.store.orders import DynamoOrderLinks
from koppel_local.runtime import LambdaContext
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, BolSimulator, RateLimit, SimItem
from koppel_local.simulators.shopify import ShopifySimulator, load_schema

MUG, TEA, TEAPOT = "8712345000017", "8712345000024", "8712345000031"


@pytest.fixture(scope="session")
def schema():
    return load_schema()


@dataclass
class World:
    """bol.com with open orders, a Shopify store, and the link between them, all on this machine."""

    stack: object
    bol: BolSimulator
    shop: ShopifySimulator
    link_id: str = "bol-to-shop"
    now: list[float] = field(default_factory=lambda: [1_800_000_000.0])
    shop_offset: list[float] = field(default_factory=lambda: [0.0])  # moves Shopify's clock ahead

    def link(self) -> Link:
        return wiring.config_store().get_link(self.link_id)

    def flow(self, run_id: str, **overrides) -> OrderImport:
        clock = Clock(sleep=lambda _s: None)
        fields = dict(
            link=self.link(),
            source=bol.from_account(
                wiring.config_store().get_account("bol-nl"),
                {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
                httpx.Client(transport=httpx.WSGITransport(app=self.bol)),
                clock=clock,
            ),
            sink=shopify.from_account(
                wiring.config_store().get_account("shop-main"),
                {"access_token": self.shop.access_token},
                httpx.Client(transport=httpx.WSGITransport(app=self.shop)),
                clock=clock,
            ),
            orders=DynamoOrderLinks(wiring.table(), clock=lambda: self.now[0]),
            mappings=wiring.sku_mappings(),
            cursors=wiring.cursors(),
            run_id=run_id,
        )
        return OrderImport(**(fields | overrides))

    def shopify_orders_for(self, bol_order_id: str) -> list[dict]:
        return [o for o in self.shop.orders if o.get("sourceIdentifier") == bol_order_id]


@pytest.fixture
def world(stack, schema):
    # Rate limits are the connectors' own tests' subject; here they would only make the flow wait.
    bol_sim = BolSimulator(sleep=lambda _s: None, rate_limit=RateLimit(10_000, 1.0))
    shop_offset = [0.0]
    shop_sim = ShopifySimulator(
        schema=schema, bucket_size=100_000, restore_rate=10_000, clock=lambda: time.monotonic() + shop_offset[0]
    )
    shop_sim.add_variant("MUG-BLUE-350", barcode=MUG, title="Stoneware mug, blue", price="14.95", inventory=10)
    shop_sim.add_variant("TEA-ROOIBOS", barcode=TEA, title="Rooibos tea 100 g", price="6.49", inventory=25)
    stack.add_account(
        "bol-nl",
        "bol",
        {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
        settings={"base_url": "http://bol.sim", "token_url": "http://bol.sim/token"},
    )
    stack.add_account(
        "shop-main",
        "shopify",
        {"access_token": shop_sim.access_token},
        settings={"shop_domain": "demo-shop.myshopify.com", "base_url": "http://shop.sim"},
    )
    wiring.config_store().put_link(Link(link_id="bol-to-shop", backoffice="shop-main", channel="bol-nl"))
    bol_sim.add_order(
        "1100000001",
        [SimItem(ean=MUG, title="Stoneware mug, blue", unit_price="14.95", quantity=2)],
        shipment_details={
            "salutation": "FEMALE",
            "firstName": "Anouk",
            "surname": "Smit",
            "streetName": "Lindengracht",
            "houseNumber": "12",
            "houseNumberExtension": "B",
            "zipCode": "2011 AB",
            "city": "Haarlem",
            "countryCode": "NL",
            "email": "anouk.smit@example.nl",
            "language": "nl",
        },
    )
    bol_sim.add_dutch_order("1100000002", items=[SimItem(ean=TEA, title="Rooibos tea 100 g", unit_price="6.49")])
    bol_sim.add_dutch_order("1100000003", items=[SimItem(ean=TEAPOT, title="Teapot, cast iron", unit_price="39.00")])
    yield World(stack, bol_sim, shop_sim, shop_offset=shop_offset)
    assert bol_sim.violations == [], "koppel sent bol.com a request its spec refuses"
    assert shop_sim.violations == [], "koppel sent Shopify a document its schema refuses"


def test_open_orders_arrive_in_shopify_and_the_unmapped_one_waits_with_its_reason(world):
    report = world.flow("run-1").run()
    assert sorted(report.created) == ["1100000001", "1100000002"]
    assert report.waiting == {"1100000003": f"no backoffice product for {TEAPOT}; add a mapping to import it"}

    [order] = world.shopify_orders_for("1100000001")
    assert order["sourceName"] == "bol"
    assert "bol-1100000001" in order["tags"]
    assert order.get("fulfillmentStatus") in (None, "UNFULFILLED")
    [line] = order["lines"]
    assert (line["sku"], line["quantity"], line["price"]) == ("MUG-BLUE-350", 2, Decimal("14.95"))
    assert [tax["rate"] for tax in line["taxLines"]] == [Decimal("0.21")]
    assert order["shippingAddress"]["city"] == "Haarlem"
    assert world.shop.inventory("MUG-BLUE-350") == 8

    [waiting] = wiring.order_links().in_state("bol-to-shop", OrderState.NEEDS_ATTENTION)
    assert waiting.channel_order_id == "1100000003" and TEAPOT in waiting.reason
    assert world.shopify_orders_for("1100000003") == []


def test_the_waiting_order_goes_through_once_a_mapping_exists(world):
    world.flow("run-1").run()
    teapot = world.shop.add_variant("TEAPOT-CI", title="Teapot, cast iron", price="39.00", inventory=3)
    wiring.sku_mappings().put("bol-to-shop", SkuMapping(channel_sku=TEAPOT, variant_id=teapot["id"], source="manual"))
    report = world.flow("run-2").run()
    assert report.created == ["1100000003"]
    assert report.skipped == 2
    assert len(world.shop.orders) == 3
    assert world.shopify_orders_for("1100000003")[0]["lines"][0]["sku"] == "TEAPOT-CI"


def test_an_explicit_mapping_wins_over_the_automatic_match(world):
    other_mug = world.shop.add_variant("MUG-BLUE-350-B", title="Mug, second batch", price="14.95", inventory=4)
    wiring.sku_mappings().put("bol-to-shop", SkuMapping(channel_sku=MUG, variant_id=other_mug["id"], source="manual"))
    world.flow("run-1").run()
    assert world.shopify_orders_for("1100000001")[0]["lines"][0]["sku"] == "MUG-BLUE-350-B"
    wiring.sku_mappings().put("bol-to-shop", SkuMapping(channel_sku=MUG, variant_id="gid://x/1", source="auto"))
    assert wiring.sku_mappings().get("bol-to-shop", MUG).variant_id == other_mug["id"]


def test_two_overlapping_runs_create_each_order_once(world):
    start = threading.Barrier(2)
    reports = {}

    def run(run_id: str) -> None:
        flow = world.flow(run_id)
        start.wait()
        reports[run_id] = flow.run()

    threads = [threading.Thread(target=run, args=(f"run-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(world.shop.orders) == 2
    assert sorted(reports["run-1"].created + reports["run-2"].created) == ["1100000001", "1100000002"]


def test_a_crash_between_creating_in_shopify_and_recording_it_leaves_one_order(world):
    # GIVEN a run that dies right after Shopify created the order, before koppel wrote it down
    class Crash(BaseException):
        pass

    crashing = DynamoOrderLinks(wiring.table(), clock=lambda: world.now[0])

    def crash(*_args, **_kwargs):
        raise Crash

    crashing.mark_created = crash
    with pytest.raises(Crash):
        world.flow("run-1", orders=crashing).run()
    assert len(world.shopify_orders_for("1100000001")) == 1

    # WHEN the next run comes while the dead run's lease still holds, it leaves the order alone
    assert "1100000001" not in world.flow("run-2").run().created
    # AND once the lease has run out, the next run finds the order in Shopify instead of creating it
    world.now[0] += 16 * 60
    report = world.flow("run-3").run()
    assert "1100000001" in report.recovered
    assert len(world.shopify_orders_for("1100000001")) == 1
    record = wiring.order_links().get("bol-to-shop", "1100000001")
    assert record.state is OrderState.CREATED and record.backoffice_order_id


def test_a_lost_answer_from_shopify_never_becomes_a_second_order(world):
    # GIVEN Shopify creates the order but the answer is lost (a gateway timeout), and its search
    # index needs a minute before the new order can be found
    world.shop.search_lag = 60
    world.shop.fail_next(1, status=504, after_execution=True, operation="orderCreate")
    first = world.flow("run-1").run()
    assert "1100000001" in first.retry_later
    # WHEN the next scheduled run comes five minutes later, the order is left alone (still unknown)
    world.now[0] += 5 * 60
    world.shop_offset[0] += 5 * 60
    assert "1100000001" not in world.flow("run-2").run().created
    # THEN once the claim's lease has run out, the order is looked up and recognised, not created again
    world.now[0] += 15 * 60
    world.shop_offset[0] += 15 * 60
    third = world.flow("run-3").run()
    assert "1100000001" in third.recovered
    assert len(world.shopify_orders_for("1100000001")) == 1


def test_test_mode_reports_what_it_would_create_and_creates_nothing(world):
    link = world.link()
    wiring.config_store().put_link(link.model_copy(update={"mode": LinkMode.TEST}))
    report = world.flow("run-1").run()
    assert sorted(report.would_create) == ["1100000001", "1100000002"]
    assert "1100000003" in report.waiting
    assert world.shop.orders == []
    assert wiring.order_links().get("bol-to-shop", "1100000001") is None
    assert wiring.sku_mappings().get("bol-to-shop", MUG) is None  # nothing written, not even mappings


def test_a_run_out_of_time_hands_over_and_the_next_run_finishes(world):
    for _ in range(60):  # 63 open orders: two pages
        world.bol.add_dutch_order(items=[SimItem(ean=TEA, title="Rooibos tea 100 g", unit_price="6.49")])
    calls = {"n": 0}

    def out_of_time() -> bool:
        calls["n"] += 1
        return calls["n"] > 55

    first = world.flow("run-1", out_of_time=out_of_time).run()
    assert first.handed_over
    assert wiring.cursors().get("bol-to-shop", "orders.page") == 2
    second = world.flow("run-2").run()
    assert not second.handed_over
    assert wiring.cursors().get("bol-to-shop", "orders.page") is None
    bol_ids = {o.get("sourceIdentifier") for o in world.shop.orders}
    assert len(world.shop.orders) == len(bol_ids) == 62  # 63 open, the teapot waits


# --- through the handler, over 127.0.0.1, as in the cloud ---------------------------------------
@pytest.fixture
def served(world):
    servers = []
    urls = {}
    for name, app in (("bol", world.bol), ("shop", world.shop)):
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        urls[name] = f"http://127.0.0.1:{server.server_port}"
    store = wiring.config_store()
    for account_id, settings in (
        ("bol-nl", {"base_url": urls["bol"], "token_url": urls["bol"] + "/token"}),
        ("shop-main", {"base_url": urls["shop"]}),
    ):
        account = store.get_account(account_id)
        store.put_account(account.model_copy(update={"settings": account.settings | settings}))
    yield world
    for server in servers:
        server.shutdown()


def test_the_poller_delivered_twice_by_eventbridge_creates_each_order_once(served):
    import order_poller
    from helpers import EVENTS

    context = LambdaContext(function_name="OrderPollerFunction", timeout=900)  # the template's timeout
    event = json.loads((EVENTS / "schedule.json").read_text())
    order_poller.lambda_handler(event, context)
    order_poller.lambda_handler(event, context)
    assert len(served.shop.orders) == 2
    activity = wiring.activity_log().recent("bol-to-shop")
    assert [entry.message for entry in activity if entry.kind == "orders.run"] == [
        "2 created, 0 recovered, 1 waiting, 0 already handled",
        "0 created, 0 recovered, 1 waiting, 2 already handled",
    ]
    # the waiting order is reported once, not on every run
    assert [entry.kind for entry in activity].count("order.needs_attention") == 1
