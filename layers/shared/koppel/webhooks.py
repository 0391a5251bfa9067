"""Inbound webhook authentication: what every scheme shares, and koppel's own scheme.

Each system's declaration names its verifier (`Webhooks.verifier`); Shopify's and WooCommerce's live
in their packages. Every digest is compared in constant time.

- koppel: for systems that sign nothing themselves. `X-Koppel-Timestamp` (unix seconds),
  `X-Koppel-Event-Id`, `X-Koppel-Topic` and `X-Koppel-Signature: v1=<hex>` where hex is
  HMAC-SHA256(secret, "<timestamp>\n<event id>\n<topic>\n" + raw body): the id and topic are signed,
  so a captured request cannot be re-sent as another event. A timestamp outside the tolerance is a
  replay. Its topics are `KOPPEL_TOPICS` (declared in `koppel.connectors.declaration`).
A secret being rotated may be given twice (`webhook_secret`, `previous_webhook_secret`); either verifies.

Whatever arrives is hostile until its signature verifies: a header that is not text is refused
before any digest is computed, a body is parsed only once it is known to be the sender's, with its
nesting and numbers bounded, and a topic the system's declaration does not list is acknowledged as
ignored and queued nowhere (`Ignored`). `for_log` bounds and escapes what a log line quotes of it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from koppel.config import Account
from koppel.errors import BadRequest, NotFound, Unauthorized

MAX_DEPTH = 64  # nesting a body may have: far beyond any real payload, far below the recursion limit
MAX_TIMESTAMP_DIGITS = 11  # unix seconds until the year 5138
MAX_EVENT_ID = 128  # characters of a sender's event id koppel keeps


@dataclass(frozen=True)
class Delivery:
    """An authenticated delivery, ready to be queued."""

    account_id: str
    system: str
    topic: str
    event_id: str
    dedupe_key: str
    triggered_at: datetime | None = None
    # The body, parsed by a verifier that needed to read it (staleness, fit); None: not parsed yet.
    payload: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # What is queued in place of the body (JSON): for a system whose body is only a hint, the little
    # koppel reads of it (the ids a Shoprenter webhook names); None: the body itself.
    queued_body: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Ping:
    """WooCommerce's unsigned hello when a webhook is created."""

    account_id: str


@dataclass(frozen=True)
class Ignored:
    """A verified delivery of a topic koppel does not take from this system: acknowledged, queued nowhere."""

    account_id: str
    topic: str


@dataclass(frozen=True)
class Install:
    """A verified hook that hands koppel the system's API credentials (StoreKeeper's `init`) or takes
    them back (`disconnect`): merged into the account's secret in Secrets Manager at once, and never
    queued, stored in the table or logged."""

    account_id: str
    topic: str  # what the hook was, for the answer and the log ("init", "disconnect")
    credentials: dict[str, str] = field(default_factory=dict, repr=False)  # keys to set in the secret
    removed: tuple[str, ...] = ()  # keys to drop from the secret


class Verifier(Protocol):
    def __call__(
        self, account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, ctx: VerifyContext
    ) -> Delivery | Ping | Ignored | Install: ...


@dataclass(frozen=True)
class VerifyContext:
    now: datetime
    tolerance: timedelta  # koppel scheme: allowed clock difference
    stale_after: timedelta  # Shopify: oldest updated_at (or, without one, triggered-at) still accepted
    # The secret part of the URL the delivery came to (`/webhooks/{account_id}/{secret}`), for systems
    # that sign nothing (Shoprenter); "" : the plain route. Verifiers of signing systems ignore it.
    url_secret: str = ""


def body_digest(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def require_body_signature(headers: Mapping[str, str], name: str, secrets: list[str], body: bytes) -> None:
    """Schemes that sign the raw body alone, as base64(HMAC-SHA256) in header `name` (Shopify, WooCommerce)."""
    received = header(headers, name)
    if not received:
        raise Unauthorized(f"missing {name}")
    if not matches([body_digest(secret, body) for secret in secrets], received):
        raise Unauthorized("signature does not match")


def body_signed_delivery(
    account: Account,
    topic: str,
    event_id: str,
    body: bytes,
    payload: dict[str, Any],
    triggered_at: datetime | None = None,
) -> Delivery:
    """A delivery whose signature covers the body only: de-duplicated on the body (a re-send under
    another topic, time or id is the same delivery); a sender's event id is kept only when sane."""
    digest = hashlib.sha256(body).hexdigest()
    return Delivery(
        account_id=account.account_id,
        system=account.system,
        topic=topic,
        event_id=event_id if 0 < len(event_id) <= MAX_EVENT_ID else digest[:32],
        dedupe_key=f"{account.account_id}:{account.system}:{digest}",
        triggered_at=triggered_at,
        payload=payload,
    )


def koppel_digest(secret: str, timestamp: str, event_id: str, topic: str, body: bytes) -> str:
    # Newlines cannot occur in header values, so the parts cannot be shifted into one another.
    signed = f"{timestamp}\n{event_id}\n{topic}\n".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def matches(candidates: list[str], received: str) -> bool:
    # Every candidate is compared, so timing does not reveal which secret (if any) came close.
    results = [hmac.compare_digest(candidate.encode(), received.encode()) for candidate in candidates]
    return any(results)


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value, refused (400) unless it is printable text: a lone surrogate or a control
    character would otherwise reach a digest or a log line."""
    value = (headers.get(name.lower()) or "").strip()
    if not value.isprintable() or not _encodes(value):
        raise BadRequest(f"header {name} is not printable text")
    return value


def _encodes(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def for_log(value: object, limit: int = 80) -> str:
    """What a log line may quote of unauthenticated input: printable ASCII, at most `limit` characters
    and a count of the rest."""
    text = str(value)
    escaped = text[:limit].encode("ascii", "backslashreplace").decode("ascii")
    shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in escaped)
    if len(text) <= limit and len(shown) <= limit:
        return shown
    return f"{shown[:limit]}...(+{max(len(text) - limit, 0)} chars)"


def parse_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or 400 with the reason: bounded nesting, no NaN, no number too long to read."""
    try:
        parsed = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise BadRequest("body is not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise BadRequest(f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise BadRequest(f"body is nested more than {MAX_DEPTH} levels deep") from exc
    except ValueError as exc:  # a number beyond Python's int digit limit, or NaN/Infinity
        raise BadRequest(f"body holds a number koppel cannot read: {str(exc)[:80]}") from exc
    if not isinstance(parsed, dict):
        raise BadRequest("body must be a JSON object")
    if _depth_exceeds(parsed, MAX_DEPTH):
        raise BadRequest(f"body is nested more than {MAX_DEPTH} levels deep")
    return parsed


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _depth_exceeds(value: Any, limit: int) -> bool:
    level: list[Any] = [value]
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
    return False


def require(payload: Mapping[str, Any], topic: str, fields: Iterable[str]) -> None:
    """400 unless every field is present as a number or a non-empty string: what the topic's flow reads."""
    for name in fields:
        value = payload.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float | str) or value == "":
            raise BadRequest(f"a {topic} body needs {name} (a number or a string)")


def accepts(account: Account, topic: str) -> bool:
    """Whether koppel takes this topic from the account's system (its declaration lists it)."""
    from koppel.connectors import registry

    webhooks = registry.spec(account.system).webhooks
    return webhooks is not None and topic in webhooks.topics


def verify(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, ctx: VerifyContext
) -> Delivery | Ping | Ignored | Install:
    """Authenticate one delivery the way the account's system signs it (its declaration says how).
    `headers` must have lower-case names (API Gateway v2 gives that). A verified delivery of a topic
    the declaration does not list comes back `Ignored`, whatever the verifier made of it."""
    from koppel.connectors import registry

    webhooks = registry.spec(account.system).webhooks
    if webhooks is None:
        raise NotFound(f"{account.system} accounts receive no webhooks")
    if ctx.url_secret and not webhooks.secret_in_url:
        raise NotFound(f"{account.system} signs its webhooks: they go to /webhooks/{{account_id}}, no secret after it")
    if not secrets:
        raise Unauthorized("no webhook secret configured for this account")
    verifier: Verifier = registry.load(webhooks.verifier)
    delivery = verifier(account, secrets, headers, body, ctx)
    if isinstance(delivery, Delivery) and delivery.topic not in webhooks.topics:
        return Ignored(account_id=account.account_id, topic=delivery.topic)
    return delivery


def verify_koppel(
    account: Account, secrets: list[str], headers: Mapping[str, str], body: bytes, ctx: VerifyContext
) -> Delivery | Ignored:
    timestamp = header(headers, "X-Koppel-Timestamp")
    signature = header(headers, "X-Koppel-Signature")
    if not timestamp or not signature:
        raise Unauthorized("missing X-Koppel-Timestamp or X-Koppel-Signature")
    # ASCII digits only (superscripts and Arabic-Indic digits pass str.isdigit), few enough to be a time.
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > MAX_TIMESTAMP_DIGITS:
        raise Unauthorized("X-Koppel-Timestamp must be unix seconds")
    topic = header(headers, "X-Koppel-Topic")
    event_id = header(headers, "X-Koppel-Event-Id")
    if not topic or not event_id:
        raise Unauthorized("X-Koppel-Topic and X-Koppel-Event-Id are required: both are signed")
    if len(event_id) > MAX_EVENT_ID:
        raise BadRequest(f"X-Koppel-Event-Id is longer than {MAX_EVENT_ID} characters")
    sent = [part.strip()[3:] for part in signature.split(",") if part.strip().startswith("v1=")]
    expected = [koppel_digest(secret, timestamp, event_id, topic, body) for secret in secrets]
    if not any(matches(expected, candidate) for candidate in sent):
        raise Unauthorized("signature does not match")
    # Checked after the signature so the timestamp is known to be the sender's own.
    signed_at = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(ctx.now - signed_at) > ctx.tolerance:
        raise Unauthorized("stale delivery: timestamp outside the accepted window")
    if not accepts(account, topic):
        return Ignored(account_id=account.account_id, topic=topic)
    payload = parse_object(body)
    if topic == "stock.changed":
        _check_koppel_stock(payload)
    return Delivery(
        account_id=account.account_id,
        system=account.system,
        topic=topic,
        event_id=event_id,
        dedupe_key=f"{account.account_id}:koppel:{event_id}",
        triggered_at=signed_at,
        payload=payload,
    )


def _check_koppel_stock(payload: Mapping[str, Any]) -> None:
    """One level or `{"levels": [...]}`, each with a sku and its on_hand (or quantity)."""
    levels = payload.get("levels", [payload])
    if not isinstance(levels, list) or not levels:
        raise BadRequest("a stock.changed body's levels must be a non-empty list")
    for level in levels:
        if not isinstance(level, dict):
            raise BadRequest("each stock.changed level must be an object")
        require(level, "stock.changed", ["sku"])
        require(level, "stock.changed", ["on_hand" if "on_hand" in level else "quantity"])


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
