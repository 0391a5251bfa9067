"""Webhook receiver, warm path: signed Shopify orders/create → verified → queued (one AWS call).

Prints events/s through the real handler and the ratio to the irreducible work on the same body
(HMAC-SHA256 + base64 + JSON parse), measured in the same run. Target: ratio <= 3.

Two figures, because the AWS side can be measured two ways:
- botocore stubs: every AWS call is serialised and parsed by botocore, but answered at once —
  koppel's own cost on top of the calls it must make;
- moto in-process: the same, plus moto's own processing of each call (an upper bound).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import io
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions" / "webhook_receiver"))  # the function's code root, as in Lambda

from koppel_local.provision import offline_environment  # noqa: E402 - before koppel reads it

os.environ.update(offline_environment())

import boto3  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

from koppel import aws, wiring  # noqa: E402
from koppel.config import Account  # noqa: E402
from koppel_local.provision import embedded_aws, function_environment  # noqa: E402
from koppel_local.reference import reference_file  # noqa: E402
from koppel_local.runtime import LambdaContext  # noqa: E402
from koppel_local.template import REGION  # noqa: E402

SECRET = "bench-webhook-secret"
EVENTS = 2000


def sample() -> tuple[bytes, str]:
    published = reference_file("shopify", "orders_create.sample.json")
    if published is not None:
        return published.read_bytes(), "Shopify's published orders/create sample"
    event = json.loads((ROOT / "events" / "webhook_shopify_orders_create.json").read_text())
    return event["body"].encode(), "koppel's own orders/create sample (events/)"


def events_for(body: bytes, n: int) -> list[dict]:
    """n deliveries of distinct events (koppel de-duplicates on the body), signed before timing."""
    template = json.loads((ROOT / "events" / "webhook_shopify_orders_create.json").read_text())
    payload = json.loads(body)
    events = []
    for seq in range(n):
        payload["id"] = seq
        payload["updated_at"] = datetime.now(UTC).isoformat()  # the signed body's time: fresh, or refused as stale
        text = json.dumps(payload).encode()
        event = json.loads(json.dumps(template))
        event["body"] = text.decode()
        event["headers"]["x-shopify-event-id"] = str(uuid.uuid4())
        event["headers"]["x-shopify-triggered-at"] = datetime.now(UTC).isoformat()
        event["headers"]["x-shopify-hmac-sha256"] = base64.b64encode(
            hmac.new(SECRET.encode(), text, hashlib.sha256).digest()
        ).decode()
        events.append(event)
    return events


def irreducible(body: bytes, header: str, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        digest = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        hmac.compare_digest(digest, header)
        json.loads(body)
    return n / (time.perf_counter() - start)


def through_handler(handler, events: list[dict], before_each=None) -> float:
    context = LambdaContext(function_name="bench", timeout=900)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the metrics lines Lambda would ship to CloudWatch
        for event in events:
            if before_each:
                before_each()
            answer = handler(event, context)
            assert answer["statusCode"] == 200 and '"accepted"' in answer["body"], answer
    return len(events) / (time.perf_counter() - start)


def main() -> None:
    body, where = sample()
    events = events_for(body, 50 + EVENTS // 4 + 50 + EVENTS + 500)
    base = irreducible(body, events[0]["headers"]["x-shopify-hmac-sha256"], EVENTS * 5)
    with embedded_aws("bench") as template:
        os.environ.update(function_environment(template))
        wiring.reset()
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="koppel/shop-main", SecretString=json.dumps({"webhook_secret": SECRET})
        )
        wiring.config_store().put_account(
            Account(
                account_id="shop-main",
                system="shopify",
                secret_ref="koppel/shop-main",
                settings={"shop_domain": "demo-shop.myshopify.com"},
            )
        )
        import webhook_receiver

        warm, events = events[:50], events[50:]
        through_handler(webhook_receiver.lambda_handler, warm)  # warm: clients, caches, imports
        moto_events, events = events[: EVENTS // 4], events[EVENTS // 4 :]
        moto_rate = through_handler(webhook_receiver.lambda_handler, moto_events)

        # Same handler, AWS answered by botocore stubs: the one queue send per delivery.
        calls: list[str] = []

        def count(model, **_) -> None:
            calls.append(f"{model.service_model.service_name}:{model.name}")

        for service in ("dynamodb", "sqs", "secretsmanager"):
            aws.client(service).meta.events.register("before-parameter-build", count)
        ddb, sqs = Stubber(aws.client("dynamodb")), Stubber(aws.client("sqs"))

        def queue_answers() -> None:
            sqs.add_response("send_message", {"MessageId": str(uuid.uuid4()), "MD5OfMessageBody": "0" * 32})

        with ddb, sqs:
            through_handler(webhook_receiver.lambda_handler, events[:50], queue_answers)
            events = events[50:]
            if os.environ.get("BENCH_PROFILE"):
                import cProfile
                import pstats

                profile = cProfile.Profile()
                profile.enable()
                through_handler(webhook_receiver.lambda_handler, events[EVENTS:], queue_answers)
                profile.disable()
                pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
            calls.clear()
            stub_rate = through_handler(webhook_receiver.lambda_handler, events[:EVENTS], queue_answers)
            per_delivery = len(calls) / EVENTS
            # What botocore alone spends on that one call: the same send, of a body the same size, stubbed.
            queue_url = os.environ["EVENT_QUEUE_URL"]
            message = json.dumps({"body": body.decode(), "pad": "x" * 400})
            start = time.perf_counter()
            for _ in range(EVENTS):
                queue_answers()
                aws.client("sqs").send_message(QueueUrl=queue_url, MessageBody=message)
            botocore_call = (time.perf_counter() - start) / EVENTS

    print(f"webhook receiver warm path — {where}, {len(body)} bytes")
    print(f"  irreducible (HMAC + base64 + compare + JSON parse): {base:10.0f} events/s   (baseline)")
    print(
        f"  handler, AWS via botocore stubs:                    {stub_rate:10.0f} events/s   "
        f"ratio {base / stub_rate:5.1f}x  (target <= 3x)"
    )
    print(
        f"  handler, AWS via moto in-process:                   {moto_rate:10.0f} events/s   "
        f"ratio {base / moto_rate:5.1f}x  (moto's own work included)"
    )
    own = max(1 / stub_rate - per_delivery * botocore_call, 1e-9)
    print(f"  AWS calls per delivery: {per_delivery:.2f}   ({', '.join(sorted(set(calls))) or 'none'}; target 1)")
    print(
        f"  koppel's own work, net of botocore building that call ({botocore_call * 1e6:.0f} us): "
        f"{1 / own:10.0f} events/s   ratio {base * own:5.1f}x  (target <= 3x)"
    )
    print("  the account and its secret come from per-container caches; the queue worker de-duplicates.")


if __name__ == "__main__":
    main()
