"""What the order flows (import, tracking) and the order store share: an order's record and state,
its parcels, SKU mappings and cursors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from koppel.connectors.base import BackofficeOrder


class OrderState(StrEnum):
    CLAIMED = "claimed"
    CREATED = "created"
    SHIPPED = "shipped"
    CLOSED = "closed"
    NEEDS_ATTENTION = "needs_attention"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class OrderRecord:
    link_id: str
    channel_order_id: str
    state: OrderState
    backoffice_order_id: str = ""
    backoffice_name: str = ""
    reason: str = ""
    updated_at: str = ""
    attempts: int = 0
    accepted: bool = False  # a person accepted it for a link that books nothing unaccepted
    waiting_since: str = ""  # when it first waited (needs attention), kept across its retries; "" : not waiting


@dataclass(frozen=True)
class Claim:
    run_id: str
    # An earlier attempt sent the create to the backoffice and its outcome was never recorded
    # (a crash, a lost answer, an error after sending): the order may exist there already.
    may_exist: bool


@dataclass(frozen=True)
class ParcelState:
    key: str
    status: str  # SENDING, PENDING, SUCCESS, FAILURE
    process_id: str = ""
    reason: str = ""


class OrderLinks(Protocol):
    """Every order koppel handles for a link: its state from claimed to shipped or cancelled, and its parcels."""

    def get(self, link_id: str, channel_order_id: str) -> OrderRecord | None: ...

    def accept(self, link_id: str, channel_order_id: str) -> bool: ...  # False: no such waiting order
    def claim(self, link_id: str, channel_order_id: str, run_id: str, lease_seconds: int) -> Claim | None: ...
    def mark_created(self, link_id: str, channel_order_id: str, run_id: str, order: BackofficeOrder) -> None: ...
    def mark_needs_attention(self, link_id: str, channel_order_id: str, run_id: str, reason: str) -> None: ...
    def mark_create_sent(self, link_id: str, channel_order_id: str, run_id: str) -> None:
        """Remembered for good, before the create goes out: every later claim looks the order up first."""
        ...

    def mark_cancelled(self, link_id: str, channel_order_id: str, run_id: str, reason: str) -> None: ...
    def note(self, link_id: str, channel_order_id: str, reason: str) -> None:
        """A visible reason on an order that stays where it is."""
        ...

    def release(self, link_id: str, channel_order_id: str, run_id: str) -> None: ...

    # what a channel delivered (a webshop's order or refund), kept for the flows that book it
    def keep(self, link_id: str, key: str, document: str, version: str) -> bool:
        """Kept unless a newer version is; False when the one kept is newer."""
        ...

    def kept(self, link_id: str, key: str) -> str | None: ...
    def note_booked_back(self, link_id: str, key: str, units: dict[str, int]) -> None:
        """Units per order line a return booking puts back; remembered before it is sent."""
        ...

    def booked_back(self, link_id: str, prefix: str) -> list[tuple[OrderRecord, dict[str, int]]]:
        """The return bookings whose keys start with `prefix`, each with the units it puts back."""
        ...

    def in_state(self, link_id: str, state: OrderState) -> list[OrderRecord]: ...

    # the tracking side: parcels sent to the channel, and the end of the order's journey
    def parcels(self, link_id: str, channel_order_id: str) -> dict[str, ParcelState]: ...
    def start_parcel(self, link_id: str, channel_order_id: str, key: str) -> bool:
        """Mark a parcel SENDING unless it is already known; False when another run has it."""
        ...

    def settle_parcel(self, link_id: str, channel_order_id: str, state: ParcelState) -> None: ...
    def forget_parcel(self, link_id: str, channel_order_id: str, key: str) -> None: ...
    def completed_seen(self, link_id: str, channel_order_id: str, at: datetime) -> datetime:
        """Remember the first time the order was seen completed without a code; returns that time."""
        ...

    def finish(self, link_id: str, channel_order_id: str, state: OrderState, reason: str = "") -> bool:
        """created → shipped / cancelled, once; False when another run finished it first."""
        ...


@dataclass(frozen=True)
class SkuMapping:
    channel_sku: str
    variant_id: str
    source: str  # "manual" (set by a person, wins) or "auto" (matched by SKU/EAN)


class SkuMappings(Protocol):
    def get(self, link_id: str, channel_sku: str) -> SkuMapping | None: ...
    def put(self, link_id: str, mapping: SkuMapping) -> None: ...


class Cursors(Protocol):
    def get(self, link_id: str, name: str) -> int | None: ...
    def put(self, link_id: str, name: str, value: int | None) -> None: ...


@dataclass(frozen=True)
class Pause:
    until: datetime
    reason: str


class PauseStore(Protocol):
    """Until when a backoffice account is sent nothing (`koppel.flows.pauses`)."""

    def pause(self, account_id: str, until: datetime, reason: str) -> bool:
        """Pause the account until then; False when it was already paused at least that long."""
        ...

    def paused(self, account_id: str, now: datetime) -> Pause | None: ...


class CustomerLocks(Protocol):
    """Who is creating a backoffice customer right now (`koppel.flows.customers`), per backoffice account
    and customer key; a lock ends when released or after its seconds."""

    def take(self, account_id: str, customer_key: str, holder: str, seconds: int) -> bool:
        """True when `holder` has it now (taken, or held by it already); False while another holds it."""
        ...

    def release(self, account_id: str, customer_key: str, holder: str) -> None: ...


class ChangeCursor(Protocol):
    """How far a link's change feed was read (LINK#{link_id} / CURSOR#order-changes)."""

    def get(self, link_id: str) -> str | None: ...

    def set(self, link_id: str, cursor: str | None) -> None: ...
