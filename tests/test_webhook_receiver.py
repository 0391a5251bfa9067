"""The webhook receiver: who gets in, what is queued, and what the sender is told."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import webhook_receiver
from helpers import WEBHOOK_SECRET, api_event, sample_body, shopify_headers, shopify_sign

from koppel import wiring
from koppel.config import Account
from koppel.flows.receive import Limits, WebhookRequest, receive
from koppel.webhooks import Ignored, VerifyContext, body_digest, koppel_digest, verify
from koppel_local.reference import MISSING_REASON, reference_file


def post(account_id: str, body: bytes, headers: dict[str, str], context) -> tuple[int, dict]:
    answer = webhook_receiver.lambda_handler(api_event(account_id, body, headers), context)
    return answer["statusCode"], json.loads(answer["body"] or "{}")


# --- signatures ---------------------------------------------------------------------------------
@pytest.mark.skipif(reference_file("shopify", "hmac_test_vectors.json") is None, reason=MISSING_REASON)
def test_the_published_shopify_hmac_vector_verifies():
    vectors = json.loads(reference_file("shopify", "hmac_test_vectors.json").read_text())["vectors"]
    for vector in vectors:
        # GIVEN Shopify's own secret, body and header  WHEN koppel computes the digest  THEN they agree
        assert body_digest(vector["secret"], vector["body"].encode()) == vector["expected_header_X-Shopify-Hmac-Sha256"]
        account = Account(
            account_id="shop1",
            system="shopify",
            secret_ref="koppel/shop1",
            settings={"shop_domain": "shop1.myshopify.io"},
        )
        headers = {
            "x-shopify-hmac-sha256": vector["expected_header_X-Shopify-Hmac-Sha256"],
            # a topic koppel does not take: past the signature, the vector's body is then ignored
            "x-shopify-topic": "app/uninstalled",
            "x-shopify-webhook-id": "123456789",
            "x-shopify-triggered-at": datetime.now(UTC).isoformat(),
        }
        ctx = VerifyContext(now=datetime.now(UTC), tolerance=timedelta(minutes=5), stale_after=timedelta(hours=48))
        delivery = verify(account, [vector["secret"]], headers, vector["body"].encode(), ctx)
        assert delivery == Ignored(account_id="shop1", topic="app/uninstalled")


def test_a_signed_shopify_delivery_is_accepted_and_queued(shop, context):
    body = sample_body()
    status, answer = post("shop-main", body, shopify_headers(body, event_id="evt-1"), context)
    assert (status, answer["status"]) == (200, "accepted")
    [message] = shop.queued()
    queued = json.loads(message["Body"])
    assert queued["topic"] == "orders/create"
    assert queued["event_id"] == "evt-1"
    assert json.loads(queued["body"])["name"] == "#1001"  # the sender's body, untouched


@pytest.mark.parametrize(
    "tamper",
    ["tampered body", "missing signature", "wrong secret"],
)
def test_a_bad_signature_gets_401_and_nothing_is_queued(shop, context, tamper):
    body = sample_body()
    headers = shopify_headers(body)
    if tamper == "tampered body":
        body = body.replace(b"14.95", b"1.95")
    elif tamper == "missing signature":
        del headers["x-shopify-hmac-sha256"]
    else:
        headers["x-shopify-hmac-sha256"] = shopify_sign(body, "someone-elses-secret")
    status, answer = post("shop-main", body, headers, context)
    assert status == 401
    assert answer["error"] == "Unauthorized"
    assert shop.queued() == []


def test_a_malformed_body_gets_400_with_the_reason(shop, context):
    body = b'{"id": 1, "line_items": [}'
    status, answer = post("shop-main", body, shopify_headers(body), context)
    assert status == 400
    assert "not JSON" in answer["reason"] and "line 1" in answer["reason"]
    assert shop.queued() == []


def test_an_unknown_account_gets_404(shop, context):
    body = sample_body()
    status, _ = post("nobody", body, shopify_headers(body), context)
    assert status == 404
    assert shop.queued() == []


def test_an_oversized_body_gets_413(shop, context, monkeypatch):
    monkeypatch.setenv("MAX_WEBHOOK_BYTES", "1000")
    wiring.reset()
    body = json.dumps({"padding": "x" * 2000}).encode()
    status, _ = post("shop-main", body, shopify_headers(body), context)
    assert status == 413
    assert shop.queued() == []


def test_a_shopify_retry_of_the_same_event_is_acted_on_once(shop, context):
    body = sample_body()
    answers = [
        post("shop-main", body, shopify_headers(body, event_id="evt-retry"), context)[1]["status"] for _ in range(3)
    ]
    # Each retry is acknowledged once it is durable (one queue send); the worker acts on the delivery once.
    assert answers == ["accepted", "accepted", "accepted"]
    assert shop.worked_off(context, "shop-main") == 1


def test_a_stale_shopify_delivery_is_refused(shop, context):
    body = sample_body()
    headers = shopify_headers(body) | {"x-shopify-triggered-at": "2026-01-01T00:00:00Z"}
    status, answer = post("shop-main", body, headers, context)
    assert status == 401 and "stale" in answer["reason"]


def test_the_same_delivery_five_times_concurrently_is_acted_on_once(shop, context):
    # GIVEN five deliveries of one event arriving at once, each handled as its own Lambda container
    body = sample_body()
    headers = shopify_headers(body, event_id="evt-burst")
    start = threading.Barrier(5)
    outcomes: list[str] = []
    limits = Limits(max_bytes=1_000_000, tolerance=timedelta(minutes=5), stale_after=timedelta(hours=48))

    def container() -> None:
        start.wait()
        try:
            receipt = receive(
                WebhookRequest("shop-main", headers, body),
                accounts=wiring.config_store(),
                credentials=wiring.credentials(),
                queue=wiring.event_queue(),
                limits=limits,
                now=datetime.now(UTC),
            )
            outcomes.append(receipt.status)
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=container) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN each is acknowledged, and the worker acts on the event once
    assert outcomes == ["accepted"] * 5
    assert shop.worked_off(context, "shop-main") == 1


# --- WooCommerce and the koppel scheme ----------------------------------------------------------
def test_woocommerce_ping_is_answered_200_and_stored_nowhere(stack, context):
    stack.add_account(
        "woo", "woocommerce", {"webhook_secret": "woo-secret"}, settings={"base_url": "https://w.example"}
    )
    status, answer = post("woo", b"webhook_id=42", {"content-type": "application/x-www-form-urlencoded"}, context)
    assert (status, answer["status"]) == (200, "ping")
    assert stack.queued() == []


def test_a_signed_woocommerce_delivery_is_accepted(stack, context):
    stack.add_account(
        "woo", "woocommerce", {"webhook_secret": "woo-secret"}, settings={"base_url": "https://w.example"}
    )
    body = json.dumps({"id": 727, "status": "processing"}).encode()
    headers = {
        "x-wc-webhook-signature": shopify_sign(body, "woo-secret"),
        "x-wc-webhook-topic": "order.created",
        "x-wc-webhook-delivery-id": "36e520ebabc2fa725092ff4a47acedf2",
    }
    assert post("woo", body, headers, context)[1]["status"] == "accepted"
    assert post("woo", body, headers | {"x-wc-webhook-delivery-id": "other"}, context)[1]["status"] == "accepted"
    assert stack.worked_off(context, "woo") == 1  # the same signed body: the same delivery


def koppel_headers(body: bytes, secret: str, at: int, event_id: str = "stk-1") -> dict[str, str]:
    return {
        "x-koppel-timestamp": str(at),
        "x-koppel-signature": f"v1={koppel_digest(secret, str(at), event_id, 'stock.changed', body)}",
        "x-koppel-event-id": event_id,
        "x-koppel-topic": "stock.changed",
    }


def test_the_koppel_scheme_accepts_a_fresh_signature_and_refuses_a_replay(stack, context):
    stack.add_account("korona-pos", "korona", {"webhook_secret": "pos-secret"})
    body = json.dumps({"sku": "MUG-BLUE-350", "quantity": 4}).encode()
    now = int(time.time())
    assert post("korona-pos", body, koppel_headers(body, "pos-secret", now), context)[1]["status"] == "accepted"
    status, answer = post("korona-pos", body, koppel_headers(body, "pos-secret", now - 3600, "stk-2"), context)
    assert status == 401 and "stale" in answer["reason"]
    assert len(stack.queued()) == 1


def test_a_rotated_secret_still_verifies_during_the_rotation(stack, context):
    stack.add_account("korona-pos", "korona", {"webhook_secret": "new", "previous_webhook_secret": "old"})
    body = b'{"sku": "A", "quantity": 1}'
    now = int(time.time())
    assert post("korona-pos", body, koppel_headers(body, "old", now, "a"), context)[0] == 200
    assert post("korona-pos", body, koppel_headers(body, "new", now, "b"), context)[0] == 200
    assert post("korona-pos", body, koppel_headers(body, "guess", now, "c"), context)[0] == 401


def test_a_channel_without_webhooks_has_no_webhook_url(stack, context):
    stack.add_account("bol-nl", "bol", {"client_id": "x", "client_secret": "y"})
    body = b"{}"
    assert post("bol-nl", body, {}, context)[0] == 404


def test_a_large_order_near_the_size_limit_is_queued(shop, context):
    # GIVEN an order with thousands of lines, just under the 800 000-byte limit
    line = {"id": 1, "sku": "MUG-BLUE-350", "title": 'Stoneware mug "blue", 350 ml', "quantity": 1, "price": "14.95"}
    lines = [line] * (780_000 // (len(json.dumps(line)) + 2))
    body = json.dumps({"id": 1, "line_items": lines}).encode()
    assert 700_000 < len(body) <= 800_000
    status, answer = post("shop-main", body, shopify_headers(body), context)
    assert (status, answer["status"]) == (200, "accepted")
    assert len(shop.queued()) == 1


def test_a_body_that_would_not_fit_the_queue_once_escaped_gets_413(shop, context):
    body = ('{"id": 1, "note": "' + '\\"' * 390_000 + '"}').encode()  # every \" becomes \\\" when queued as text
    status, answer = post("shop-main", body, shopify_headers(body, event_id="too-big"), context)
    assert status == 413 and "too large to queue" in answer["reason"]
    assert shop.queued() == []
    # nothing was remembered either: the same delivery re-sent is refused again
    status, _ = post("shop-main", body, shopify_headers(body, event_id="too-big"), context)
    assert status == 413


def test_an_account_created_after_a_404_is_found_at_once(stack, context):
    body = sample_body()
    assert post("late-shop", body, shopify_headers(body), context)[0] == 404
    stack.add_account(
        "late-shop", "shopify", {"webhook_secret": WEBHOOK_SECRET}, settings={"shop_domain": "late-shop.myshopify.com"}
    )
    assert post("late-shop", body, shopify_headers(body), context)[0] == 200


def test_a_captured_shopify_delivery_replayed_under_a_new_event_id_is_not_acted_on_again(shop, context):
    body = sample_body()
    original = shopify_headers(body, event_id="evt-original")
    assert post("shop-main", body, original, context)[1]["status"] == "accepted"
    replay = original | {"x-shopify-event-id": "evt-forged", "x-shopify-webhook-id": "forged"}
    assert post("shop-main", body, replay, context)[0] == 200
    without_time = {k: v for k, v in replay.items() if k != "x-shopify-triggered-at"}
    status, answer = post("shop-main", body, without_time, context)
    assert status == 401 and "Triggered-At" in answer["reason"]
    assert shop.worked_off(context, "shop-main") == 1


def test_a_koppel_delivery_replayed_as_another_event_or_topic_is_refused(stack, context):
    stack.add_account("korona-pos", "korona", {"webhook_secret": "pos-secret"})
    body = b'{"sku": "MUG-BLUE-350", "quantity": 4, "observed_at": "2026-11-21T13:00:00Z"}'
    headers = koppel_headers(body, "pos-secret", int(time.time()), "stk-1")
    assert post("korona-pos", body, headers, context)[0] == 200
    assert post("korona-pos", body, headers | {"x-koppel-event-id": "stk-2"}, context)[0] == 401
    assert post("korona-pos", body, headers | {"x-koppel-topic": "orders.created"}, context)[0] == 401
    assert len(stack.queued()) == 1


def test_an_account_whose_secret_is_missing_asks_the_sender_to_retry(stack, context):
    # GIVEN an account whose secret was never stored (a set-up mistake on koppel's side)
    wiring.config_store().put_account(
        Account(
            account_id="half-set-up",
            system="shopify",
            secret_ref="koppel/half-set-up",
            settings={"shop_domain": "half.myshopify.com"},
        )
    )
    body = sample_body()
    status, _ = post("half-set-up", body, shopify_headers(body), context)
    # THEN the sender is told to retry (503), so the delivery survives until the secret exists
    assert status == 503
    assert stack.queued() == []


# --- replays under an unsigned header -----------------------------------------------------------
def shopify_order(**fields) -> bytes:
    order = json.loads(sample_body()) | fields
    return json.dumps(order).encode()


def test_a_captured_shopify_delivery_resent_under_another_topic_and_a_fresh_time_is_not_acted_on_again(shop, context):
    # GIVEN a delivery koppel has queued
    body = sample_body()
    assert post("shop-main", body, shopify_headers(body, topic="orders/create"), context)[1]["status"] == "accepted"
    # WHEN the capture is re-sent with the unsigned topic changed and a fresh triggered-at
    for topic in ("orders/paid", "orders/updated", "orders/cancelled"):
        status, _ = post("shop-main", body, shopify_headers(body, topic=topic), context)
        # THEN it is the same signed body, so the same delivery: acted on once, as what it first came as
        assert status == 200
    assert shop.worked_off(context, "shop-main") == 1
    [received] = [entry for entry in wiring.activity_log().recent("shop-main") if entry.kind == "webhook.received"]
    assert received.message == "orders/create received"


def test_a_woocommerce_delivery_resent_under_another_topic_is_acted_on_once(stack, context):
    stack.add_account(
        "woo", "woocommerce", {"webhook_secret": "woo-secret"}, settings={"base_url": "https://w.example"}
    )
    body = json.dumps({"id": 727, "status": "processing"}).encode()
    signature = {"x-wc-webhook-signature": shopify_sign(body, "woo-secret")}
    assert post("woo", body, signature | {"x-wc-webhook-topic": "order.created"}, context)[1]["status"] == "accepted"
    assert post("woo", body, signature | {"x-wc-webhook-topic": "order.updated"}, context)[0] == 200
    assert stack.worked_off(context, "woo") == 1


@pytest.mark.parametrize("topic", ["app/uninstalled", "customers/redact", "shop/redact", "../../etc/passwd"])
def test_a_topic_koppel_does_not_take_from_shopify_is_acknowledged_as_ignored_and_not_queued(
    shop, context, monkeypatch, topic
):
    counted: list[str] = []
    monkeypatch.setattr(webhook_receiver.metrics, "add_metric", lambda name, **_: counted.append(name))
    # GIVEN a correctly signed body under a topic koppel does not handle (the header is not signed)
    body = sample_body()
    status, answer = post("shop-main", body, shopify_headers(body, topic=topic), context)
    # THEN Shopify hears 200, so it does not retry or disable the webhook, and nothing is queued
    assert (status, answer["status"]) == (200, "ignored")
    assert "nothing was queued" in answer["reason"]
    assert shop.queued() == []
    # AND it is counted
    assert counted == ["Webhook_ignored"]
    # AND the same body under a topic koppel takes is still new: an ignored one stores nothing
    assert post("shop-main", body, shopify_headers(body), context)[1]["status"] == "accepted"


def test_a_koppel_scheme_topic_outside_its_documented_set_is_ignored(stack, context):
    stack.add_account("korona-pos", "korona", {"webhook_secret": "pos-secret"})
    body = b'{"sku": "MUG-BLUE-350", "quantity": 4}'
    now = str(int(time.time()))
    headers = {
        "x-koppel-timestamp": now,
        "x-koppel-signature": f"v1={koppel_digest('pos-secret', now, 'e-9', 'customers.redact', body)}",
        "x-koppel-event-id": "e-9",
        "x-koppel-topic": "customers.redact",
    }
    assert post("korona-pos", body, headers, context)[1]["status"] == "ignored"
    assert stack.queued() == []


@pytest.mark.parametrize(
    ("topic", "payload", "missing"),
    [
        ("inventory_levels/update", {"location_id": 2, "available": 3, "updated_at": "now"}, "inventory_item_id"),
        ("inventory_levels/update", {"inventory_item_id": 1, "available": 3, "updated_at": "now"}, "location_id"),
        ("inventory_levels/update", {"inventory_item_id": 1, "location_id": 2, "available": 3}, "updated_at"),
        ("refunds/create", {"id": 1}, "order_id"),
        ("orders/create", {"name": "#1001"}, "id"),
    ],
)
def test_a_signed_body_that_does_not_fit_its_topic_gets_400(shop, context, topic, payload, missing):
    if payload.get("updated_at") == "now":
        payload["updated_at"] = datetime.now(UTC).isoformat()
    body = json.dumps(payload).encode()
    status, answer = post("shop-main", body, shopify_headers(body, topic=topic), context)
    assert status == 400 and missing in answer["reason"] and topic in answer["reason"]
    assert shop.queued() == []


def test_a_koppel_stock_body_without_sku_or_quantity_gets_400(stack, context):
    stack.add_account("korona-pos", "korona", {"webhook_secret": "pos-secret"})
    now = int(time.time())
    for body in (b'{"quantity": 4}', b'{"sku": "MUG"}', b'{"levels": []}', b'{"levels": [3]}'):
        status, answer = post("korona-pos", body, koppel_headers(body, "pos-secret", now, body.hex()[:20]), context)
        assert status == 400 and "stock.changed" in answer["reason"], (body, answer)
    assert stack.queued() == []


def test_a_capture_replayed_after_the_stale_window_is_refused_whatever_its_triggered_at(shop, context):
    # GIVEN an order update Shopify signed 50 hours ago: its de-duplication record has expired by now
    updated = (datetime.now(UTC) - timedelta(hours=50)).isoformat()
    body = shopify_order(updated_at=updated)
    # WHEN it is re-sent with a fresh (unsigned) triggered-at
    status, answer = post("shop-main", body, shopify_headers(body, topic="orders/updated"), context)
    # THEN the signed updated_at shows it for the replay it is
    assert status == 401 and "updated_at" in answer["reason"]
    assert shop.queued() == []
    # AND a fresh update is accepted
    fresh = shopify_order(updated_at=datetime.now(UTC).isoformat())
    assert post("shop-main", fresh, shopify_headers(fresh, topic="orders/updated"), context)[0] == 200


def test_the_signed_updated_at_decides_staleness_not_the_triggered_at_header(shop, context):
    # GIVEN a fresh order update sent with an old triggered-at (the header is anyone's to change)
    body = shopify_order(updated_at=datetime.now(UTC).isoformat())
    headers = shopify_headers(body, topic="orders/updated") | {"x-shopify-triggered-at": "2026-01-01T00:00:00Z"}
    # THEN the signed time counts, and it is fresh
    assert post("shop-main", body, headers, context)[1]["status"] == "accepted"


# --- what unauthenticated input puts in a log line ----------------------------------------------
@pytest.fixture
def info_logs():
    """Every line koppel's logger writes at INFO and above, formatted as in CloudWatch."""
    import io
    import logging

    from koppel.observability import logger

    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(logger.registered_formatter)
    level = logger.log_level
    logger.addHandler(handler)
    logger.setLevel("INFO")
    yield lambda: written.getvalue().splitlines()
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_an_unknown_account_id_of_3000_characters_is_not_logged(shop, context, info_logs):
    body = sample_body()
    status, _ = post("a" * 3000, body, shopify_headers(body), context)
    assert status == 404
    lines = info_logs()
    assert lines, "the refusal is logged"
    assert all("a" * 100 not in line and len(line) < 1500 for line in lines), lines


def test_unsigned_topic_and_event_id_headers_are_logged_bounded_and_escaped(shop, context, info_logs):
    body = sample_body()
    headers = shopify_headers(body, topic="x" * 3000 + "\u00e9", event_id="e" * 3000)
    assert post("shop-main", body, headers, context)[1]["status"] == "ignored"
    # a control character (here a right-to-left override) never reaches a line: the header is refused
    rlo = shopify_headers(body, topic="orders/create\u202e")
    assert post("shop-main", body, rlo, context)[0] == 400
    lines = info_logs()
    assert any("webhook answered" in line for line in lines)
    for line in lines:
        assert "x" * 100 not in line and "e" * 200 not in line, line
        assert "\u202e" not in line and "\\u202e" not in line, line
        assert len(line) < 1500, line
    # An id too long to be one is not kept either: the signed body's digest names the delivery.
    ok = post("shop-main", body, shopify_headers(body, event_id="e" * 3000), context)[1]
    assert ok["status"] == "accepted" and len(ok["event_id"]) == 32
