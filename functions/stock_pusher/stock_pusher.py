"""SQS worker: pushes pending stock to each link's channel, a burst of mutations coalesced.

Requests are grouped per link across the whole batch, so SKUs asked for by several records cost one
channel call between them. A record is reported failed (and retried by SQS, then dead-lettered)
only once a SKU it asked for has failed to go out several times: before that, the SKU is asked for
again after a growing delay. SKUs the channel refused by name stay visible on their stock record and
in the link's activity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from koppel import wiring
from koppel.flows.stock import Asked, push_asked
from koppel.observability import logger, metrics, tracer
from koppel.queue import PushRequest

if TYPE_CHECKING:  # annotations only: importing Powertools' typing package would cost the cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext

BACKOFF_SECONDS = 15  # the first wait before a SKU that failed to go out is asked for again
SAFETY_MARGIN_MS = 60_000  # no new channel batch with less than this left (a quarter of a short timeout)


def push_batch(event: dict, context: LambdaContext) -> dict:
    # Powertools' batch processor handles one record at a time; grouping SKUs of many records into
    # one channel call is the point here, so partial failures are reported in Lambda's own shape.
    # The SQS event is read as Lambda hands it over (messageId, body): Powertools' event classes
    # would only wrap the two keys, and importing them costs the cold start.
    asked: list[Asked] = []
    unreadable: set[str] = set()
    for record in event["Records"]:
        message_id = record["messageId"]
        try:
            request = PushRequest.model_validate_json(record["body"])
        except ValidationError:
            logger.warning("push request unreadable", message_id=message_id)
            unreadable.add(message_id)  # alone: retried, then dead-lettered, alarmed
            continue
        asked.append(Asked(message_id, request.link_id, request.skus, request.attempt))
    margin = min(SAFETY_MARGIN_MS, context.get_remaining_time_in_millis() // 4)
    failed, reports = push_asked(
        asked,
        links=wiring.config_store().get_link,
        store=wiring.stock_store(),
        target_for=wiring.stock_target,
        pushes=wiring.push_requests(),
        activity=wiring.activity_log(),
        out_of_time=lambda: context.get_remaining_time_in_millis() < margin,
        backoff_seconds=BACKOFF_SECONDS,
    )
    for link_id, report in reports.items():
        metrics.add_metric(name="StockPushed", unit=MetricUnit.Count, value=len(report.pushed))
        metrics.add_metric(name="StockPushCalls", unit=MetricUnit.Count, value=report.calls)
        logger.info("stock pushed", link_id=link_id, pushed=len(report.pushed), refused=len(report.refused))
    return {"batchItemFailures": [{"itemIdentifier": message} for message in sorted(failed | unreadable)]}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return push_batch(event, context)
