"""Inbound webhook authentication: what every scheme shares, and koppel's own scheme.

Each system's declaration names its verifier (`Webhooks.verifier`); Shopify's and WooCommerce's live
in their packages. Every digest is compared in constant time.

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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from koppel.config import Account
from koppel.errors import NotFound, Unauthorized


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


class Verifier(Protocol):
    def __call__(
        self, account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, ctx: VerifyContext
    ) -> Delivery | Ping: ...


@dataclass(frozen=True)
class VerifyContext:
    now: datetime
    tolerance: timedelta  # koppel scheme: allowed clock difference
    stale_after: timedelta  # Shopify: oldest triggered-at still accepted


def body_digest(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def koppel_digest(secret: str, timestamp: str, event_id: str, topic: str, body: bytes) -> str:
    # Newlines cannot occur in header values, so the parts cannot be shifted into one another.
    signed = f"{timestamp}\n{event_id}\n{topic}\n".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def matches(candidates: list[str], received: str) -> bool:
    # Every candidate is compared, so timing does not reveal which secret (if any) came close.
    results = [hmac.compare_digest(candidate.encode(), received.encode()) for candidate in candidates]
    return any(results)


def header(headers: Mapping[str, str], name: str) -> str:
    return (headers.get(name.lower()) or "").strip()


def verify(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, ctx: VerifyContext
) -> Delivery | Ping:
    """Authenticate one delivery the way the account's system signs it (its declaration says how).
    `headers` must have lower-case names (API Gateway v2 gives that)."""
    from koppel.connectors import registry

    webhooks = registry.spec(account.system).webhooks
    if webhooks is None:
        raise NotFound(f"{account.system} accounts receive no webhooks")
    if not secrets:
        raise Unauthorized("no webhook secret configured for this account")
    verifier: Verifier = registry.load(webhooks.verifier)
    return verifier(account, secrets, headers, body, ctx)


def verify_koppel(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, ctx: VerifyContext
) -> Delivery:
    timestamp = header(headers, "X-Koppel-Timestamp")
    signature = header(headers, "X-Koppel-Signature")
    if not timestamp or not signature:
        raise Unauthorized("missing X-Koppel-Timestamp or X-Koppel-Signature")
    if not timestamp.isdigit():
        raise Unauthorized("X-Koppel-Timestamp must be unix seconds")
    topic = header(headers, "X-Koppel-Topic")
    event_id = header(headers, "X-Koppel-Event-Id")
    if not topic or not event_id:
        raise Unauthorized("X-Koppel-Topic and X-Koppel-Event-Id are required: both are signed")
    sent = [part.strip()[3:] for part in signature.split(",") if part.strip().startswith("v1=")]
    expected = [koppel_digest(secret, timestamp, event_id, topic, body) for secret in secrets]
    if not any(matches(expected, candidate) for candidate in sent):
        raise Unauthorized("signature does not match")
    # Checked after the signature so the timestamp is known to be the sender's own.
    signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(ctx.now - signed_at) > ctx.tolerance:
        raise Unauthorized("stale delivery: timestamp outside the accepted window")
    return Delivery(
        account_id=account.account_id,
        system=account.system,
        topic=topic,
        event_id=event_id,
        dedupe_key=f"{account.account_id}:koppel:{event_id}",
        triggered_at=signed_at,
    )


def parse_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_moment(value: object, *, naive_is_utc: bool) -> datetime | None:
    """A time a payload carries; `naive_is_utc` False refuses one without an offset."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise ValueError(f"time {value} has no UTC offset; send it as 2026-11-21T13:00:00Z or with +01:00")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
