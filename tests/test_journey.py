"""`koppel journey`: one bol.com order's steps, from the poll to the parcel on bol, read in one query."""

from __future__ import annotations

import json

import pytest
from scenarios import TEAPOT, World
from test_webshop_orders import LINK as SHOP_LINK
from test_webshop_orders import deliver, refund, shop_order
from test_webshop_orders import till as korona_till

from koppel import cli, wiring
from koppel.flows.journey import JournalledOrders
from koppel.ports.orders import SkuMapping
from koppel.store.orders import DynamoOrderLinks

POSTNL_CODE = "3SKPNL123456789"
LINK = "bol-to-shop"
till = korona_till  # the KORONA till a Shopify webshop books its orders into, as a fixture here


def journalled(world: World) -> JournalledOrders:
    """The order store as the flows write through it: each order's steps go to its journey."""
    return JournalledOrders(DynamoOrderLinks(wiring.table(), clock=lambda: world.now[0]), wiring.activity_log())


def run_cli(*argv: str) -> int:
    return cli.main(["--local", *argv])


@pytest.fixture
def journeyed(world: World, local_state) -> World:
    """Order 1100000003 waits for its teapot, runs again unchanged, is mapped, created and shipped."""
    world.flow("run-1", orders=journalled(world)).run()
    world.flow("run-2", orders=journalled(world)).run()  # still no teapot: no second "waiting" step
    teapot = world.shop.add_variant("TEAPOT-CI", title="Teapot, cast iron", price="39.00", inventory=3)
    wiring.sku_mappings().put(LINK, SkuMapping(channel_sku=TEAPOT, variant_id=teapot["id"], source="manual"))
    assert world.flow("run-3", orders=journalled(world)).run().created == ["1100000003"]
    [order] = world.shopify_orders_for("1100000003")
    world.shop.fulfill(order["id"], tracking_numbers=[POSTNL_CODE], company="PostNL")
    assert world.tracking(orders=journalled(world)).run().closed == ["1100000003"]
    return world


def test_a_waiting_bol_order_s_journey_shows_each_step_in_order_with_the_shopify_number(journeyed, capsys):
    [order] = journeyed.shopify_orders_for("1100000003")
    capsys.readouterr()
    assert run_cli("journey", LINK, "1100000003") == 0
    head, *steps = capsys.readouterr().out.splitlines()
    assert head == f"order 1100000003 on {LINK}: in the backoffice as {order['name']} ({order['id']})"
    labels = [line[21:].split()[0] for line in steps]
    assert labels == ["claimed", "waiting", "mapped", "created", "shipped", "closed"]
    waiting, created, shipped = steps[1], steps[3], steps[4]
    assert f"no backoffice product for {TEAPOT}; add a mapping to import it" in waiting
    assert f"created in the backoffice as {order['name']}" in created
    assert POSTNL_CODE in shipped and "postnl" in shipped and "SUCCESS" in shipped
    times = [line[:19] for line in steps]
    assert times == sorted(times)


def test_the_backoffice_s_order_number_leads_to_the_same_journey(journeyed, capsys):
    [order] = journeyed.shopify_orders_for("1100000003")
    capsys.readouterr()
    assert run_cli("journey", LINK, order["name"].lstrip("#"), "--json") == 0
    found = json.loads(capsys.readouterr().out)
    assert (found["order_id"], found["backoffice_name"]) == ("1100000003", order["name"])
    kinds = [step["kind"] for step in found["steps"]]
    imported = ["order.claimed", "order.needs_attention", "order.mapped", "order.created"]
    assert kinds == [*imported, "order.shipped", "order.closed"]
    shipped = found["steps"][4]["details"]
    assert (shipped["codes"], shipped["carrier"], shipped["process_status"]) == ([POSTNL_CODE], "postnl", "SUCCESS")
    assert found["steps"][1]["next"].startswith("tried again at every order run")


def test_a_journey_is_one_query_not_a_scan(journeyed, aws_calls, capsys):
    aws_calls.clear()
    assert run_cli("journey", LINK, "1100000003") == 0
    assert aws_calls.count("dynamodb:Query") == 1
    assert "dynamodb:Scan" not in aws_calls
    assert [call for call in aws_calls if call.startswith("dynamodb:")] == ["dynamodb:GetItem", "dynamodb:Query"]


def test_the_order_poller_s_own_record_of_a_waiting_order_lands_in_its_journey_once(world, local_state, capsys):
    # GIVEN the import writes the waiting step, and the order poller's run summary records it as well
    report = world.flow("run-1", orders=journalled(world)).run()
    for order_id, reason in report.waiting.items():
        wiring.activity_log().record(LINK, "order.needs_attention", reason, order_id=order_id)
    capsys.readouterr()
    assert run_cli("journey", LINK, "1100000003", "--json") == 0
    kinds = [step["kind"] for step in json.loads(capsys.readouterr().out)["steps"]]
    assert kinds == ["order.claimed", "order.needs_attention"]
    # AND the link's own activity still shows the run's record
    assert [entry.kind for entry in wiring.activity_log().recent(LINK)] == ["order.needs_attention"]


def test_a_webshop_order_s_journey_shows_its_delivery_its_receipt_and_its_refund(
    till, local_state, context, monkeypatch, capsys
):
    # GIVEN the flows write through the journalled order store (as `wiring.order_links` builds it)
    journalled_links = JournalledOrders(DynamoOrderLinks(wiring.table()), wiring.activity_log())
    monkeypatch.setattr(wiring, "order_links", lambda: journalled_links)
    # WHEN Shopify sends the order, then a refund of two mugs back to stock
    deliver(context, "orders/create", shop_order())
    deliver(context, "refunds/create", refund(7001, 55, [(1, 2, "return")]))
    sale, back = till.receipts("7001")
    capsys.readouterr()
    assert run_cli("journey", SHOP_LINK, sale["number"], "--json") == 0
    found = json.loads(capsys.readouterr().out)
    # THEN the receipt number leads to the order, and every step is there once, in order
    assert (found["order_id"], found["backoffice_name"]) == ("7001", sale["number"])
    assert [step["kind"] for step in found["steps"]] == [
        "order.received",
        "order.claimed",
        "order.mapped",
        "order.created",
        "refund.received",
        "refund.sent",
        "refund.booked",
    ]
    booked = found["steps"][-1]
    assert booked["details"]["booking"] == "7001/refund/55" and back["number"] in booked["message"]


@pytest.mark.parametrize(
    ("argv", "wrong"),
    [
        (["journey", LINK], "the following arguments are required: ORDER_ID"),
        (["journey", "nope", "1100000001"], "no link 'nope'"),
        (["journey", LINK, "9999999999"], "no steps of order 9999999999 on bol-to-shop"),
    ],
)
def test_a_wrong_use_of_journey_is_one_line_and_the_usage(world, local_state, capsys, argv, wrong):
    capsys.readouterr()
    assert run_cli(*argv) == 2
    said, *usage = capsys.readouterr().err.rstrip("\n").splitlines()
    assert said.startswith("error: ") and wrong in said
    assert usage and usage[0].startswith("usage: koppel journey")
