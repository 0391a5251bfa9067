"""Flow: accept a webhook delivery — authenticate, check, queue. The work happens later.

Nothing is stored or queued before the signature verifies and the body is a well-formed JSON object
that fits its topic; a topic koppel does not take from the system is acknowledged as ignored. Every
refusal is a typed 4xx with its reason; nothing unauthenticated reaches a log line unbounded.

One durable call per delivery: the queue send. Nothing is acknowledged before it succeeded, and the
de-duplication key (what the sender signed) travels with the delivery: the queue worker acts on a key
once, so a re-sent delivery is queued again but processed once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from koppel.credentials import Credentials
from koppel.errors import BadRequest, ConfigurationError, NotFound, PayloadTooLarge, ServiceUnavailable
from koppel.observability import logger
from koppel.ports.config import AccountReader
from koppel.queue import Envelope, EventQueue
from koppel.webhooks import Ignored, Install, Ping, VerifyContext, for_log, parse_object, verify

# An account id as `koppel account put` accepts it (config.SLUG); anything else is no account, and
# is neither looked up nor echoed.
ACCOUNT_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")


@dataclass(frozen=True)
class WebhookRequest:
    account_id: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    url_secret: str = ""  # the secret path segment of `/webhooks/{account_id}/{secret}`; "" : none
    topic: str = ""  # a route that takes one topic only (`/partners/{account_id}/orders`); "" : any


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    tolerance: timedelta
    stale_after: timedelta


@dataclass(frozen=True)
class Receipt:
    status: Literal["accepted", "ping", "ignored", "installed"]
    event_id: str = ""
    topic: str = ""


def receive(
    request: WebhookRequest,
    *,
    accounts: AccountReader,
    credentials: Credentials,
    queue: EventQueue,
    limits: Limits,
    now: datetime,
) -> Receipt:
    if len(request.body) > limits.max_bytes:
        raise PayloadTooLarge(f"body is {len(request.body)} bytes; the limit is {limits.max_bytes}")
    if not ACCOUNT_ID.fullmatch(request.account_id):
        raise NotFound("no such account: an account id is 2-63 lower-case letters, digits and dashes")
    account = accounts.get_account(request.account_id)
    try:
        secret = credentials.credentials(account)
    except ConfigurationError as exc:
        # koppel's own set-up is wrong, not the delivery: ask the sender to retry while it is fixed.
        logger.error("webhook secret unreadable", account_id=account.account_id, reason=exc.message)
        raise ServiceUnavailable("this account's credentials cannot be read right now") from exc
    candidates = [str(secret[key]) for key in ("webhook_secret", "previous_webhook_secret") if secret.get(key)]
    ctx = VerifyContext(
        now=now, tolerance=limits.tolerance, stale_after=limits.stale_after, url_secret=request.url_secret
    )
    delivery = verify(account, candidates, request.headers, request.body, ctx)
    if request.topic and not isinstance(delivery, Ping | Install) and delivery.topic != request.topic:
        raise BadRequest(f"this route takes {request.topic} deliveries only (X-Koppel-Topic)")
    if isinstance(delivery, Ping):
        return Receipt(status="ping")
    if isinstance(delivery, Install):
        # The credentials go to Secrets Manager and nowhere else: not queued, not in the table, not logged.
        credentials.update(account, delivery.credentials, delivery.removed)
        logger.info("webhook credentials stored", account_id=account.account_id, hook=for_log(delivery.topic))
        return Receipt(status="installed", topic=delivery.topic)
    if isinstance(delivery, Ignored):
        logger.info("webhook topic ignored", account_id=account.account_id, topic=for_log(delivery.topic))
        return Receipt(status="ignored", topic=delivery.topic)
    if delivery.queued_body is not None:  # only what the verifier read of a hint of a body
        text = delivery.queued_body
    else:
        if delivery.payload is None:  # a verifier that did not need to read the body
            parse_object(request.body)
        text = request.body.decode("utf-8")  # parse_object has shown it is UTF-8
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
    queue.send(envelope)
    return Receipt(status="accepted", event_id=delivery.event_id, topic=delivery.topic)
