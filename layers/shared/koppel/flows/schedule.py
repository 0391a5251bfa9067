"""Running a scheduled flow over every link that has it switched on.

One link's failure never stops the others; each outcome lands in that link's activity log, and
the run ends in `ScheduledRunFailed` when any link failed so the function's error alarm fires and
EventBridge's retry policy applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from koppel.config import Flow, Link
from koppel.errors import KoppelError, UnsupportedSystem
from koppel.observability import logger
from koppel.ports.config import ActivityLog, ConfigStore


class ScheduledRunFailed(KoppelError):
    retryable = True


@dataclass
class RunReport:
    flow: Flow
    done: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def run_for_links(
    flow: Flow, *, config: ConfigStore, activity: ActivityLog, step: Callable[[Link], str], only: str | None = None
) -> RunReport:
    report = RunReport(flow=flow)
    for link in config.list_links():
        if not link.flows.enabled(flow) or (only and link.link_id != only):
            continue
        try:
            summary = step(link)
        except UnsupportedSystem as exc:
            # Flows are on by default; one koppel cannot run yet for these systems is not a failure.
            report.done[link.link_id] = f"not available yet: {exc.message}"
            activity.record(link.link_id, f"{flow.value}.unavailable", exc.message)
            continue
        except KoppelError as exc:
            _failed(report, activity, link, exc, exc.message)
            continue
        except Exception as exc:  # noqa: BLE001 - one link's bug must not stop the others; the run still fails
            logger.exception("scheduled flow crashed for link", flow=flow.value, link_id=link.link_id)
            _failed(report, activity, link, exc, f"unexpected {type(exc).__name__}; see the function's log")
            continue
        report.done[link.link_id] = summary or "nothing to do"
        if summary:  # a frequent poll that found nothing leaves no line in the activity log
            activity.record(link.link_id, f"{flow.value}.run", summary, dry_run=link.dry_run)
    if report.failed:
        raise ScheduledRunFailed(f"{flow.value}: {len(report.failed)} link(s) failed", failed=report.failed)
    return report


def _failed(report: RunReport, activity: ActivityLog, link: Link, exc: Exception, message: str) -> None:
    report.failed[link.link_id] = message
    activity.record(link.link_id, f"{report.flow.value}.failed", message, error=type(exc).__name__)
    logger.warning(
        "scheduled flow failed for link", flow=report.flow.value, link_id=link.link_id, error=type(exc).__name__
    )
