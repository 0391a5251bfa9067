"""Each function's policy in template.yaml allows every AWS call its code makes.

The calls are recorded while each handler does its real job against moto; a call its policy does
not name would be an AccessDenied in the cloud that no other test could see (moto does not
evaluate IAM). This checks actions, not resource ARNs or conditions; that grants stay narrow is
what test_template.py and review keep an eye on.
"""

from __future__ import annotations

import json

import feed_generator
import feed_url
import order_poller
import queue_worker
import tracking_updater
import webhook_receiver
from helpers import EVENTS, api_event, assert_allowed, sample_body, shopify_headers
from scenarios import envelope, feed_request, level, schedule_event, sqs_event

from koppel import wiring
from koppel.flows.feed import feed_token
from koppel_local.runtime import LambdaContext


def test_the_webhook_receiver_needs_only_its_own_policy(shop, context, aws_calls):
    body = sample_body()
    aws_calls.clear()
    answer = webhook_receiver.lambda_handler(api_event("shop-main", body, shopify_headers(body)), context)
    assert answer["statusCode"] == 200
    assert_allowed("WebhookReceiverFunction", aws_calls)


def test_the_webhook_receiver_needs_only_its_own_policy_to_store_a_hooks_credentials(stack, context, aws_calls):
    # GIVEN a StoreKeeper account with the hook token koppel gave the merchant
    from koppel_local.simulators.storekeeper import StoreKeeperSimulator

    stack.add_account("storekeeper-main", "storekeeper", {"webhook_secret": "hook-token"})
    body = StoreKeeperSimulator().hook_body("init")
    aws_calls.clear()
    # WHEN StoreKeeper's init hook hands over its API key
    answer = webhook_receiver.lambda_handler(
        api_event("storekeeper-main", body, {"content-type": "application/json", "upxhooktoken": "hook-token"}),
        context,
    )
    # THEN it is written to the account's secret, through the receiver's own policy
    assert answer["statusCode"] == 200
    assert "secretsmanager:PutSecretValue" in aws_calls
    assert_allowed("WebhookReceiverFunction", aws_calls)


def test_the_queue_worker_needs_only_its_own_policy(pos_link, context, aws_calls):
    event = sqs_event(envelope([level("MUG-BLUE-350", 3, "2026-11-21T13:10:00Z")]))
    aws_calls.clear()
    assert queue_worker.lambda_handler(event, context) == {"batchItemFailures": []}
    assert_allowed("QueueWorkerFunction", aws_calls)


def test_the_order_poller_needs_only_its_own_policy(served, aws_calls):
    aws_calls.clear()
    event = json.loads((EVENTS / "schedule.json").read_text())
    order_poller.lambda_handler(event, LambdaContext(function_name="OrderPollerFunction", timeout=900))
    assert len(served.shop.orders) == 2
    assert "dynamodb:DeleteItem" in aws_calls  # the finished cursor is removed
    assert_allowed("OrderPollerFunction", aws_calls)


def test_the_tracking_updater_needs_only_its_own_policy_while_it_ships(served, aws_calls):
    # GIVEN orders imported into Shopify, one of them fulfilled with a PostNL code
    schedule = json.loads((EVENTS / "schedule.json").read_text())
    order_poller.lambda_handler(schedule, LambdaContext(function_name="OrderPollerFunction", timeout=900))
    [order] = served.shopify_orders_for("1100000001")
    served.shop.fulfill(order["id"], tracking_numbers=["3SKPNL123456789"])
    wiring.reset()  # a cold tracking container: everything it reads goes through its own policy
    aws_calls.clear()
    # WHEN the tracking updater runs on its schedule
    tracking_updater.lambda_handler(schedule, LambdaContext(function_name="TrackingUpdaterFunction", timeout=900))
    # THEN the parcel reached bol, through the status index query and the parcel's conditional writes
    assert [shipment.order_id for shipment in served.bol.shipments] == ["1100000001"]
    assert {"dynamodb:Query", "dynamodb:UpdateItem", "secretsmanager:GetSecretValue"} <= set(aws_calls)
    assert_allowed("TrackingUpdaterFunction", aws_calls)


def test_the_scheduled_reporters_need_only_their_own_policies(feed_link, context, aws_calls):
    aws_calls.clear()
    tracking_updater.lambda_handler(schedule_event(), context)
    assert_allowed("TrackingUpdaterFunction", aws_calls)
    # The stock functions' own check is in test_stock.py, beside the partner they push to.


def test_the_feed_functions_need_only_their_own_policies(feed_link, context, aws_calls):
    aws_calls.clear()
    feed_generator.lambda_handler(schedule_event(), context)
    assert_allowed("FeedGeneratorFunction", aws_calls)
    token = feed_token(wiring.feed_signing_key(), "korona-to-winkelstraat")
    wiring.reset()  # a cold container: the signing key is read through the function's own policy
    aws_calls.clear()
    assert feed_url.lambda_handler(feed_request(token), context)["statusCode"] == 302
    assert_allowed("FeedUrlFunction", aws_calls)
