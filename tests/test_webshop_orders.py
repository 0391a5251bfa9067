"""Shopify webshop orders into a KORONA till (flows 7 and 3): every order one receipt, restocked refunds
and cancellations put the units back once, whatever the webhooks do (re-sent, out of order, lost answers).

Everything goes the way it goes in the cloud: a signed Shopify webhook to the receiver, the queued
delivery to the queue worker, KORONA (the simulator, checked against its published spec) over HTTP.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import order_poller
import pytest
import queue_worker
import webhook_receiver
from helpers import WEBHOOK_SECRET, api_event, shopify_headers
from scenarios import schedule_event, sqs_event
from werkzeug.serving import make_server

from koppel import wiring
from koppel.config import Link
from koppel.flows.orders import LEASE_SECONDS
from koppel.ports.orders import OrderState
from koppel.store.orders import DynamoOrderLinks
from koppel_local.runtime import LambdaContext
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.korona import DEMO_PASSWORD, DEMO_USER, KoronaSimulator, load_contract

LINK = "shop-to-till"
COUPLING = "webshop-till-coupling"


class Till:
    """The KORONA account, served on this machine, and what the merchant sees in it."""

    def __init__(self, sim: KoronaSimulator, unit: str) -> None:
        self.sim = sim
        self.unit = unit

    def receipts(self, order_id: str) -> list[dict[str, Any]]:
        return self.sim.receipts_for(order_id)

    def stock(self, sku: str) -> Decimal | None:
        return self.sim.stock(sku, self.unit)


@pytest.fixture
def till(stack) -> Till:
    sim = KoronaSimulator(contract=contract_or_skip(load_contract))
    unit = sim.add_unit("Webshop warehouse")
    sim.add_payment_method("1", "Cash")
    sim.add_payment_method("5", "iDEAL")
    pos = sim.add_point_of_sale(unit, "Webshop", coupling_id=COUPLING)
    sim.add_product("MUG-1", "Stoneware mug", codes=["8712345000017"])
    sim.add_product("POSTER", "Poster A2")
    sim.add_product("SHIP", "Shipping", track_inventory=False)
    sim.set_stock("MUG-1", unit, 10)
    sim.set_stock("POSTER", unit, 4)
    server = make_server("127.0.0.1", 0, sim, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stack.add_account(
        "till",
        "korona",
        {"user": DEMO_USER, "password": DEMO_PASSWORD, "coupling_id": COUPLING},
        settings={
            "account_id": sim.account_id,
            "base_url": f"http://127.0.0.1:{server.server_port}/web/api/v3",
            "point_of_sale": pos,
            "payment_method": "1",
            "shipping_article": "SHIP",
        },
    )
    stack.add_account(
        "webshop",
        "shopify",
        {"webhook_secret": WEBHOOK_SECRET, "access_token": "unused"},
        settings={"shop_domain": "demo-shop.myshopify.com"},
    )
    wiring.config_store().put_link(
        Link(
            link_id=LINK,
            backoffice="till",
            channel="webshop",
            flows={"tracking": False, "stock": False},
            orders={"payment_methods": {"ideal": "5"}},
        )
    )
    yield Till(sim, unit)
    server.shutdown()
    assert sim.violations == [], "koppel sent KORONA a request its spec refuses"


def now(minutes: int = 0) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat(timespec="seconds")


def shop_order(order_id: int = 7001, *, sku: str = "MUG-1", **changes: Any) -> dict[str, Any]:
    """A Shopify order (REST webhook shape): 3 mugs with a code off, a poster, shipping, paid by iDEAL."""
    order: dict[str, Any] = {
        "id": order_id,
        "name": f"#{order_id - 6000}",
        "email": "anna@example.nl",
        "currency": "EUR",
        "created_at": now(-1),
        "processed_at": now(-1),
        "updated_at": now(-1),
        "taxes_included": True,
        "total_discounts": "3.00",
        "total_price": "57.55",
        "payment_gateway_names": ["ideal"],
        "cancelled_at": None,
        "customer": {"first_name": "Anna", "last_name": "de Vries"},
        "shipping_address": {"address1": "Kerkstraat 1", "zip": "1011 AA", "city": "Amsterdam", "country_code": "NL"},
        "line_items": [
            {
                "id": order_id * 10 + 1,
                "sku": sku,
                "name": "Stoneware mug",
                "quantity": 3,
                "price": "9.99",
                "discount_allocations": [{"amount": "3.00"}],
                "tax_lines": [{"rate": 0.21, "price": "4.68"}],
            },
            {
                "id": order_id * 10 + 2,
                "sku": "POSTER",
                "name": "Poster A2",
                "quantity": 1,
                "price": "25.00",
                "tax_lines": [{"rate": 0.21, "price": "4.34"}],
            },
        ],
        "shipping_lines": [{"price": "5.58", "discount_allocations": []}],
    }
    order.update(changes)
    return order


def cancelled(order: dict[str, Any]) -> dict[str, Any]:
    return order | {"cancelled_at": now(), "updated_at": now(), "cancel_reason": "customer"}


def refund(order_id: int, refund_id: int, lines: list[tuple[int, int, str]]) -> dict[str, Any]:
    """A refunds/create body: (line number in the order, quantity, restock_type) per line."""
    return {
        "id": refund_id,
        "order_id": order_id,
        "created_at": now(),
        "refund_line_items": [
            {"id": refund_id * 10 + n, "line_item_id": order_id * 10 + n, "quantity": q, "restock_type": kind}
            for n, q, kind in lines
        ],
        "transactions": [{"kind": "refund", "status": "success", "amount": "10.00", "currency": "EUR"}],
    }


def deliver(context, topic: str, body: dict[str, Any], *, event_id: str | None = None) -> None:
    """Shopify sends the webhook; the receiver accepts it, the worker processes what was queued."""
    raw = json.dumps(body).encode()
    answer = webhook_receiver.lambda_handler(
        api_event("webshop", raw, shopify_headers(raw, topic=topic, event_id=event_id)), context
    )
    assert answer["statusCode"] == 200, answer
    sqs = wiring.event_queue().client
    url = wiring.event_queue().queue_url
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        result = queue_worker.lambda_handler(sqs_event(*(message["Body"] for message in batch)), context)
        assert result["batchItemFailures"] == []
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def activity() -> list[str]:
    return [entry.message for entry in wiring.activity_log().recent(LINK)]


def record(key: str):
    return wiring.order_links().get(LINK, key)


def poll(monkeypatch: pytest.MonkeyPatch | None = None) -> None:
    """The order poller's run; with `monkeypatch`, as it runs once every lease of a lost answer ran out."""
    if monkeypatch is not None:
        ahead = DynamoOrderLinks(wiring.table(), clock=lambda: time.time() + LEASE_SECONDS + 60)
        monkeypatch.setattr(wiring, "order_links", lambda: ahead)
    # The poller's own timeout (5 minutes): it stops starting orders a minute before its end.
    order_poller.lambda_handler(schedule_event(), LambdaContext(function_name="order-poller", timeout=300))


# --- orders -------------------------------------------------------------------------------------
def test_a_webshop_order_is_one_receipt_in_korona_and_the_till_stock_drops(till, context):
    deliver(context, "orders/create", shop_order())

    [receipt] = till.receipts("7001")
    assert receipt["externalReferences"]["koppel.name"] == "#1001"
    items = [(item["product"]["number"], item["quantity"]) for item in receipt["items"]]
    assert items == [("MUG-1", 3), ("POSTER", 1), ("SHIP", 1)]
    assert Decimal(str(receipt["total"]["gross"])) == Decimal("57.55")  # Shopify's total_price, to the cent
    [payment] = receipt["payments"]
    assert payment["paymentMethod"]["number"] == "5"  # the link maps Shopify's "ideal" to KORONA's iDEAL
    assert (till.stock("MUG-1"), till.stock("POSTER")) == (7, 3)
    booked = record("7001")
    assert booked.state is OrderState.CREATED and booked.backoffice_name == receipt["number"]
    assert any(f"order #1001 (7001) booked as {receipt['number']}" in line for line in activity())


def test_resent_and_follow_up_webhooks_book_the_order_once(till, context):
    order = shop_order()
    deliver(context, "orders/create", order, event_id="evt-1")
    deliver(context, "orders/create", order, event_id="evt-1")  # Shopify's retry
    deliver(context, "orders/create", order)  # the same order, another event
    deliver(context, "orders/paid", order | {"updated_at": now()})

    assert len(till.receipts("7001")) == 1
    assert till.stock("MUG-1") == 7


def test_two_workers_at_once_book_one_receipt(till, context):
    # The receiver takes one copy of a body; two deliveries of the order under their own events
    # (orders/create and orders/paid, say) can still reach two workers at the same moment.
    raw = json.dumps(shop_order()).encode()
    webhook_receiver.lambda_handler(api_event("webshop", raw, shopify_headers(raw, topic="orders/create")), context)
    sqs, url = wiring.event_queue().client, wiring.event_queue().queue_url
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    queued = json.loads(message["Body"])
    bodies = [queued | {"event_id": f"e-{n}", "dedupe_key": f"webshop:e-{n}"} for n in range(2)]
    workers = [threading.Thread(target=queue_worker.lambda_handler, args=(sqs_event(b), context)) for b in bodies]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert len(till.receipts("7001")) == 1
    assert till.stock("MUG-1") == 7


def test_a_lost_answer_ends_with_one_receipt(till, context, monkeypatch):
    # KORONA books the receipt and the answer never arrives
    till.sim.fail_next(1, 504, group="receipts-add", after_execution=True)
    deliver(context, "orders/create", shop_order())
    assert len(till.receipts("7001")) == 1
    assert record("7001").state is OrderState.CLAIMED  # outcome unknown: held, to be looked up

    deliver(context, "orders/create", shop_order())  # a re-send while the lease holds changes nothing
    poll(monkeypatch)  # the next poll after the lease: looked up, found, recorded

    assert len(till.receipts("7001")) == 1
    assert record("7001").state is OrderState.CREATED


def test_an_unknown_sku_waits_visibly_and_goes_through_once_the_article_exists(till, context):
    deliver(context, "orders/create", shop_order(sku="MUG-NEW"))

    waiting = record("7001")
    assert waiting.state is OrderState.NEEDS_ATTENTION and "MUG-NEW" in waiting.reason
    assert till.receipts("7001") == []

    till.sim.add_product("MUG-NEW", "New mug")
    poll()

    assert len(till.receipts("7001")) == 1
    assert record("7001").state is OrderState.CREATED


def test_an_order_that_does_not_add_up_waits_rather_than_books_the_wrong_amount(till, context):
    deliver(context, "orders/create", shop_order(total_price="60.00"))

    waiting = record("7001")
    assert waiting.state is OrderState.NEEDS_ATTENTION and "60.00" in waiting.reason
    assert till.receipts("7001") == []


def test_an_order_cancelled_before_it_was_booked_books_nothing(till, context):
    deliver(context, "orders/cancelled", cancelled(shop_order(sku="MUG-NEW")))
    assert till.receipts("7001") == []
    assert record("7001").state is OrderState.CANCELLED


# --- cancellations and refunds ------------------------------------------------------------------
def test_a_booked_order_cancelled_is_reversed_once(till, context):
    order = shop_order()
    deliver(context, "orders/create", order)
    deliver(context, "orders/cancelled", cancelled(order))
    deliver(context, "orders/cancelled", cancelled(order))  # re-sent
    deliver(context, "orders/updated", order)  # an older state, come late: changes nothing

    sale, reversal = till.receipts("7001")
    assert reversal["reversal"] is True and reversal["reversedReceipt"]["id"] == sale["id"]
    assert Decimal(str(reversal["total"]["gross"])) == Decimal("-57.55")
    assert (till.stock("MUG-1"), till.stock("POSTER")) == (10, 4)
    assert record("7001/cancel").state is OrderState.CREATED


def test_a_cancellation_and_its_restock_refund_put_the_units_back_once(till, context):
    order = shop_order()
    deliver(context, "orders/create", order)
    # Shopify cancels with restock: the refund of the cancelled units may come before the cancellation
    deliver(context, "refunds/create", refund(7001, 90, [(1, 3, "cancel"), (2, 1, "cancel")]))
    deliver(context, "orders/cancelled", cancelled(order))

    assert (till.stock("MUG-1"), till.stock("POSTER")) == (10, 4)
    assert len(till.receipts("7001")) == 2  # the sale, and one receipt putting everything back


def test_a_restocked_refund_is_a_negative_receipt_for_exactly_those_units(till, context):
    deliver(context, "orders/create", shop_order())
    body = refund(7001, 55, [(1, 2, "return")])
    deliver(context, "refunds/create", body)
    deliver(context, "refunds/create", body)  # re-sent

    _sale, back = till.receipts("7001")
    assert [(item["product"]["number"], item["quantity"]) for item in back["items"]] == [("MUG-1", -2)]
    assert Decimal(str(back["total"]["gross"])) == Decimal("-17.98")  # two thirds of the mugs' 26.97
    assert back["externalReferences"]["koppel.return"] == "55"
    assert till.stock("MUG-1") == 9

    # a second, partial refund on the same order is its own booking; more than was sold never goes back
    deliver(context, "refunds/create", refund(7001, 56, [(1, 5, "return")]))
    assert till.stock("MUG-1") == 10
    assert len(till.receipts("7001")) == 3


def test_a_refund_without_restock_books_nothing_and_says_so(till, context):
    deliver(context, "orders/create", shop_order())
    deliver(context, "refunds/create", refund(7001, 57, [(1, 1, "no_restock")]))

    assert len(till.receipts("7001")) == 1
    assert till.stock("MUG-1") == 7
    assert any("refund 57 of order 7001: no line goes back to stock" in line for line in activity())


def test_a_refund_that_comes_before_its_order_waits_and_is_booked_after(till, context):
    deliver(context, "refunds/create", refund(7001, 58, [(2, 1, "return")]))
    assert record("7001/refund/58").state is OrderState.NEEDS_ATTENTION

    deliver(context, "orders/create", shop_order())
    poll()

    assert [r["externalReferences"].get("koppel.return", "") for r in till.receipts("7001")] == ["", "58"]
    assert till.stock("POSTER") == 4
    assert record("7001/refund/58").state is OrderState.CREATED


def test_the_published_shopify_sample_order_books_when_its_articles_exist(till, context):
    from koppel_local.reference import MISSING_REASON, reference_file

    path = reference_file("shopify", "orders_create.sample.json")
    if path is None:
        pytest.skip(MISSING_REASON)
    body = json.loads(path.read_text())
    body |= {"cancelled_at": None, "updated_at": now(), "currency": "EUR", "test": False}
    for item in body["line_items"]:
        if item.get("sku"):
            till.sim.add_product(item["sku"], item.get("name") or item["sku"])
    deliver(context, "orders/create", body)

    [receipt] = till.receipts(str(body["id"]))
    assert Decimal(str(receipt["total"]["gross"])) == Decimal(str(body["total_price"]))


# --- KORONA's daily request limit -----------------------------------------------------------------
def test_the_daily_limit_pauses_the_till_until_it_renews_and_loses_nothing(till, context, monkeypatch):
    # GIVEN KORONA answers the first receipt with its daily limit
    till.sim.fail_next(1, 429, group="receipts-add", code="DAILY_LIMIT_EXCEEDED")
    deliver(context, "orders/create", shop_order(7001))

    # THEN nothing is booked, the order waits with the reason, and the pause is logged for the alarm
    assert till.receipts("7001") == []
    assert "daily request limit" in record("7001").reason
    paused = [entry for entry in wiring.activity_log().recent(LINK) if entry.kind == "backoffice.paused"]
    assert len(paused) == 1 and "paused until" in paused[0].message

    # WHEN another order comes and the poller runs while the pause lasts
    sent = len(till.sim.calls("receipts-add"))
    deliver(context, "orders/create", shop_order(7002))
    poll(monkeypatch)

    # THEN KORONA is sent nothing more; both orders wait, saying until when
    assert len(till.sim.calls("receipts-add")) == sent
    assert "paused until" in record("7002").reason
    assert {record(key).state for key in ("7001", "7002")} <= {OrderState.CLAIMED, OrderState.NEEDS_ATTENTION}

    # WHEN the limit has renewed (the next day) and the poller runs
    import koppel.flows.pauses as pauses

    tomorrow = datetime.now(UTC) + timedelta(days=1)
    monkeypatch.setattr(
        pauses, "datetime", type("Tomorrow", (datetime,), {"now": staticmethod(lambda tz=None: tomorrow)})
    )
    later = DynamoOrderLinks(wiring.table(), clock=tomorrow.timestamp)  # every lease has run out
    monkeypatch.setattr(wiring, "order_links", lambda: later)
    poll()

    # THEN each order is one receipt, and the till's stock dropped for both
    assert len(till.receipts("7001")) == 1 and len(till.receipts("7002")) == 1
    assert {record(key).state for key in ("7001", "7002")} == {OrderState.CREATED}
    assert till.stock("MUG-1") == 4
    assert [entry.kind for entry in wiring.activity_log().recent(LINK)].count("backoffice.paused") == 1
