"""WooCommerce's webhooks: their signature, and the stock a `product.*` delivery reports.

`X-WC-Webhook-Signature` = base64(HMAC-SHA256(secret, raw body)). Its delivery id is not stable
across re-sends, so deliveries are deduplicated on topic + body digest. The unsigned
`webhook_id=N` ping sent when a webhook is created is answered 200 and stored nowhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any

from koppel.config import Account
from koppel.errors import BadRequest, Unauthorized
from koppel.models import WarehouseStock
from koppel.ports.stock import IncomingLevel
from koppel.queue import Envelope
from koppel.webhooks import Delivery, Ping, VerifyContext, body_digest, header, matches, parse_moment

WOO_PING = re.compile(rb"^webhook_id=\d+$")


def verify(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, _ctx: VerifyContext
) -> Delivery | Ping:
    received = header(headers, "X-WC-Webhook-Signature")
    if not received and WOO_PING.match(body.strip()):
        return Ping(account_id=account.account_id)
    if not received:
        raise Unauthorized("missing X-WC-Webhook-Signature")
    if not matches([body_digest(secret, body) for secret in secrets], received):
        raise Unauthorized("signature does not match")
    topic = header(headers, "X-WC-Webhook-Topic")
    if not topic:
        raise BadRequest("X-WC-Webhook-Topic is required")
    digest = hashlib.sha256(topic.encode() + b"\n" + body).hexdigest()
    return Delivery(
        account_id=account.account_id,
        system=account.system,
        topic=topic,
        event_id=header(headers, "X-WC-Webhook-Delivery-ID") or digest[:32],
        dedupe_key=f"{account.account_id}:woocommerce:{digest}",
    )


def stock_levels(envelope: Envelope, payload: dict[str, Any], _items: Callable[[], object]) -> list[IncomingLevel]:
    """`product.*`: a stock-managed product's `stock_quantity`."""
    if not payload.get("manage_stock") or not payload.get("sku") or payload.get("stock_quantity") is None:
        return []
    # WooCommerce builds the body when it delivers, and leaves date_modified as it was when an order
    # takes stock: the delivery's own time orders its stock, never the product's last edit.
    modified = parse_moment(payload.get("date_modified_gmt"), naive_is_utc=True)
    observed_at = max(filter(None, (modified, envelope.received_at)))
    stock = WarehouseStock(sku=str(payload["sku"]), on_hand=int(payload["stock_quantity"]), observed_at=observed_at)
    return [IncomingLevel.of(stock)]
