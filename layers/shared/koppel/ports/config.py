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


class ParkedDeliveries(Protocol):
    """Deliveries koppel accepted but cannot act on yet, kept whole until a person or a release can."""

    def park(self, link_id: str, envelope: Envelope, reason: str) -> None: ...


class RunStamps(Protocol):
    """When a link last ran a scheduled job well (`koppel.schedules`): LINK#{link_id} / RAN#{job}."""

    def last_run(self, link_id: str, job: str) -> datetime | None: ...

    def ran(self, link_id: str, job: str, at: datetime) -> None: ...
