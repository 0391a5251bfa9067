"""Flow: stock from the backoffice to the channels, coalesced per SKU, in order, never backwards.

1. A mutation arrives (webhook → queue worker): each warehouse level is merged into the link's
   record of that SKU if it is newer than what koppel holds (`accept_levels`). When what the
   channel should sell changes, the record turns *pending* and the SKU is asked to be pushed.
2. The pusher (`push_pending`) reads the pending records as they are now, so a burst of mutations
   on one SKU becomes one channel call with the latest value, and sends them in the channel's
   batch size. A record that moved while its push was under way stays pending and goes again.
3. Reconciliation (`reconcile`) merges what the backoffice reports, where koppel can read it, and
   asks the pusher for every SKU whose sellable quantity differs from what the channel last accepted.
4. A backoffice that sends no webhooks but keeps a change feed (revisions) is polled every
   minute (`follow_changes`): what changed since the link's cursor is merged as in 1.

A link's rules: `stock.basis` (technical = on hand, free = on hand - backorders), `stock.warehouses`
(which to sum; empty = all) and `stock.buffer` (held back from the channel).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from koppel.config import Flow, Link, StockSettings
from koppel.connectors.base import StockChanges, StockSource, StockTarget, StockUpdate
from koppel.errors import KoppelError, RateLimited
from koppel.flows.pauses import AccountPauses, WritesPaused
from koppel.ports.config import ActivityLog
from koppel.ports.stock import IncomingLevel, Level, Merge, PushRequests, StockRecord, StockStore

NOT_ON_CHANNEL = (
    "the channel has no product or offer with this SKU or EAN; add it there, koppel pushes on the next change"
)


# --- the link's rules -------------------------------------------------------------------------------
def link_quantity(settings: StockSettings, levels: Mapping[str, Level]) -> int:
    chosen = [level for name, level in levels.items() if not settings.warehouses or name in settings.warehouses]
    if settings.basis == "technical":
        return sum(level.on_hand for level in chosen)
    return sum(level.on_hand - level.backorders for level in chosen)


def held_quantity(settings: StockSettings, record: StockRecord) -> int:
    """The record's quantity under the link's rules as they are now: a changed basis or warehouse choice
    counts at once, not only from the SKU's next change."""
    return link_quantity(settings, record.levels) if record.levels else record.quantity


def sellable(settings: StockSettings, quantity: int) -> int:
    """What the channel may sell: never below zero, the buffer held back (7 with a buffer of 2 sells 5)."""
    return max(0, quantity - settings.buffer)


# --- 1. accepting mutations ---------------------------------------------------------------------------
def accept_levels(link: Link, levels: Sequence[IncomingLevel], store: StockStore) -> list[Merge]:
    """Merge each SKU's levels into the link's records, one conditional write per SKU."""
    by_sku: dict[str, list[IncomingLevel]] = defaultdict(list)
    for level in levels:
        by_sku[level.sku].append(level)
    return [
        store.merge(
            link.link_id,
            sku,
            incoming,
            quantity_of=lambda held: link_quantity(link.stock, held),
            sellable=lambda quantity: sellable(link.stock, quantity),
        )
        for sku, incoming in by_sku.items()
    ]


# --- 2. pushing ---------------------------------------------------------------------------------------
@dataclass
class PushReport:
    pushed: dict[str, int] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    retry: list[str] = field(default_factory=list)  # transient failures: the request is retried, then dead-lettered
    moved: list[str] = field(default_factory=list)  # changed while being pushed: asked to be pushed again
    would_push: dict[str, int] = field(default_factory=dict)  # test mode
    calls: int = 0  # push calls made to the channel

    def summary(self) -> str:
        if self.would_push:
            return "test mode: would push " + _listed(self.would_push)
        parts = [f"pushed {_listed(self.pushed)}" if self.pushed else "nothing to push"]
        if self.refused:
            parts.append(f"refused: {'; '.join(f'{sku}: {why}' for sku, why in sorted(self.refused.items()))}")
        if self.retry:
            parts.append(f"to retry: {', '.join(sorted(self.retry))}")
        if self.moved:
            parts.append(f"changed meanwhile, pushed again: {', '.join(sorted(self.moved))}")
        return "; ".join(parts)


def _listed(values: Mapping[str, int]) -> str:
    shown = ", ".join(f"{sku}={quantity}" for sku, quantity in sorted(values.items())[:20])
    return shown + (f" and {len(values) - 20} more" if len(values) > 20 else "")


def push_pending(
    link: Link,
    skus: Iterable[str],
    *,
    store: StockStore,
    target: StockTarget,
    out_of_time: Callable[[], bool] = lambda: False,
) -> PushReport:
    """Push the pending ones among `skus` with their quantity as it is now.

    Near the end of the run no new batch is started: the rest are reported to retry, still pending.
    """
    report = PushReport()
    records = [record for record in store.get_many(link.link_id, skus) if record.pending]
    if not records:
        return report
    unresolved = [record for record in records if not record.channel_ref]
    refs = target.channel_refs([(record.sku, record.ean) for record in unresolved]) if unresolved else {}
    ready: list[tuple[StockRecord, StockUpdate]] = []
    for record in records:
        ref = record.channel_ref or refs.get(record.sku, "")
        if not ref:
            report.refused[record.sku] = NOT_ON_CHANNEL
            if not link.dry_run:
                _settle(store.mark_refused(record, NOT_ON_CHANNEL), record, report, store)
            continue
        quantity = sellable(link.stock, held_quantity(link.stock, record))
        update = StockUpdate(sku=record.sku, quantity=quantity, channel_ref=ref, observed_at=record.observed_at)
        ready.append((record, update))
    if link.dry_run:
        report.would_push = {update.sku: update.quantity for _, update in ready}
        return report
    for start in range(0, len(ready), max(1, target.max_batch)):
        chunk = ready[start : start + target.max_batch]
        if out_of_time():
            report.retry.extend(update.sku for _, update in ready[start:])
            break
        results = target.push_stock([update for _, update in chunk])
        report.calls += 1
        for (record, update), result in zip(chunk, results, strict=True):
            if result.accepted:
                report.pushed[update.sku] = update.quantity
                _settle(store.mark_pushed(record, update.quantity, update.channel_ref), record, report, store)
            elif result.retryable:
                report.retry.append(update.sku)
            else:
                report.refused[update.sku] = result.error
                _settle(store.mark_refused(record, result.error), record, report, store)
    return report


def _settle(written: bool, record: StockRecord, report: PushReport, store: StockStore) -> None:
    """The record moved while its push was out: it must go out again with what it holds now.

    Another pusher may have marked it pushed meanwhile with a value that this push has just
    overtaken on the channel, so it is marked pending again before it is asked for.
    """
    if written:
        return
    for _ in range(5):
        [latest] = store.get_many(record.link_id, [record.sku]) or [record]
        if latest.pending or store.mark_pending(latest):
            break
    report.moved.append(record.sku)


@dataclass(frozen=True)
class Asked:
    """One push request as the queue delivered it."""

    message_id: str
    link_id: str
    skus: tuple[str, ...]
    attempt: int = 0


BACKOFF_ATTEMPTS = 4


def push_asked(
    asked: Sequence[Asked],
    *,
    links: Callable[[str], Link],
    store: StockStore,
    target_for: Callable[[Link], StockTarget],
    pushes: PushRequests,
    activity: ActivityLog,
    out_of_time: Callable[[], bool] = lambda: False,
    backoff_seconds: int = 15,
) -> tuple[set[str], dict[str, PushReport]]:
    """Push what a batch of requests asks for, grouped per link: SKUs several requests name cost one call.

    SKUs that fail to go out are asked for again after a growing delay (15 s, 30 s, 60 s, 120 s); after
    that their requests are returned as failed, for the queue to deliver once more and then dead-letter.
    Returns the failed request ids and each link's report.
    """
    by_link: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    attempts = {request.message_id: request.attempt for request in asked}
    for request in asked:
        for sku in request.skus:
            by_link[request.link_id][sku].append(request.message_id)
    failed: set[str] = set()
    reports: dict[str, PushReport] = {}

    def later(link_id: str, retry: Sequence[str], skus: Mapping[str, list[str]]) -> None:
        if not retry:
            return
        attempt = max(attempts[message] for sku in retry for message in skus[sku])
        if attempt >= BACKOFF_ATTEMPTS:
            failed.update(message for sku in retry for message in skus[sku])
        else:
            pushes.request(link_id, list(retry), attempt=attempt + 1, delay=backoff_seconds * 2**attempt)

    for link_id, skus in by_link.items():
        try:
            link = links(link_id)
            if not link.flows.enabled(Flow.STOCK):
                activity.record(link_id, "stock.skipped", "stock is switched off for this link")
                continue
            report = push_pending(link, skus, store=store, target=target_for(link), out_of_time=out_of_time)
        except KoppelError as exc:
            activity.record(link_id, "stock.push_failed", exc.message, error=type(exc).__name__)
            if exc.retryable:
                later(link_id, list(skus), skus)
            else:
                failed.update(message for messages in skus.values() for message in messages)
            continue
        reports[link_id] = report
        if report.moved:
            pushes.request(link_id, report.moved)
        later(link_id, report.retry, skus)
        if report.pushed or report.refused or report.retry or report.would_push:
            activity.record(link_id, "stock.pushed", report.summary(), dry_run=link.dry_run)
    return failed, reports


# --- 3. reconciliation --------------------------------------------------------------------------------
@dataclass
class Reconciliation:
    read: int = 0  # levels read from the backoffice
    corrected: int = 0  # of those, newer than what koppel held
    differences: list[str] = field(default_factory=list)

    def summary(self) -> str:
        read = f"{self.read} level(s) read from the backoffice, {self.corrected} newer than koppel's; "
        differed = f"{len(self.differences)} SKU(s) differed from what the channel last accepted"
        shown = ", ".join(self.differences[:20]) + (" …" if len(self.differences) > 20 else "")
        return f"{read if self.read else ''}{differed}" + (f", asked to be pushed: {shown}" if shown else "")


def reconcile(
    link: Link,
    *,
    store: StockStore,
    pushes: PushRequests,
    source: StockSource | None,
    out_of_time: Callable[[], bool] = lambda: False,
) -> Reconciliation:
    """Catch what a missed webhook or a failed push left behind; ask the pusher for the differences.

    The backoffice is read a page at a time from where the last run stopped, so a catalogue larger
    than one run is read across several.
    """
    result = Reconciliation()
    if source is not None:
        cursor = store.read_cursor(link.link_id)
        while True:
            page = source.stock_page(cursor)
            # The backoffice's answer as of its own time; a webhook observed later still wins.
            levels = [IncomingLevel.of(level, level.sequence, read=True) for level in page.levels]
            result.read += len(levels)
            result.corrected += sum(merge.accepted > 0 for merge in accept_levels(link, levels, store))
            cursor = page.cursor
            store.set_read_cursor(link.link_id, cursor)
            if cursor is None or out_of_time():
                break
    for record in store.all(link.link_id):
        if sellable(link.stock, held_quantity(link.stock, record)) == record.pushed and not record.pending:
            continue
        if record.push_error and not record.pending:
            continue  # refused by the channel and unchanged since: reported once, not hammered
        result.differences.append(record.sku)
        if not record.pending:
            store.mark_pending(record)
    if result.differences and not link.dry_run:
        pushes.request(link.link_id, result.differences)
    return result


# --- 4. change feeds ----------------------------------------------------------------------------------
@dataclass
class ChangesRead:
    read: int = 0  # levels the feed reported
    changed: dict[str, int] = field(default_factory=dict)  # SKU -> the link's quantity, for those newer than held
    asked: int = 0  # SKUs the pusher was asked for

    def summary(self) -> str:
        """ "" when nothing changed: a minute poll that found nothing leaves no line in the activity log."""
        if not self.read:
            return ""
        shown = ", ".join(f"{sku}={units}" for sku, units in sorted(self.changed.items())[:20])
        more = " …" if len(self.changed) > 20 else ""
        return (
            f"{self.read} changed level(s) read, {len(self.changed)} SKU(s) newer than koppel's"
            + (f": {shown}{more}" if shown else "")
            + (f"; {self.asked} asked to be pushed" if self.asked else "")
        )


def follow_changes(
    link: Link,
    *,
    source: StockChanges,
    store: StockStore,
    pushes: PushRequests,
    pauses: AccountPauses | None = None,
    out_of_time: Callable[[], bool] = lambda: False,
) -> ChangesRead:
    """Merge what the backoffice's change feed reports since the link's cursor; ask for the pushes.

    The cursor is kept after each page is merged: a run killed in between reads that page again,
    and merging it twice changes nothing (each level carries the backoffice's own sequence). While
    the backoffice account is paused (its quota spent) the feed is not read; a spent quota met here
    pauses it.
    """
    result = ChangesRead()
    if pauses is not None:
        try:
            pauses.check()
        except WritesPaused:
            return result  # the pause was logged and alarmed when it began
    cursor = store.changes_cursor(link.link_id)
    while True:
        try:
            page = source.stock_changes(cursor)
        except RateLimited as exc:
            if pauses is not None:
                pauses.after(exc)
            raise
        levels = [IncomingLevel.of(level, level.sequence, read=True) for level in page.levels]
        result.read += len(levels)
        merges = accept_levels(link, levels, store)
        result.changed |= {merge.sku: merge.quantity for merge in merges if merge.accepted}
        waiting = [merge.sku for merge in merges if merge.ask]
        if waiting and not link.dry_run:
            pushes.request(link.link_id, waiting)
            result.asked += len(waiting)
        if page.cursor != cursor:
            store.set_changes_cursor(link.link_id, page.cursor)
            cursor = page.cursor
        if not page.more or out_of_time():
            return result
