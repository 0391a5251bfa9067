"""Flow: accept a webhook delivery — authenticate, check, de-duplicate, queue. The work happens later."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from koppel.credentials import CredentialReader
from koppel.dedupe import Deduplicator
from koppel.errors import BadRequest, ConfigurationError, PayloadTooLarge, ServiceUnavailable
from koppel.observability import logger
from koppel.ports.config import AccountReader
from koppel.queue import Envelope, EventQueue
from koppel.webhooks import Ping, VerifyContext, verify


@dataclass(frozen=True)
class WebhookRequest:
    account_id: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    tolerance: timedelta
    stale_after: timedelta


@dataclass(frozen=True)
class Receipt:
    status: Literal["accepted", "duplicate", "ping"]
    event_id: str = ""
    topic: str = ""


def receive(
    request: WebhookRequest,
    *,
    accounts: AccountReader,
    credentials: CredentialReader,
    dedupe: Deduplicator,
    queue: EventQueue,
    limits: Limits,
    now: datetime,
) -> Receipt:
    if len(request.body) > limits.max_bytes:
        raise PayloadTooLarge(f"body is {len(request.body)} bytes; the limit is {limits.max_bytes}")
    account = accounts.get_account(request.account_id)
    try:
        secret = credentials.credentials(account)
    except ConfigurationError as exc:
        # koppel's own set-up is wrong, not the delivery: ask the sender to retry while it is fixed.
        logger.error("webhook secret unreadable", account_id=account.account_id, reason=exc.message)
        raise ServiceUnavailable("this account's credentials cannot be read right now") from exc
    candidates = [str(secret[key]) for key in ("webhook_secret", "previous_webhook_secret") if secret.get(key)]
    ctx = VerifyContext(now=now, tolerance=limits.tolerance, stale_after=limits.stale_after)
    delivery = verify(account, candidates, request.headers, request.body, ctx)
    if isinstance(delivery, Ping):
        return Receipt(status="ping")
    text = _json_text(request.body)
    envelope = Envelope(
        account_id=delivery.account_id,
        system=delivery.system,
        topic=delivery.topic,
        event_id=delivery.event_id,
        dedupe_key=delivery.dedupe_key,
        received_at=now,
        sent_at=delivery.triggered_at,
        body=text,
    )
    _result, first_time = dedupe.once(delivery.dedupe_key, lambda: {"message_id": queue.send(envelope)})
    return Receipt(status="accepted" if first_time else "duplicate", event_id=delivery.event_id, topic=delivery.topic)


def _json_text(body: bytes) -> str:
    """The body as text, provided it is a JSON object (checked only after authentication)."""
    try:
        text = body.decode("utf-8")
        parsed = json.loads(text)
    except UnicodeDecodeError as exc:
        raise BadRequest("body is not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise BadRequest(f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    if not isinstance(parsed, dict):
        raise BadRequest("body must be a JSON object")
    return text
