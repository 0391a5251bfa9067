"""bol.com orders into Shopify: what the merchant sees in the backoffice, and never twice."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
from scenarios import MUG, TEA, TEAPOT

from koppel import wiring
from koppel.config import LinkMode
from koppel.errors import RateLimited
from koppel.ports.orders import OrderState, SkuMapping
from koppel.store.orders import DynamoOrderLinks
from koppel_local.runtime import LambdaContext
from koppel_local.simulators.bol import SimItem


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


def test_a_link_that_creates_no_customers_uses_a_known_one_and_makes_none(world):
    # GIVEN the link says koppel makes no customers, and one buyer is already a customer of the shop
    link = world.link()
    wiring.config_store().put_link(
        link.model_copy(update={"orders": link.orders.model_copy(update={"create_customers": False})})
    )
    known = world.bol.order("1100000002")["billingDetails"]["email"]
    world.shop.add_customer(known, first_name="Known")
    before = len(world.shop.customers)
    world.flow("run-1").run()
    # THEN both orders are in Shopify, the known buyer's with their customer, the other as a guest order
    assert len(world.shop.customers) == before
    assert world.shopify_orders_for("1100000001")[0]["customer"] is None
    assert world.shopify_orders_for("1100000002")[0]["customer"]["email"] == known


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
    world.now[0] += 17 * 60
    report = world.flow("run-3").run()
    assert "1100000001" in report.recovered
    assert len(world.shopify_orders_for("1100000001")) == 1
    record = wiring.order_links().get("bol-to-shop", "1100000001")
    assert record.state is OrderState.CREATED and record.backoffice_order_id


def test_a_lost_answer_from_shopify_never_becomes_a_second_order(world):
    # GIVEN Shopify creates an order but the answer is lost (a gateway timeout), and its search
    # index needs a minute before the new order can be found
    world.shop.search_lag = 60
    world.shop.fail_next(1, status=504, after_execution=True, operation="orderCreate")
    first = world.flow("run-1").run()
    [lost] = first.retry_later  # orders go side by side: whichever one met the timeout
    assert len(world.shopify_orders_for(lost)) == 1
    # WHEN the next scheduled run comes five minutes later, the order is left alone (still unknown)
    world.now[0] += 5 * 60
    world.shop_offset[0] += 5 * 60
    assert lost not in world.flow("run-2").run().created
    # THEN once the claim's lease has run out, the order is looked up and recognised, not created again
    world.now[0] += 15 * 60
    world.shop_offset[0] += 15 * 60
    third = world.flow("run-3").run()
    assert lost in third.recovered
    assert len(world.shopify_orders_for(lost)) == 1


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


def test_the_next_page_is_listed_while_this_pages_orders_are_still_importing(world):
    # GIVEN 63 open orders: two pages of bol's 50
    for _ in range(60):
        world.bol.add_dutch_order(items=[SimItem(ean=TEA, title="Rooibos tea 100 g", unit_price="6.49")])
    flow = world.flow("run-1")
    listed = flow.source.list_open_orders
    created_when_listed: dict[int, int] = {}

    def list_open_orders(page: int):
        created_when_listed[page] = len(world.shop.orders)
        return listed(page)

    flow.source.list_open_orders = list_open_orders
    report = flow.run()
    # THEN page 2 was asked for before page 1 was done (its 49 importable orders; the teapot waits),
    # so the workers never stood idle waiting for the paging
    assert created_when_listed[2] < 49
    assert len(report.created) == 62 and len(world.shop.orders) == 62  # the teapot waits


def test_a_rate_limited_next_page_lets_this_page_finish_and_the_next_run_lists_it_again(world):
    # GIVEN 63 open orders, and bol refusing the second page's listing for longer than a run can wait
    for _ in range(60):
        world.bol.add_dutch_order(items=[SimItem(ean=TEA, title="Rooibos tea 100 g", unit_price="6.49")])
    flow = world.flow("run-1")
    listed = flow.source.list_open_orders

    def list_open_orders(page: int):
        if page == 2:
            raise RateLimited("bol asks to wait 120s", retry_after=120)
        return listed(page)

    flow.source.list_open_orders = list_open_orders
    first = flow.run()
    # THEN every order of page 1 is imported, and the run hands over at page 2
    assert first.handed_over and len(first.created) + len(first.waiting) == 50
    assert wiring.cursors().get("bol-to-shop", "orders.page") == 2
    # AND the next run imports the rest, none twice
    second = world.flow("run-2").run()
    assert not second.handed_over and len(second.created) == 13
    assert len({o.get("sourceIdentifier") for o in world.shop.orders}) == len(world.shop.orders) == 62


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


def test_an_order_that_may_exist_is_looked_up_even_after_waiting_for_attention(world):
    # GIVEN a run that created the order in Shopify and crashed before recording it
    class Crash(BaseException):
        pass

    crashing = DynamoOrderLinks(wiring.table(), clock=lambda: world.now[0])
    crashing.mark_created = lambda *_a, **_k: (_ for _ in ()).throw(Crash())
    with pytest.raises(Crash):
        world.flow("run-1", orders=crashing).run()
    # AND the run that takes over cannot reach Shopify (its token was rotated): the order waits
    world.now[0] += 17 * 60
    takeover = world.flow("run-2")
    real_token = world.shop.access_token
    world.shop.access_token = "rotated-in-shopify-only"
    waiting = takeover.run()
    assert "AuthenticationFailed" in waiting.waiting["1100000001"]
    # WHEN koppel has the right token again and the next run comes
    world.shop.access_token = real_token
    report = world.flow("run-3").run()
    # THEN the order is recognised in Shopify, not created a second time
    assert "1100000001" in report.recovered
    assert len(world.shopify_orders_for("1100000001")) == 1


def test_an_order_cancelled_on_bol_before_import_is_not_created(world):
    # GIVEN the buyer cancels the mug order right after koppel listed it as open
    flow = world.flow("run-1")
    listed = flow.source.list_open_orders(1)
    flow.source.list_open_orders = lambda page: listed
    [item] = world.bol.order("1100000001")["orderItems"]
    world.bol.cancel_item(item["orderItemId"])
    report = flow.run()
    assert report.cancelled == ["1100000001"]
    assert world.shopify_orders_for("1100000001") == []
    assert wiring.order_links().get("bol-to-shop", "1100000001").state is OrderState.CANCELLED


def test_a_lost_answer_whose_look_up_is_rate_limited_is_still_made_once(world):
    # GIVEN Shopify creates the order but the answer is lost, and the look-up that follows is throttled
    world.shop.search_lag = 60
    world.shop.fail_next(1, status=504, after_execution=True, operation="orderCreate")
    world.shop.fail_next(6, status=429, operation="orders")
    first = world.flow("run-1").run()
    [lost] = [order_id for order_id in first.retry_later if world.shopify_orders_for(order_id)]
    # WHEN another run comes half a minute later (an overlapping run, or the schedule's retry)
    world.now[0] += 30
    world.flow("run-2").run()
    # THEN the order is not created again
    assert len(world.shopify_orders_for(lost)) == 1
    record = wiring.order_links().get("bol-to-shop", lost)
    assert "may exist in the backoffice" in record.reason


def test_a_buyers_cancellation_request_before_import_is_confirmed_not_imported(world):
    # GIVEN the buyer of the tea order asked bol.com to cancel before koppel saw the order
    [item] = world.bol.order("1100000002")["orderItems"]
    world.bol.request_cancellation(item["orderItemId"])
    report = world.flow("run-1").run()
    # THEN it is cancelled on bol.com at the buyer's request, and never reaches Shopify
    assert report.cancelled == ["1100000002"]
    assert world.shopify_orders_for("1100000002") == []
    [cancellation] = [c for c in world.bol.cancellations if c.order_item_id == item["orderItemId"]]
    assert cancellation.reason_code == "REQUESTED_BY_CUSTOMER"
    assert wiring.order_links().get("bol-to-shop", "1100000002").state is OrderState.CANCELLED


def test_an_order_waiting_longer_than_the_links_limit_raises_the_alarm_naming_the_link(served, monkeypatch):
    import order_poller
    from helpers import EVENTS

    counted: list[str] = []
    monkeypatch.setattr(order_poller.metrics, "add_metric", lambda name, **_: counted.append(name))
    event = json.loads((EVENTS / "schedule.json").read_text())
    # GIVEN a run that leaves one order waiting for its unknown product: fresh, no alarm yet
    order_poller.lambda_handler(event, LambdaContext(function_name="OrderPollerFunction", timeout=900))
    [waiting] = wiring.order_links().in_state("bol-to-shop", OrderState.NEEDS_ATTENTION)
    assert waiting.waiting_since and "OrdersWaitingTooLong" not in counted
    # WHEN it has waited two hours (the link's limit is the default hour), tried on every run meanwhile
    table = boto3.resource("dynamodb", region_name="eu-west-1").Table(served.stack.ref("KoppelTable"))
    two_hours_ago = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    table.update_item(
        Key={"pk": "LINK#bol-to-shop", "sk": f"ORDER#{waiting.channel_order_id}"},
        UpdateExpression="SET waiting_since = :t",
        ExpressionAttributeValues={":t": two_hours_ago},
    )
    order_poller.lambda_handler(event, LambdaContext(function_name="OrderPollerFunction", timeout=900))
    # THEN the metric its alarm watches is raised, and the link's activity names the order
    assert "OrdersWaitingTooLong" in counted
    [late] = [e for e in wiring.activity_log().recent("bol-to-shop") if e.kind == "orders.waiting_too_long"]
    assert waiting.channel_order_id in late.message and "longer than 60 min" in late.message
    # AND the retry kept when it first waited: the hours are counted from then
    [still] = wiring.order_links().in_state("bol-to-shop", OrderState.NEEDS_ATTENTION)
    assert still.waiting_since == two_hours_ago
