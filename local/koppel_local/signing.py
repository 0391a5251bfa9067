"""How senders sign webhooks for koppel, for the demo and for anyone wiring up a system by hand."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from koppel.webhooks import body_digest, koppel_digest


def shopify_headers(body: bytes, secret: str, *, topic: str, shop_domain: str, event_id: str | None = None) -> dict:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": body_digest(secret, body),
        "X-Shopify-Shop-Domain": shop_domain,
        "X-Shopify-API-Version": "2025-04",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def koppel_headers(body: bytes, secret: str, *, topic: str, event_id: str | None = None, at: int | None = None) -> dict:
    timestamp = str(at if at is not None else int(time.time()))
    event_id = event_id or str(uuid.uuid4())
    return {
        "Content-Type": "application/json",
        "X-Koppel-Timestamp": timestamp,
        "X-Koppel-Signature": f"v1={koppel_digest(secret, timestamp, event_id, topic, body)}",
        "X-Koppel-Event-Id": event_id,
        "X-Koppel-Topic": topic,
    }
