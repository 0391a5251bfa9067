"""Stock from the backoffice to the channel: merged in order, coalesced per SKU, pushed, reconciled.

The backoffice is a KORONA POS using koppel's signed stock webhook; the channel is a partner that
takes stock by webhook (as Copernicus does for Winkelstraat.nl), served on 127.0.0.1 and checking
koppel's signature. The handlers are the deployed ones: queue worker → stock push queue → pusher.
"""

from __future__ import annotations

import json
import threading
import uuid

import pytest
import queue_worker
import stock_pusher
import stock_reconciler
from helpers import EVENTS, assert_allowed
from scenarios import envelope, schedule_event, sqs_event
from werkzeug.serving import make_server

from koppel import wiring
from koppel.config import Link
from koppel_local.simulators.partner import StockPartner

LINK = "pos-to-ws"


@pytest.fixture
def partner(stack, monkeypatch):
    monkeypatch.setenv("STOCK_PUSH_DELAY_SECONDS", "0")  # the coalescing delay is SQS's; tests drain at once
    wiring.reset()
    partner = StockPartner(secret="partner-signing-secret")
    server = make_server("127.0.0.1", 0, partner, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stack.add_account("korona-pos", "korona", {"webhook_secret": "s"})
    stack.add_account(
        "winkelstraat",
        "winkelstraat",
        {"signing_secret": "partner-signing-secret"},
        settings={"stock_url": f"http://127.0.0.1:{server.server_port}/stock"},
    )
    link(orders=False, tracking=False)
    yield partner
    server.shutdown()


def link(**flows) -> Link:
    stock = flows.pop("stock_settings", {})
    mode = flows.pop("mode", "live")
    made = Link(link_id=LINK, backoffice="korona-pos", channel="winkelstraat", flows=flows, stock=stock, mode=mode)
    wiring.config_store().put_link(made)
    return made


def mutation(sku: str, at: str, on_hand: int, **extra) -> dict:
    return {"sku": sku, "on_hand": on_hand, "observed_at": at, **extra}


def deliver(*levels: dict, context) -> dict:
    return queue_worker.lambda_handler(sqs_event(envelope(list(levels))), context)


def push(stack, context) -> dict:
    """What Lambda's SQS trigger does: hand the pusher what waits in the stock push queue."""
    messages = stack.queued("StockPushQueue")
    records = sqs_event(*[message["Body"] for message in messages])
    return stock_pusher.lambda_handler(records, context) if messages else {"batchItemFailures": []}


def test_a_till_sale_reaches_the_channel_with_the_buffer_held_back(stack, partner, context):
    # GIVEN a link that holds 2 units back from the channel
    link(orders=False, tracking=False, stock_settings={"buffer": 2})
    # WHEN the POS reports 7 mugs on hand and the pusher runs
    deliver(mutation("MUG-BLUE-350", "2026-11-21T13:00:00Z", 7), context=context)
    assert push(stack, context) == {"batchItemFailures": []}
    # THEN the partner sells 5, signed by koppel, and koppel records what it accepted
    assert partner.stock == {"MUG-BLUE-350": 5}
    assert partner.refused == []
    record = wiring.stock_store().get(LINK, "MUG-BLUE-350")
    assert (record.pending, record.pushed) == (False, 5)
    assert "pushed MUG-BLUE-350=5" in wiring.activity_log().recent(LINK)[-1].message


def test_a_burst_becomes_one_push_per_sku_with_the_latest_value(stack, partner, context):
    # GIVEN 60 mutations over 3 SKUs, in 20 deliveries, before the pusher runs
    for minute in range(20):
        at = f"2026-11-21T13:{minute:02d}:00Z"
        deliver(*(mutation(sku, at, 100 - minute) for sku in ("A", "B", "C")), context=context)
    # THEN one push was asked for, by the first delivery: the later ones found the SKUs pending
    waiting = stack.queued("StockPushQueue")
    assert [json.loads(message["Body"])["skus"] for message in waiting] == [["A", "B", "C"]]
    # WHEN the pusher gets it
    stock_pusher.lambda_handler(sqs_event(*[message["Body"] for message in waiting]), context)
    # THEN the channel was called once, with the last value of each SKU
    assert len(partner.deliveries) == 1
    assert partner.stock == {"A": 81, "B": 81, "C": 81}


def test_an_out_of_order_pair_leaves_the_newer_stock(stack, partner, context):
    deliver(mutation("MUG-BLUE-350", "2026-11-21T13:10:00+01:00", 3), context=context)
    # 13:05Z is later than 13:10+01:00 (12:10Z): this one is newer despite its clock text
    deliver(mutation("MUG-BLUE-350", "2026-11-21T13:05:00Z", 4), context=context)
    deliver(mutation("MUG-BLUE-350", "2026-11-21T12:30:00Z", 9), context=context)  # stale: ignored
    push(stack, context)
    assert partner.stock == {"MUG-BLUE-350": 4}
    assert "1 older level(s) ignored" in wiring.activity_log().recent(LINK)[-2].message


def test_a_sender_sequence_orders_levels_whatever_their_times(stack, partner, context):
    deliver(mutation("TEA", "2026-11-21T13:00:00Z", 8, sequence=41), context=context)
    deliver(mutation("TEA", "2026-11-21T13:30:00Z", 20, sequence=40), context=context)  # an older sequence
    push(stack, context)
    assert partner.stock == {"TEA": 8}


def test_free_stock_sums_the_chosen_warehouses_less_backorders(stack, partner, context):
    # GIVEN a link selling free stock from two of three warehouses
    link(orders=False, tracking=False, stock_settings={"basis": "free", "warehouses": ["ams", "utr"]})
    at = "2026-11-21T13:00:00Z"
    deliver(
        mutation("MUG", at, 10, warehouse="ams", backorders=3),
        mutation("MUG", at, 5, warehouse="utr", backorders=0),
        mutation("MUG", at, 50, warehouse="showroom"),
        context=context,
    )
    push(stack, context)
    assert partner.stock == {"MUG": 12}  # (10 - 3) + 5; the showroom is not sold
    # WHEN one warehouse reports later, THEN the others are kept and the sum moves
    deliver(mutation("MUG", "2026-11-21T13:05:00Z", 1, warehouse="utr"), context=context)
    push(stack, context)
    assert partner.stock == {"MUG": 8}


def test_technical_stock_ignores_backorders(stack, partner, context):
    link(orders=False, tracking=False, stock_settings={"basis": "technical"})
    deliver(mutation("MUG", "2026-11-21T13:00:00Z", 10, backorders=4), context=context)
    push(stack, context)
    assert partner.stock == {"MUG": 10}


def test_a_failing_channel_is_retried_with_backoff_then_dead_lettered_and_nothing_is_lost(
    stack, partner, context, monkeypatch
):
    monkeypatch.setattr(stock_pusher, "BACKOFF_SECONDS", 0)  # 15 s, 30 s, 60 s, 120 s in the cloud
    # GIVEN a partner that keeps answering 503
    partner.fail_next = [503] * 100
    deliver(mutation("MUG", "2026-11-21T13:00:00Z", 6), context=context)
    # WHEN the pusher runs, THEN the SKU is asked for again, four times, each a later attempt
    for attempt in (1, 2, 3, 4):
        messages = stack.queued("StockPushQueue")
        assert push_with(messages, context) == {"batchItemFailures": []}
        [again] = stack.queued("StockPushQueue") or [None]
        assert json.loads(again["Body"])["attempt"] == attempt
        stack.client("sqs").send_message(QueueUrl=stack.ref("StockPushQueue"), MessageBody=again["Body"])
    # AND after that the request itself fails: SQS delivers it once more, then dead-letters it (alarmed)
    event = sqs_event(*[message["Body"] for message in stack.queued("StockPushQueue")])
    assert stock_pusher.lambda_handler(event, context)["batchItemFailures"]
    assert wiring.stock_store().get(LINK, "MUG").pending is True  # nothing marked as sent
    # AND once the partner is back, the redelivered request pushes the stock
    partner.fail_next = []
    assert stock_pusher.lambda_handler(event, context) == {"batchItemFailures": []}
    assert partner.stock == {"MUG": 6}


def push_with(messages: list[dict], context) -> dict:
    return stock_pusher.lambda_handler(sqs_event(*[message["Body"] for message in messages]), context)


def test_a_partner_answering_the_whole_request_with_an_error_is_retried_not_taken_as_refusals(
    stack, partner, context, monkeypatch
):
    monkeypatch.setattr(stock_pusher, "BACKOFF_SECONDS", 0)
    account = wiring.config_store().get_account("winkelstraat")
    url = account.settings["stock_url"].replace("/stock", "/nowhere")  # the partner answers 404
    wiring.config_store().put_account(account.model_copy(update={"settings": {"stock_url": url}}))
    deliver(mutation("MUG", "2026-11-21T13:00:00Z", 6), context=context)
    push(stack, context)
    [again] = stack.queued("StockPushQueue")  # asked again, after a delay
    assert json.loads(again["Body"])["attempt"] == 1
    record = wiring.stock_store().get(LINK, "MUG")
    assert (record.pending, record.push_error) == (True, "")
    assert "to retry: MUG" in wiring.activity_log().recent(LINK)[-1].message


def test_an_unreadable_push_request_fails_alone(stack, partner, context):
    deliver(mutation("MUG", "2026-11-21T13:00:00Z", 6), context=context)
    [queued] = stack.queued("StockPushQueue")
    event = sqs_event("not a push request", queued["Body"])
    result = stock_pusher.lambda_handler(event, context)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert partner.stock == {"MUG": 6}


def test_reconciliation_pushes_only_what_the_channel_does_not_have(stack, partner, context):
    # GIVEN two SKUs the channel has, and one whose push request was lost
    deliver(mutation("A", "2026-11-21T13:00:00Z", 4), mutation("B", "2026-11-21T13:00:00Z", 5), context=context)
    push(stack, context)
    deliver(mutation("C", "2026-11-21T13:00:00Z", 6), context=context)
    stack.queued("StockPushQueue")  # the request is taken and lost
    assert partner.stock == {"A": 4, "B": 5}
    # WHEN the 20-minute reconciliation runs (and the pusher takes what it asks for)
    stock_reconciler.lambda_handler(schedule_event(), context)
    push(stack, context)
    # THEN only C goes out
    assert partner.stock == {"A": 4, "B": 5, "C": 6}
    assert partner.deliveries[-1]["levels"] == [
        {"sku": "C", "quantity": 6, "observed_at": "2026-11-21T13:00:00.000000Z"}  # so a partner can drop older ones
    ]
    assert "1 SKU(s) differed from what the channel last accepted, asked to be pushed: C" in [
        entry.message for entry in wiring.activity_log().recent(LINK)
    ]
    # AND a second run finds nothing to do
    stock_reconciler.lambda_handler(schedule_event(), context)
    assert stack.queued("StockPushQueue") == []
    assert len(partner.deliveries) == 2


def test_test_mode_says_what_it_would_push_and_pushes_nothing(stack, partner, context):
    link(orders=False, tracking=False, mode="test")
    deliver(mutation("MUG", "2026-11-21T13:00:00Z", 6), context=context)
    push(stack, context)
    assert partner.deliveries == []
    assert wiring.activity_log().recent(LINK)[-1].message == "test mode: would push MUG=6"
    assert wiring.stock_store().get(LINK, "MUG").pending is True  # goes out once the link is live


def test_stock_switched_off_asks_for_no_push(stack, partner, context):
    link(orders=False, tracking=False, stock=False)
    deliver(mutation("MUG", "2026-11-21T13:00:00Z", 6), context=context)
    assert stack.queued("StockPushQueue") == []
    assert wiring.stock_store().get(LINK, "MUG") is None


def test_a_woocommerce_product_update_is_a_stock_mutation(stack, partner, context):
    # GIVEN a WooCommerce shop as the backoffice
    stack.add_account("woo-shop", "woocommerce", {"webhook_secret": "w"}, settings={"base_url": "https://woo.example"})
    wiring.config_store().put_link(
        Link(link_id="woo-to-ws", backoffice="woo-shop", channel="winkelstraat", flows={"orders": False})
    )
    product = {"id": 794, "sku": "WOO-MUG", "manage_stock": True, "stock_quantity": 12, "type": "simple"}
    untracked = {"id": 795, "sku": "WOO-GIFT", "manage_stock": False, "stock_quantity": None}
    for body, modified in ((product, "2026-11-21T13:00:00"), (untracked, "2026-11-21T13:00:00")):
        delivery = envelope([], account="korona-pos") | {
            "account_id": "woo-shop",
            "system": "woocommerce",
            "topic": "product.updated",
            "dedupe_key": f"woo-shop:{uuid.uuid4()}",
            "body": json.dumps(body | {"date_modified_gmt": modified}),
        }
        queue_worker.lambda_handler(sqs_event(delivery), context)
    push(stack, context)
    assert partner.stock == {"WOO-MUG": 12}
    messages = [entry.message for entry in wiring.activity_log().recent("woo-to-ws")]
    assert "no stock-managed level in this delivery" in messages  # the untracked product


def test_the_stock_functions_need_only_their_own_policies(stack, partner, context, aws_calls):
    aws_calls.clear()
    deliver(mutation("A", "2026-11-21T13:00:00Z", 4), mutation("B", "2026-11-21T13:00:00Z", 5), context=context)
    assert_allowed("QueueWorkerFunction", aws_calls)
    aws_calls.clear()
    push(stack, context)
    assert partner.stock == {"A": 4, "B": 5}
    assert_allowed("StockPusherFunction", [call for call in aws_calls if call != "sqs:ReceiveMessage"])  # the test's
    deliver(mutation("A", "2026-11-21T13:05:00Z", 1), context=context)
    stack.queued("StockPushQueue")
    aws_calls.clear()
    stock_reconciler.lambda_handler(schedule_event(), context)
    assert_allowed("StockReconcilerFunction", aws_calls)
    push(stack, context)
    assert partner.stock == {"A": 1, "B": 5}


def test_the_sample_push_event_pushes_what_the_sample_mutation_left(stack, partner, context):
    # GIVEN the sample stock mutation processed (events/sqs_stock_changed.json: 7 mugs)
    queue_worker.lambda_handler(json.loads((EVENTS / "sqs_stock_changed.json").read_text()), context)
    # WHEN the pusher gets the sample push request (events/sqs_stock_push.json)
    result = stock_pusher.lambda_handler(json.loads((EVENTS / "sqs_stock_push.json").read_text()), context)
    # THEN the partner has the mugs
    assert result == {"batchItemFailures": []}
    assert partner.stock == {"MUG-BLUE-350": 7}


def test_a_lost_push_request_is_asked_again_by_the_next_mutation_a_minute_later(stack, partner, context, monkeypatch):
    deliver(mutation("MUG", "2026-11-21T13:00:00Z", 6), context=context)
    assert len(stack.queued("StockPushQueue")) == 1  # taken, and lost
    deliver(mutation("MUG", "2026-11-21T13:00:10Z", 5), context=context)
    assert stack.queued("StockPushQueue") == []  # within the minute: it joins the push already asked for
    import koppel.store.stock as stock_store

    later = stock_store.time.time() + 61
    monkeypatch.setattr(stock_store.time, "time", lambda: later)
    deliver(mutation("MUG", "2026-11-21T13:01:20Z", 4), context=context)
    push(stack, context)
    assert partner.stock == {"MUG": 4}


def test_a_pusher_near_its_timeout_starts_no_new_batch_and_leaves_the_rest_pending(stack, partner, context):
    from koppel.flows.stock import push_pending

    deliver(mutation("A", "2026-11-21T13:00:00Z", 4), mutation("B", "2026-11-21T13:00:00Z", 5), context=context)
    link = wiring.config_store().get_link(LINK)
    report = push_pending(
        link, ["A", "B"], store=wiring.stock_store(), target=wiring.stock_target(link), out_of_time=lambda: True
    )
    assert sorted(report.retry) == ["A", "B"] and partner.deliveries == []
    assert all(record.pending for record in wiring.stock_store().get_many(LINK, ["A", "B"]))


def woo_delivery(body: dict, received_at: str) -> dict:
    return envelope([]) | {
        "account_id": "woo-shop",
        "system": "woocommerce",
        "topic": "product.updated",
        "dedupe_key": f"woo-shop:{uuid.uuid4()}",
        "received_at": received_at,
        "body": json.dumps(body),
    }


def test_woocommerce_stock_taken_by_orders_is_ordered_by_delivery_not_by_the_last_edit(stack, partner, context):
    # GIVEN WooCommerce, which leaves date_modified_gmt at the last edit when an order takes stock
    stack.add_account("woo-shop", "woocommerce", {"webhook_secret": "w"}, settings={"base_url": "https://woo.example"})
    wiring.config_store().put_link(
        Link(link_id="woo-to-ws", backoffice="woo-shop", channel="winkelstraat", flows={"orders": False})
    )
    product = {"sku": "WOO-MUG", "manage_stock": True, "date_modified_gmt": "2026-11-01T09:00:00"}
    # WHEN two orders take a mug each, delivered a minute apart with the same date_modified_gmt
    for quantity, received in ((11, "2026-11-21T13:00:00Z"), (10, "2026-11-21T13:01:00Z")):
        queue_worker.lambda_handler(sqs_event(woo_delivery(product | {"stock_quantity": quantity}, received)), context)
    push(stack, context)
    # THEN the channel has the stock after the second order
    assert partner.stock == {"WOO-MUG": 10}


def test_two_signed_levels_of_the_same_second_are_told_apart_by_arrival(stack, partner, context):
    first = envelope([{"sku": "MUG", "on_hand": 5}]) | {"sent_at": "2026-11-21T13:00:00Z"}
    second = envelope([{"sku": "MUG", "on_hand": 4}]) | {
        "sent_at": "2026-11-21T13:00:00Z",
        "received_at": "2026-11-21T13:00:00.400Z",
    }
    queue_worker.lambda_handler(sqs_event(first | {"received_at": "2026-11-21T13:00:00.100Z"}), context)
    queue_worker.lambda_handler(sqs_event(second), context)
    push(stack, context)
    assert partner.stock == {"MUG": 4}


def test_a_level_ordered_by_time_after_sequences_is_refused_visibly(stack, partner, context):
    deliver(mutation("TEA", "2026-11-21T13:00:00Z", 8, sequence=41), context=context)
    event = sqs_event(
        envelope([mutation("TEA", "2026-11-21T13:30:00Z", 20)]), envelope([mutation("MUG", "2026-11-21T13:30:00Z", 2)])
    )
    result = queue_worker.lambda_handler(event, context)
    # THEN that delivery fails (SQS retries it, then dead-letters it, alarmed), and its stock is unchanged
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert wiring.stock_store().get(LINK, "TEA").quantity == 8
    assert wiring.stock_store().get(LINK, "MUG").quantity == 2


def test_a_time_without_offset_is_refused_not_guessed(stack, partner, context):
    event = sqs_event(
        envelope([mutation("TEA", "2026-11-21T13:00:00", 8)]), envelope([mutation("MUG", "2026-11-21T13:00:00Z", 2)])
    )
    result = queue_worker.lambda_handler(event, context)
    assert result == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert wiring.stock_store().get(LINK, "TEA") is None


def test_the_cli_shows_each_skus_stock_state(stack, partner, context, tmp_path, monkeypatch, capsys):
    from koppel import cli

    link(orders=False, tracking=False, stock_settings={"buffer": 1})
    deliver(mutation("MUG", "2026-11-21T13:00:00Z", 7, warehouse="ams", backorders=1), context=context)
    push(stack, context)
    deliver(mutation("TEA", "2026-11-21T13:00:00Z", 3), context=context)
    outputs = {"KoppelTableName": stack.ref("KoppelTable")}
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"endpoint": "", "region": "eu-west-1", "outputs": outputs, "http_url": "http://h"}))
    monkeypatch.setenv("KOPPEL_LOCAL_STATE", str(state))
    capsys.readouterr()
    assert cli.main(["--local", "stock", LINK]) == 0
    header, mug, tea = capsys.readouterr().out.splitlines()
    assert header.split()[:2] == ["SKU", "SELL"]
    assert mug.split()[:6] == ["MUG", "5", "5", "ams", "7", "1"] and mug.endswith("pushed")
    assert tea.split()[:9] == ["TEA", "2", "not", "on", "the", "channel", "(all)", "3", "0"] and tea.endswith("pending")
