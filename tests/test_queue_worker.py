"""The queue worker: deliveries reach the links they concern, once, and failures are reported per record."""

from __future__ import annotations

import json

import queue_worker
from helpers import EVENTS
from scenarios import envelope, level, sqs_event

from koppel import wiring


def test_the_sample_event_updates_stock_and_shows_in_the_activity(pos_link, context):
    event = json.loads((EVENTS / "sqs_stock_changed.json").read_text())
    result = queue_worker.lambda_handler(event, context)
    assert result == {"batchItemFailures": []}
    assert wiring.stock_store().level("pos-to-ws", "MUG-BLUE-350")[0] == 7
    kinds = [entry.kind for entry in wiring.activity_log().recent("pos-to-ws")]
    assert kinds == ["stock.webhook"]
    assert "MUG-BLUE-350=7" in wiring.activity_log().recent("pos-to-ws")[0].message


def test_stock_never_goes_backwards_on_an_out_of_order_event(pos_link, context):
    newer = envelope([level("MUG-BLUE-350", 3, "2026-11-21T13:10:00Z")])
    older = envelope([level("MUG-BLUE-350", 9, "2026-11-21T13:00:00Z")])
    queue_worker.lambda_handler(sqs_event(newer), context)
    queue_worker.lambda_handler(sqs_event(older), context)
    assert wiring.stock_store().level("pos-to-ws", "MUG-BLUE-350")[0] == 3
    assert "older level(s) ignored" in wiring.activity_log().recent("pos-to-ws")[-1].message


def test_a_redelivered_message_is_processed_once(pos_link, context):
    same = envelope([level("TEA-ROOIBOS-100", 5, "2026-11-21T13:10:00Z")], event_id="once")
    queue_worker.lambda_handler(sqs_event(same), context)
    queue_worker.lambda_handler(sqs_event(same), context)
    assert len(wiring.activity_log().recent("pos-to-ws")) == 1


def test_a_bad_record_is_reported_alone_and_the_rest_of_the_batch_goes_through(pos_link, context):
    good = envelope([level("MUG-BLUE-350", 2, "2026-11-21T13:10:00Z")])
    bad_payload = envelope([{"quantity": 2}])  # no SKU
    event = sqs_event(good, "not an envelope", bad_payload)
    result = queue_worker.lambda_handler(event, context)
    failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
    assert failed == {event["Records"][1]["messageId"], event["Records"][2]["messageId"]}
    assert wiring.stock_store().level("pos-to-ws", "MUG-BLUE-350")[0] == 2


def test_a_switched_off_flow_is_skipped_visibly(pos_link, context):
    link = wiring.config_store().get_link("pos-to-ws")
    wiring.config_store().put_link(link.model_copy(update={"flows": link.flows.model_copy(update={"stock": False})}))
    queue_worker.lambda_handler(sqs_event(envelope([level("A", 1, "2026-11-21T13:10:00Z")])), context)
    assert wiring.stock_store().level("pos-to-ws", "A") is None
    [entry] = wiring.activity_log().recent("pos-to-ws")
    assert (entry.kind, entry.message) == ("webhook.skipped", "stock is switched off for this link")


def test_a_delivery_no_flow_can_handle_yet_is_parked_whole_not_dropped(pos_link, context):
    # GIVEN a return from the channel, which koppel cannot read from this channel yet (it declares no parser)
    return_event = envelope([], topic="return.created", account="winkelstraat")
    queue_worker.lambda_handler(sqs_event(return_event), context)
    [entry] = wiring.activity_log().recent("pos-to-ws")
    assert entry.kind == "webhook.parked"
    [(kept, reason)] = wiring.parked_deliveries().waiting("pos-to-ws")
    assert kept.body == return_event["body"] and kept.event_id == return_event["event_id"]
    assert reason == "return.created from winkelstraat has no returns handler yet"


def test_a_backoffices_own_order_webhooks_are_not_for_the_link(pos_link, context):
    queue_worker.lambda_handler(sqs_event(envelope([], topic="orders/create")), context)
    [entry] = wiring.activity_log().recent("pos-to-ws")
    assert entry.kind == "webhook.not_for_link"
    assert wiring.parked_deliveries().waiting("pos-to-ws") == []


def test_stock_times_with_other_offsets_are_compared_as_moments_not_text(pos_link, context):
    # 13:30 UTC first; then a level from 13:00 UTC, written as 14:00+01:00, arrives late
    queue_worker.lambda_handler(sqs_event(envelope([level("MUG-BLUE-350", 5, "2026-11-21T13:30:00+00:00")])), context)
    queue_worker.lambda_handler(sqs_event(envelope([level("MUG-BLUE-350", 9, "2026-11-21T14:00:00+01:00")])), context)
    assert wiring.stock_store().level("pos-to-ws", "MUG-BLUE-350")[0] == 5
    # and a newer one in another offset still goes through
    queue_worker.lambda_handler(sqs_event(envelope([level("MUG-BLUE-350", 4, "2026-11-21T15:00:00+01:00")])), context)
    assert wiring.stock_store().level("pos-to-ws", "MUG-BLUE-350")[0] == 4
