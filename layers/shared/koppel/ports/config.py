"""Configuration, the activity log and parked deliveries, as the flows see them (never boto3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from koppel.config import Account, Link
from koppel.queue import Envelope


@dataclass(frozen=True)
class Activity:
    subject: str  # a link_id or account_id
    at: datetime
    kind: str  # e.g. "webhook.accepted", "order.created", "order.needs_attention"
    message: str
    details: dict[str, Any] = field(default_factory=dict)


class AccountReader(Protocol):
    def get_account(self, account_id: str) -> Account: ...


class ConfigStore(AccountReader, Protocol):
    def put_account(self, account: Account) -> None: ...
    def list_accounts(self) -> list[Account]: ...
    def delete_account(self, account_id: str) -> None: ...
    def get_link(self, link_id: str) -> Link: ...
    def put_link(self, link: Link) -> None: ...
    def list_links(self) -> list[Link]: ...
    def delete_link(self, link_id: str) -> None: ...


class ActivityLog(Protocol):
    def record(self, subject: str, kind: str, message: str, **details: Any) -> None: ...
    def recent(self, subject: str, limit: int = 50) -> list[Activity]: ...


class OrderJourneys(Protocol):
    """Every step of one order, across systems, under the link and the channel's order id: read in one query.

    `alias` lets another id of the order (the backoffice's id or number) lead to the channel's."""

    def step(self, link_id: str, order_id: str, kind: str, message: str, **details: Any) -> None: ...
    def alias(self, link_id: str, order_id: str, *other_ids: str) -> None: ...
    def journey(self, link_id: str, any_order_id: str) -> tuple[str, list[Activity]]:
        """The channel's order id the given id leads to, and the order's steps oldest first."""
        ...


class ParkedDeliveries(Protocol):
    """Deliveries koppel accepted but cannot act on yet, kept whole until a person or a release can."""

    def park(self, link_id: str, envelope: Envelope, reason: str) -> None: ...
    def waiting(self, link_id: str) -> list[tuple[Envelope, str]]: ...
    def release(self, link_id: str, envelope: Envelope) -> None:
        """A parked delivery its flow has now handled: it leaves the list."""
        ...


@dataclass(frozen=True)
class DeadLetter:
    """One message a queue gave up on, as a dead-letter queue holds it."""

    message_id: str
    body: str
    receipt: str  # what deleting it or showing it again takes; valid while it is received
    receive_count: int = 0
    sent_at: datetime | None = None  # first sent to its source queue
    attributes: dict[str, str] = field(default_factory=dict)


class DeadLetters(Protocol):
    """A dead-letter queue and the queue (or function) whose failures it keeps."""

    def count(self) -> int: ...
    def read(self, limit: int) -> list[DeadLetter]:
        """Up to `limit` messages, left in the queue (visible again at once)."""
        ...

    def take(self, limit: int) -> list[DeadLetter]:
        """Up to `limit` messages held from other readers for a while, for `resend` and `delete`."""
        ...

    def resend(self, letter: DeadLetter) -> None:
        """The message, body and attributes, sent back to the queue it came from."""
        ...

    def delete(self, letter: DeadLetter) -> None: ...
    def give_back(self, letters: list[DeadLetter]) -> None:
        """Messages taken but not replayed: visible again at once."""
        ...


@dataclass(frozen=True)
class RunOutcome:
    """How a job's last run for a link ended: "ok", "failed" or "unavailable", with its summary."""

    job: str
    at: datetime
    outcome: str
    summary: str


class RunStamps(Protocol):
    """When a link last ran a scheduled job well (`koppel.schedules`): LINK#{link_id} / RAN#{job};
    and how each job's last run ended, well or not: LINK#{link_id} / LAST#{job}."""

    def last_run(self, link_id: str, job: str) -> datetime | None: ...

    def ran(self, link_id: str, job: str, at: datetime) -> None: ...

    def finished(self, link_id: str, job: str, at: datetime, outcome: str, summary: str) -> None: ...

    def outcomes(self, link_id: str) -> dict[str, RunOutcome]: ...
