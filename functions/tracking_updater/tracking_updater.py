"""Every 5 minutes: shipments, track & trace and cancellations from the backoffice to the channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from koppel import wiring
from koppel.config import Flow, Link
from koppel.observability import logger, metrics, tracer

if TYPE_CHECKING:  # annotations only: importing Powertools' typing package would cost the cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext

SAFETY_MARGIN_MS = 30_000


def track_link(link: Link, context: LambdaContext) -> str:
    run = wiring.tracking_run(link, lambda: context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS)
    report = run.run()
    for order_id, reason in report.refused.items():
        wiring.activity_log().record(link.link_id, "shipment.refused", reason, order_id=order_id)
    for order_id, reason in report.reported.items():
        wiring.activity_log().record(link.link_id, "shipment.attention", reason, order_id=order_id)
    return report.summary()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return wiring.run_scheduled(Flow.TRACKING, event, lambda link: track_link(link, context))
