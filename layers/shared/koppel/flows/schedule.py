"""Running a scheduled flow over every link that has it switched on.

One link's failure never stops the others; each outcome lands in that link's activity log, and
the run ends in `ScheduledRunFailed` when any link failed so the function's error alarm fires and
EventBridge's retry policy applies.

A link with its own schedule for the flow (`Link.schedule`, `koppel.schedules`) is run only when it
is due, judged from when the same job last ran it well; a run that failed leaves that time as it was,
so the next tick tries again. A link's run started by hand (`detail.link_id`) is always run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from koppel import schedules
from koppel.config import Flow, Link
from koppel.errors import KoppelError, UnsupportedSystem
from koppel.observability import logger
from koppel.ports.config import ActivityLog, ConfigStore, RunStamps


class ScheduledRunFailed(KoppelError):
    retryable = True


@dataclass
class RunReport:
    flow: Flow
    done: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    not_due: dict[str, str] = field(default_factory=dict)  # link → when it runs next


def run_for_links(
    flow: Flow,
    *,
    config: ConfigStore,
    activity: ActivityLog,
    step: Callable[[Link], str],
    only: str | None = None,
    runs: RunStamps | None = None,
    job: str = "",
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RunReport:
    """`job`: the scheduled function's name for its stamps (default: the flow's), so two functions of one
    flow (the stock poll and the reconciliation) each keep the link's schedule."""
    report = RunReport(flow=flow)
    job = job or flow.value
    for link in config.list_links():
        if not link.flows.enabled(flow) or (only and link.link_id != only):
            continue
        schedule = link.schedule.get(flow)
        started = now()
        if schedule and runs is not None and not only:
            last = runs.last_run(link.link_id, job)
            if not schedules.due(schedule, last, started):
                upcoming = schedules.next_run(schedule, last, started)
                report.not_due[link.link_id] = upcoming.isoformat(timespec="minutes") if upcoming else "never"
                continue
        try:
            summary = step(link)
        except UnsupportedSystem as exc:
            if link.flows.asked(flow):
                # Switched on, settled at `link put` as possible: a system changed since. A failed run
                # reaches the failed-run queue and its alarm, never a quiet success.
                _failed(report, activity, link, exc, f"{flow.value} is switched on but cannot run: {exc.message}")
                _finished(runs, link, job, started, "failed", report.failed[link.link_id])
                continue
            # Left unset on a link saved without `link put`: runs where it can, says where it cannot.
            report.done[link.link_id] = f"not available yet: {exc.message}"
            activity.record(link.link_id, f"{flow.value}.unavailable", exc.message)
            _finished(runs, link, job, started, "unavailable", exc.message)
            continue
        except KoppelError as exc:
            _failed(report, activity, link, exc, exc.message)
            _finished(runs, link, job, started, "failed", exc.message)
            continue
        except Exception as exc:  # noqa: BLE001 - one link's bug must not stop the others; the run still fails
            logger.exception("scheduled flow crashed for link", flow=flow.value, link_id=link.link_id)
            _failed(report, activity, link, exc, f"unexpected {type(exc).__name__}; see the function's log")
            _finished(runs, link, job, started, "failed", report.failed[link.link_id])
            continue
        report.done[link.link_id] = summary or "nothing to do"
        _finished(runs, link, job, started, "ok", report.done[link.link_id])
        if schedule and runs is not None:
            runs.ran(link.link_id, job, started)
        if summary:  # a frequent poll that found nothing leaves no line in the activity log
            activity.record(link.link_id, f"{flow.value}.run", summary, dry_run=link.dry_run)
    if report.failed:
        raise ScheduledRunFailed(f"{flow.value}: {len(report.failed)} link(s) failed", failed=report.failed)
    return report


def _finished(runs: RunStamps | None, link: Link, job: str, at: datetime, outcome: str, summary: str) -> None:
    """How the link's run ended, for the console's links page: one item per link and job, overwritten."""
    if runs is not None:
        runs.finished(link.link_id, job, at, outcome, summary)


def _failed(report: RunReport, activity: ActivityLog, link: Link, exc: Exception, message: str) -> None:
    report.failed[link.link_id] = message
    activity.record(link.link_id, f"{report.flow.value}.failed", message, error=type(exc).__name__)
    logger.warning(
        "scheduled flow failed for link", flow=report.flow.value, link_id=link.link_id, error=type(exc).__name__
    )
