"""WooCommerce's webhooks: their signature, and the stock a `product.*` delivery reports.

`X-WC-Webhook-Signature` = base64(HMAC-SHA256(secret, raw body)). It covers the body only, and the
delivery id is not stable across re-sends, so deliveries are deduplicated on a digest of the body
alone: a capture re-sent under another topic header is the same delivery. A topic the declaration
does not list is acknowledged and queued nowhere (WooCommerce disables a webhook after 5 refusals).
The unsigned `webhook_id=N` ping sent when a webhook is created is answered 200 and stored nowhere.
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
from koppel.webhooks import (
    MAX_EVENT_ID,
    Delivery,
    Ignored,
    Ping,
    VerifyContext,
    accepts,
    body_digest,
    header,
    matches,
    parse_moment,
    parse_object,
    require,
)

WOO_PING = re.compile(rb"^webhook_id=\d+$")


def verify(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, _ctx: VerifyContext
) -> Delivery | Ping | Ignored:
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
    if not accepts(account, topic):
        return Ignored(account_id=account.account_id, topic=topic)
    payload = parse_object(body)
    require(payload, topic, ("id",))
    digest = hashlib.sha256(body).hexdigest()
    event_id = header(headers, "X-WC-Webhook-Delivery-ID")
    return Delivery(
        account_id=account.account_id,
        system=account.system,
        topic=topic,
        event_id=event_id if 0 < len(event_id) <= MAX_EVENT_ID else digest[:32],
        dedupe_key=f"{account.account_id}:woocommerce:{digest}",
        payload=payload,
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
