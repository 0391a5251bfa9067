"""WooCommerce's webhooks: their signature, and the stock a `product.*` delivery reports.

`X-WC-Webhook-Signature` = base64(HMAC-SHA256(secret, raw body)). It covers the body only, and the
delivery id is not stable across re-sends, so deliveries are deduplicated on a digest of the body
alone: a capture re-sent under another topic header is the same delivery. A topic the declaration
does not list is acknowledged and queued nowhere (WooCommerce disables a webhook after 5 refusals).
The unsigned `webhook_id=N` ping sent when a webhook is created is answered 200 and stored nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from koppel.config import Account
from koppel.errors import BadRequest
from koppel.models import WarehouseStock
from koppel.ports.stock import IncomingLevel
from koppel.queue import Envelope
from koppel.webhooks import (
    Delivery,
    Ignored,
    Ping,
    VerifyContext,
    accepts,
    body_signed_delivery,
    header,
    parse_moment,
    parse_object,
    require,
    require_body_signature,
)

WOO_PING = re.compile(rb"^webhook_id=\d+$")
SIGNATURE = "X-WC-Webhook-Signature"


def verify(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, _ctx: VerifyContext
) -> Delivery | Ping | Ignored:
    if not header(headers, SIGNATURE) and WOO_PING.match(body.strip()):
        return Ping(account_id=account.account_id)
    require_body_signature(headers, SIGNATURE, secrets, body)
    topic = header(headers, "X-WC-Webhook-Topic")
    if not topic:
        raise BadRequest("X-WC-Webhook-Topic is required")
    if not accepts(account, topic):
        return Ignored(account_id=account.account_id, topic=topic)
    payload = parse_object(body)
    require(payload, topic, ("id",))
    return body_signed_delivery(account, topic, header(headers, "X-WC-Webhook-Delivery-ID"), body, payload)


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
