"""Inbound webhook authentication, one scheme per system, all compared in constant time.

- Shopify: `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(app secret, raw body)). The signature
  covers the body only, so the de-duplication key is the topic plus a digest of the body (Shopify's
  retries carry the original body; a replay under a new event id is the same body).
  `X-Shopify-Triggered-At` is required; older than the stale window is refused (Shopify's retries
  keep the original time and end after 4 hours).
- WooCommerce: `X-WC-Webhook-Signature` = base64(HMAC-SHA256(secret, raw body)). Its delivery id is
  not stable across re-sends, so deliveries are deduplicated on topic + body digest. The unsigned
  `webhook_id=N` ping sent when a webhook is created is answered 200 and stored nowhere.
- koppel: for systems that sign nothing themselves. `X-Koppel-Timestamp` (unix seconds),
  `X-Koppel-Event-Id`, `X-Koppel-Topic` and `X-Koppel-Signature: v1=<hex>` where hex is
  HMAC-SHA256(secret, "<timestamp>\n<event id>\n<topic>\n" + raw body): the id and topic are signed,
  so a captured request cannot be re-sent as another event. A timestamp outside the tolerance is a
  replay.
A secret being rotated may be given twice (`webhook_secret`, `previous_webhook_secret`); either verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from koppel.config import Account, WebhookScheme
from koppel.errors import BadRequest, NotFound, Unauthorized


@dataclass(frozen=True)
class Delivery:
    """An authenticated delivery, ready to be queued."""

    account_id: str
    system: str
    topic: str
    event_id: str
    dedupe_key: str
    triggered_at: datetime | None = None


@dataclass(frozen=True)
class Ping:
    """WooCommerce's unsigned hello when a webhook is created."""

    account_id: str


@dataclass(frozen=True)
class VerifyContext:
    now: datetime
    tolerance: timedelta  # koppel scheme: allowed clock difference
    stale_after: timedelta  # Shopify: oldest triggered-at still accepted


def shopify_digest(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def koppel_digest(secret: str, timestamp: str, event_id: str, topic: str, body: bytes) -> str:
    # Newlines cannot occur in header values, so the parts cannot be shifted into one another.
    signed = f"{timestamp}\n{event_id}\n{topic}\n".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _matches(candidates: list[str], received: str) -> bool:
    # Every candidate is compared, so timing does not reveal which secret (if any) came close.
    results = [hmac.compare_digest(candidate.encode(), received.encode()) for candidate in candidates]
    return any(results)


def _header(headers: Mapping[str, str], name: str) -> str:
    return (headers.get(name.lower()) or "").strip()


def verify(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, ctx: VerifyContext
) -> Delivery | Ping:
    """Authenticate one delivery. `headers` must have lower-case names (API Gateway v2 gives that)."""
    scheme = account.webhook_scheme
    if scheme is WebhookScheme.NONE:
        raise NotFound(f"{account.system} accounts receive no webhooks")
    if not secrets:
        raise Unauthorized("no webhook secret configured for this account")
    if scheme is WebhookScheme.SHOPIFY:
        return _verify_shopify(account, secrets, headers, body, ctx)
    if scheme is WebhookScheme.WOOCOMMERCE:
        return _verify_woocommerce(account, secrets, headers, body)
    return _verify_koppel(account, secrets, headers, body, ctx)


def _verify_shopify(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, ctx: VerifyContext
) -> Delivery:
    received = _header(headers, "X-Shopify-Hmac-Sha256")
    if not received:
        raise Unauthorized("missing X-Shopify-Hmac-Sha256")
    if not _matches([shopify_digest(secret, body) for secret in secrets], received):
        raise Unauthorized("signature does not match")
    topic = _header(headers, "X-Shopify-Topic")
    if not topic:
        raise BadRequest("X-Shopify-Topic is required")
    triggered_at = _parse_time(_header(headers, "X-Shopify-Triggered-At"))
    if triggered_at is None:
        raise Unauthorized("X-Shopify-Triggered-At is required to tell a fresh delivery from a replay")
    if ctx.now - triggered_at > ctx.stale_after or triggered_at - ctx.now > ctx.tolerance:
        raise Unauthorized("stale delivery: triggered outside the accepted window")
    digest = hashlib.sha256(topic.encode() + b"\n" + body).hexdigest()
    return Delivery(
        account_id=account.account_id,
        system=account.system.value,
        topic=topic,
        event_id=_header(headers, "X-Shopify-Event-Id") or _header(headers, "X-Shopify-Webhook-Id") or digest[:32],
        dedupe_key=f"{account.account_id}:shopify:{digest}",
        triggered_at=triggered_at,
    )


WOO_PING = re.compile(rb"^webhook_id=\d+$")


def _verify_woocommerce(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes
) -> Delivery | Ping:
    received = _header(headers, "X-WC-Webhook-Signature")
    if not received and WOO_PING.match(body.strip()):
        return Ping(account_id=account.account_id)
    if not received:
        raise Unauthorized("missing X-WC-Webhook-Signature")
    if not _matches([shopify_digest(secret, body) for secret in secrets], received):
        raise Unauthorized("signature does not match")
    topic = _header(headers, "X-WC-Webhook-Topic")
    if not topic:
        raise BadRequest("X-WC-Webhook-Topic is required")
    digest = hashlib.sha256(topic.encode() + b"\n" + body).hexdigest()
    return Delivery(
        account_id=account.account_id,
        system=account.system.value,
        topic=topic,
        event_id=_header(headers, "X-WC-Webhook-Delivery-ID") or digest[:32],
        dedupe_key=f"{account.account_id}:woocommerce:{digest}",
    )


def _verify_koppel(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, ctx: VerifyContext
) -> Delivery:
    timestamp = _header(headers, "X-Koppel-Timestamp")
    signature = _header(headers, "X-Koppel-Signature")
    if not timestamp or not signature:
        raise Unauthorized("missing X-Koppel-Timestamp or X-Koppel-Signature")
    if not timestamp.isdigit():
        raise Unauthorized("X-Koppel-Timestamp must be unix seconds")
    topic = _header(headers, "X-Koppel-Topic")
    event_id = _header(headers, "X-Koppel-Event-Id")
    if not topic or not event_id:
        raise Unauthorized("X-Koppel-Topic and X-Koppel-Event-Id are required: both are signed")
    sent = [part.strip()[3:] for part in signature.split(",") if part.strip().startswith("v1=")]
    expected = [koppel_digest(secret, timestamp, event_id, topic, body) for secret in secrets]
    if not any(_matches(expected, candidate) for candidate in sent):
        raise Unauthorized("signature does not match")
    # Checked after the signature so the timestamp is known to be the sender's own.
    signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(ctx.now - signed_at) > ctx.tolerance:
        raise Unauthorized("stale delivery: timestamp outside the accepted window")
    return Delivery(
        account_id=account.account_id,
        system=account.system.value,
        topic=topic,
        event_id=event_id,
        dedupe_key=f"{account.account_id}:koppel:{event_id}",
        triggered_at=signed_at,
    )


def _parse_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
