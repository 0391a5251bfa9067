"""Replay, safely: parked deliveries handed to the flow that now exists, dead letters sent back to their queue.

A replay goes through the same idempotency as a first delivery, so it never creates anything twice:
an order delivery reaches the order import, whose claim lets one order be booked once however often it
comes; a stock delivery is merged only when it is newer than what koppel holds (stock versions); a
dead-lettered message goes back to its source queue, whose worker de-duplicates as it always does.
Every item reports what became of it. A parked delivery that is handled leaves the parked list; one
still unhandled stays, with the reason as it is now.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from koppel.config import Flow, Link
from koppel.errors import KoppelError, NotFound
from koppel.flows.inbound import FLOW_SOURCES, InboundHandler, Unhandled, flows_for_topic
from koppel.ports.config import ActivityLog, DeadLetter, DeadLetters, ParkedDeliveries
from koppel.queue import Envelope

Progress = Callable[[int, int], None]  # (done, of how many)

HANDLED = "handled"
PARKED = "parked"  # still waits for a flow, with its reason
FAILED = "failed"  # the flow failed this time: left where it was, replay it again
REPLAYED = "replayed"
LEFT = "left"  # named nothing to do with this replay, or not sent: left in the dead-letter queue


@dataclass(frozen=True)
class Outcome:
    item: str  # the parked delivery's event id, or the dead letter's message id
    result: str  # HANDLED, PARKED, FAILED, REPLAYED or LEFT
    detail: str


def _quiet(_done: int, _total: int) -> None:
    return None


# --- parked deliveries ----------------------------------------------------------------------------
def replay_parked(
    link: Link,
    event_ids: Sequence[str],
    *,
    parked: ParkedDeliveries,
    handlers: Mapping[Flow, InboundHandler],
    activity: ActivityLog,
    progress: Progress = _quiet,
) -> list[Outcome]:
    """The link's parked deliveries (all of them, or those named by event id) handed to their flows.

    NotFound names the ids that are not parked for the link, after the others were replayed."""
    waiting = parked.waiting(link.link_id)
    chosen = [(envelope, reason) for envelope, reason in waiting if not event_ids or envelope.event_id in event_ids]
    outcomes: list[Outcome] = []
    for done, (envelope, _reason) in enumerate(chosen, start=1):
        outcome = _replay_one(link, envelope, parked=parked, handlers=handlers, activity=activity)
        outcomes.append(outcome)
        progress(done, len(chosen))
    unknown = sorted(set(event_ids) - {envelope.event_id for envelope, _ in waiting})
    if unknown:
        raise NotFound(
            f"no delivery parked for {link.link_id} as {', '.join(unknown)} (see `koppel parked {link.link_id}`)"
        )
    return outcomes


def _replay_one(
    link: Link,
    envelope: Envelope,
    *,
    parked: ParkedDeliveries,
    handlers: Mapping[Flow, InboundHandler],
    activity: ActivityLog,
) -> Outcome:
    role = "channel" if envelope.account_id == link.channel else "backoffice"
    flows = [flow for flow in flows_for_topic(envelope.topic) if role in FLOW_SOURCES[flow]]
    if not flows:
        return Outcome(envelope.event_id, PARKED, f"{envelope.topic} from the {role} feeds no flow of this link")
    payload = json.loads(envelope.body, parse_float=Decimal)
    summaries: list[str] = []
    for flow in flows:
        if not link.flows.enabled(flow):
            return Outcome(envelope.event_id, PARKED, f"{flow.value} is switched off for this link; left parked")
        handler = handlers.get(flow)
        if handler is None:
            reason = f"{envelope.topic} from {envelope.system} has no {flow.value} handler yet"
            parked.park(link.link_id, envelope, reason)
            return Outcome(envelope.event_id, PARKED, reason)
        try:
            summaries.append(handler(link, envelope, payload))
        except Unhandled as exc:
            parked.park(link.link_id, envelope, str(exc))
            return Outcome(envelope.event_id, PARKED, str(exc))
        except KoppelError as exc:
            # Left parked as it was: nothing is lost, and the flow's own checks make a later replay safe.
            return Outcome(envelope.event_id, FAILED, f"{type(exc).__name__}: {exc.message}; replay it again")
        activity.record(
            link.link_id, f"{flow.value}.replayed", summaries[-1], event_id=envelope.event_id, replayed=True
        )
    parked.release(link.link_id, envelope)
    return Outcome(envelope.event_id, HANDLED, "; ".join(summaries))


# --- dead letters ---------------------------------------------------------------------------------
def replay_dead_letters(
    queue: DeadLetters, message_ids: Sequence[str], *, limit: int, progress: Progress = _quiet
) -> list[Outcome]:
    """Dead letters (all, up to `limit`, or those named) sent back to their source queue, each deleted from
    the dead-letter queue only after its send succeeded. Letters taken but not named are given back."""
    wanted = set(message_ids)
    total = len(wanted) if wanted else min(queue.count(), limit)
    outcomes: list[Outcome] = []
    held: dict[str, DeadLetter] = {}  # taken and not sent back: visible again at the end (latest receipt)
    seen: set[str] = set()
    while len(outcomes) < (len(wanted) if wanted else limit):
        taken = queue.take(10)
        held |= {letter.message_id: letter for letter in taken if letter.message_id in seen}
        fresh = [letter for letter in taken if letter.message_id not in seen]
        if not fresh:
            break
        for letter in fresh:
            seen.add(letter.message_id)
            if wanted and letter.message_id not in wanted:
                held[letter.message_id] = letter
                continue
            outcome = _resend(queue, letter)
            if outcome.result != REPLAYED:
                held[letter.message_id] = letter
            outcomes.append(outcome)
            progress(len(outcomes), max(total, len(outcomes)))
    queue.give_back(list(held.values()))
    missing = sorted(wanted - {outcome.item for outcome in outcomes})
    if missing:
        raise NotFound(f"no dead letter {', '.join(missing)} in this queue (see `koppel dead-letters show`)")
    return outcomes


def _resend(queue: DeadLetters, letter: DeadLetter) -> Outcome:
    try:
        queue.resend(letter)
    except Exception as exc:  # noqa: BLE001 - whatever the send failed with, the letter stays where it is
        return Outcome(letter.message_id, LEFT, f"not sent ({type(exc).__name__}); left in the dead-letter queue")
    queue.delete(letter)
    return Outcome(letter.message_id, REPLAYED, "sent back to its queue and deleted from the dead-letter queue")


# --- showing a dead letter without its secrets ----------------------------------------------------
SECRET_WORDS = ("secret", "token", "password", "passwd", "authorization", "signature", "apikey", "credential")
NOT_SECRET = frozenset({"dedupe_key"})  # koppel's digest of a delivery, shown to tell repeats apart
HIDDEN = "(hidden)"


def hidden(value: Any) -> Any:
    """`value` with every field whose name says it holds a secret replaced, at any depth."""
    if isinstance(value, dict):
        return {
            key: HIDDEN if _secret_name(str(key)) and item not in ("", None) else hidden(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [hidden(item) for item in value]
    return value


def _secret_name(name: str) -> bool:
    lowered = name.lower().replace("-", "_")
    if lowered in NOT_SECRET:
        return False
    return lowered == "key" or lowered.endswith("_key") or any(word in lowered for word in SECRET_WORDS)


def readable(letter: DeadLetter) -> dict[str, Any]:
    """A dead letter as a person reads it: its body parsed (an event envelope's own body too), secrets hidden."""
    body: Any = _parsed(letter.body)
    if isinstance(body, dict) and isinstance(body.get("body"), str):
        body = body | {"body": _parsed(body["body"])}
    return {
        "message_id": letter.message_id,
        "first_sent": letter.sent_at.isoformat() if letter.sent_at else "",
        "received": letter.receive_count,
        "attributes": hidden(letter.attributes),
        "body": hidden(body),
    }


def summary(letter: DeadLetter) -> str:
    """One line about a dead letter: what it was for."""
    body = _parsed(letter.body)
    if not isinstance(body, dict):
        return str(body)[:80]
    if "topic" in body:
        return f"{body.get('topic')} from {body.get('account_id')} ({body.get('system')}), event {body.get('event_id')}"
    if "link_id" in body:
        skus = body.get("skus") or []
        shown = ", ".join(str(sku) for sku in skus[:3]) + (f" and {len(skus) - 3} more" if len(skus) > 3 else "")
        return f"stock push for {body['link_id']}: {shown}"
    if "requestContext" in body:
        context = body["requestContext"]
        parts = str(context.get("functionArn", "")).split(":")
        function = parts[6] if len(parts) > 6 else ":".join(parts)
        error = (body.get("responsePayload") or {}).get("errorMessage", "")
        return f"run of {function} failed ({context.get('condition', '')}): {error}"[:160]
    return ", ".join(sorted(body))[:80]


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text
