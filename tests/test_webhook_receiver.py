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


def test_a_shopify_retry_of_the_same_event_is_queued_once(shop, context):
    body = sample_body()
    answers = [
        post("shop-main", body, shopify_headers(body, event_id="evt-retry"), context)[1]["status"] for _ in range(3)
    ]
    assert answers == ["accepted", "duplicate", "duplicate"]
    assert len(shop.queued()) == 1


def test_a_stale_shopify_delivery_is_refused(shop, context):
    body = sample_body()
    headers = shopify_headers(body) | {"x-shopify-triggered-at": "2026-01-01T00:00:00Z"}
    status, answer = post("shop-main", body, headers, context)
    assert status == 401 and "stale" in answer["reason"]


def test_the_same_delivery_five_times_concurrently_is_queued_once(shop, context):
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
                dedupe=wiring.deduplicator(context, 3600),
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
    # THEN exactly one is accepted; the others are told "duplicate" or "in progress, retry"
    assert outcomes.count("accepted") == 1
    assert set(outcomes) <= {"accepted", "duplicate", "InProgress"}
    assert len(shop.queued()) == 1


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
    assert post("woo", body, headers | {"x-wc-webhook-delivery-id": "other"}, context)[1]["status"] == "duplicate"
    assert len(stack.queued()) == 1


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
    # nothing was remembered either: the same delivery re-sent is refused again, not called a duplicate
    status, _ = post("shop-main", body, shopify_headers(body, event_id="too-big"), context)
    assert status == 413


def test_an_account_created_after_a_404_is_found_at_once(stack, context):
    body = sample_body()
    assert post("late-shop", body, shopify_headers(body), context)[0] == 404
    stack.add_account(
        "late-shop", "shopify", {"webhook_secret": WEBHOOK_SECRET}, settings={"shop_domain": "late-shop.myshopify.com"}
    )
    assert post("late-shop", body, shopify_headers(body), context)[0] == 200


def test_a_captured_shopify_delivery_replayed_under_a_new_event_id_is_not_queued_again(shop, context):
    body = sample_body()
    original = shopify_headers(body, event_id="evt-original")
    assert post("shop-main", body, original, context)[1]["status"] == "accepted"
    replay = original | {"x-shopify-event-id": "evt-forged", "x-shopify-webhook-id": "forged"}
    assert post("shop-main", body, replay, context)[1]["status"] == "duplicate"
    without_time = {k: v for k, v in replay.items() if k != "x-shopify-triggered-at"}
    status, answer = post("shop-main", body, without_time, context)
    assert status == 401 and "Triggered-At" in answer["reason"]
    assert len(shop.queued()) == 1


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
