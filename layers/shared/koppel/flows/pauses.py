"""A backoffice account's writes paused until its quota renews (a daily request limit).

A spent quota (`QuotaExhausted`: a daily request limit, until it renews) or a rate
limit koppel cannot wait out within a run (`retry_after` of 15 minutes or more) pauses the account:
until then no flow sends it anything, orders and refunds wait with the reason (`koppel orders LINK`
shows it) and the order poller books them once the pause is over. Nothing is lost and nothing is
sent into a limit that would only refuse it and spend more of the quota. The first run to pause the
account records it in the link's activity log and raises the `BackofficePaused` metric, which an
alarm watches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from koppel.errors import QuotaExhausted, RateLimited
from koppel.observability import logger
from koppel.ports.config import ActivityLog
from koppel.ports.orders import PauseStore

PAUSE_AFTER_SECONDS = 15 * 60  # a wait this long is no backoff but a pause


class WritesPaused(RateLimited):
    """The backoffice account is paused: nothing was sent to it."""


@dataclass
class AccountPauses:
    """One backoffice account's pause, as one link's flows see it."""

    account_id: str
    link_id: str
    store: PauseStore
    activity: ActivityLog
    on_pause: Callable[[], None] = lambda: None  # the metric the alarm watches
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def check(self) -> None:
        """WritesPaused while the account is paused."""
        moment = self.now()
        pause = self.store.paused(self.account_id, moment)
        if pause is not None:
            raise WritesPaused(
                f"writes to the backoffice are paused until {pause.until:%Y-%m-%d %H:%M} UTC: {pause.reason}",
                retry_after=(pause.until - moment).total_seconds(),
            )

    def after(self, exc: RateLimited) -> None:
        """A rate limit the backoffice answered: one too long to wait out pauses the account."""
        if isinstance(exc, WritesPaused):
            return
        if not isinstance(exc, QuotaExhausted) and (exc.retry_after or 0) < PAUSE_AFTER_SECONDS:
            return
        until = self.now() + timedelta(seconds=exc.retry_after or 0)
        if self.store.pause(self.account_id, until, exc.message):
            summary = f"writes to {self.account_id} paused until {until:%Y-%m-%d %H:%M} UTC: {exc.message}"
            self.activity.record(self.link_id, "backoffice.paused", summary, until=until.isoformat())
            logger.warning("backoffice paused", account_id=self.account_id, link_id=self.link_id)
            self.on_pause()
