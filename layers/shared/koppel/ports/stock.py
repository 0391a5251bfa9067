"""What the stock flow and the stock store share: the records koppel keeps per link and SKU, how
levels are ordered, and the store and push-request ports."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from koppel.errors import BadRequest
from koppel.models import WarehouseStock, sortable


# --- the records the store keeps ------------------------------------------------------------------
@dataclass(frozen=True)
class Level:
    """One warehouse's figures as koppel holds them."""

    on_hand: int
    backorders: int
    version: str
    at: str  # sortable UTC time the backoffice observed it


@dataclass(frozen=True)
class StockRecord:
    link_id: str
    sku: str
    rev: int = 0
    levels: Mapping[str, Level] = field(default_factory=dict)
    quantity: int = 0  # the link's basis and warehouses applied, before the buffer
    observed_at: str = ""
    ean: str = ""
    pending: bool = False
    pushed: int | None = None
    pushed_at: str = ""
    channel_ref: str = ""
    push_error: str = ""
    asked_at: int = 0  # unix seconds a push was last asked for


@dataclass(frozen=True)
class IncomingLevel:
    sku: str
    warehouse: str
    on_hand: int
    backorders: int
    version: str
    observed_at: datetime
    ean: str = ""

    @classmethod
    def of(
        cls,
        stock: WarehouseStock,
        sequence: int | None = None,
        *,
        ean: str = "",
        tiebreak: datetime | None = None,
        read: bool = False,
    ) -> IncomingLevel:
        return cls(
            sku=stock.sku,
            warehouse=stock.warehouse,
            on_hand=stock.on_hand,
            backorders=stock.backorders,
            version=version_of(sequence, stock.observed_at, tiebreak=tiebreak, read=read),
            observed_at=stock.observed_at,
            ean=ean,
        )


@dataclass(frozen=True)
class Merge:
    sku: str
    accepted: int  # levels newer than what was held
    stale: int  # levels as old as, or older than, what was held: ignored
    quantity: int
    pending: bool  # the channel still has to hear of this SKU
    ask: bool = False  # a push has to be asked for (the SKU just turned pending, or its request is overdue)


class MixedOrdering(BadRequest):
    """A warehouse ordered by the sender's sequence got a level ordered by time, or the other way round."""


def version_of(
    sequence: int | None, observed_at: datetime, *, tiebreak: datetime | None = None, read: bool = False
) -> str:
    """What orders a warehouse's levels, comparable as text.

    - `s<sequence>`: the sender's own counter, when it sends one;
    - `t<observed>#<tiebreak>`: the moment observed, then (for two of the same moment) the moment
      the delivery was triggered or arrived;
    - `t<observed>~`: a read of the backoffice koppel made itself. It is the state as of that moment,
      so at an equal moment it wins over a webhook ('~' sorts after '#'); `t<observed>~<read at>` when
      the read's own time is given: of two reads of the same moment (a backoffice that keeps its change
      time in whole seconds), the later read wins.
    """
    if sequence is not None:
        if sequence < 0:
            raise ValueError("a stock sequence is a non-negative integer")
        return f"s{sequence:020d}"
    moment = f"t{sortable(observed_at)}"
    if read:
        return moment + "~" + (sortable(tiebreak) if tiebreak is not None else "")
    return moment + (f"#{sortable(tiebreak)}" if tiebreak is not None else "")


def is_newer(incoming: str, held: str | None) -> bool:
    if held is None:
        return True
    if incoming[:1] != held[:1]:
        kind = "sequence" if held.startswith("s") else "observed_at"
        raise MixedOrdering(
            f"this SKU's stock is ordered by {kind}; send every level of a warehouse with the same kind of ordering"
        )
    return incoming > held


class StockStore(Protocol):
    def merge(
        self,
        link_id: str,
        sku: str,
        incoming: Sequence[IncomingLevel],
        *,
        quantity_of: Callable[[Mapping[str, Level]], int],
        sellable: Callable[[int], int],
    ) -> Merge: ...
    def get_many(self, link_id: str, skus: Iterable[str]) -> list[StockRecord]: ...
    def all(self, link_id: str) -> Iterator[StockRecord]: ...
    def mark_pending(self, record: StockRecord) -> bool: ...
    def mark_pushed(self, record: StockRecord, pushed: int, channel_ref: str) -> bool: ...
    def mark_refused(self, record: StockRecord, error: str) -> bool: ...
    def read_cursor(self, link_id: str) -> str | None: ...
    def set_read_cursor(self, link_id: str, cursor: str | None) -> None: ...
    def changes_cursor(self, link_id: str) -> str | None: ...
    def set_changes_cursor(self, link_id: str, cursor: str) -> None: ...


class PushRequests(Protocol):
    """Asks the pusher to push these SKUs of a link shortly (a short delay lets a burst coalesce)."""

    def request(self, link_id: str, skus: Sequence[str], *, attempt: int = 0, delay: int | None = None) -> None: ...
