"""SQS worker: pushes pending stock to each link's channel, a burst of mutations coalesced.

Requests are grouped per link across the whole batch, so SKUs asked for by several records cost one
channel call between them. A record is reported failed (and retried by SQS, then dead-lettered)
only once a SKU it asked for has failed to go out several times: before that, the SKU is asked for
again after a growing delay. SKUs the channel refused by name stay visible on their stock record and
in the link's activity.
"""

from __future__ import annotations

from collections import defaultdict

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SQSEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from koppel import wiring
from koppel.config import Flow
from koppel.errors import KoppelError
from koppel.flows.stock import push_pending
from koppel.observability import logger, metrics, tracer
from koppel.queue import PushRequest

BACKOFF_ATTEMPTS = 4
BACKOFF_SECONDS = 15
SAFETY_MARGIN_MS = 60_000  # no new channel batch with less than this left (a quarter of a short timeout)


def push_batch(event: SQSEvent, context: LambdaContext) -> dict:
    # Powertools' batch processor handles one record at a time; grouping SKUs of many records into
    # one channel call is the point here, so partial failures are reported in Lambda's own shape.
    asked: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    attempts: dict[str, int] = {}
    failed: set[str] = set()
    for record in event.records:
        try:
            request = PushRequest.model_validate_json(record.body)
        except ValidationError:
            logger.warning("push request unreadable", message_id=record.message_id)
            failed.add(record.message_id)  # alone: retried, then dead-lettered, alarmed
            continue
        attempts[record.message_id] = request.attempt
        for sku in request.skus:
            asked[request.link_id][sku].append(record.message_id)
    margin = min(SAFETY_MARGIN_MS, context.get_remaining_time_in_millis() // 4)
    for link_id, skus in asked.items():
        try:
            link = wiring.config_store().get_link(link_id)
            if not link.flows.enabled(Flow.STOCK):
                wiring.activity_log().record(link_id, "stock.skipped", "stock is switched off for this link")
                continue
            report = push_pending(
                link,
                skus,
                store=wiring.stock_store(),
                target=wiring.stock_target(link),
                out_of_time=lambda: context.get_remaining_time_in_millis() < margin,
            )
        except KoppelError as exc:
            logger.warning("stock push failed", link_id=link_id, error=type(exc).__name__)
            wiring.activity_log().record(link_id, "stock.push_failed", exc.message, error=type(exc).__name__)
            if exc.retryable:
                failed.update(_later(link_id, list(skus), skus, attempts))
            else:
                failed.update(message for messages in skus.values() for message in messages)
            continue
        if report.moved:
            wiring.push_requests().request(link_id, report.moved)
        failed.update(_later(link_id, report.retry, skus, attempts))
        if report.pushed or report.refused or report.retry or report.would_push:
            wiring.activity_log().record(link_id, "stock.pushed", report.summary(), dry_run=link.dry_run)
        metrics.add_metric(name="StockPushed", unit=MetricUnit.Count, value=len(report.pushed))
        metrics.add_metric(name="StockPushCalls", unit=MetricUnit.Count, value=report.calls)
        logger.info("stock pushed", link_id=link_id, pushed=len(report.pushed), refused=len(report.refused))
    return {"batchItemFailures": [{"itemIdentifier": message} for message in sorted(failed)]}


def _later(link_id: str, retry: list[str], skus: dict[str, list[str]], attempts: dict[str, int]) -> set[str]:
    """Ask again for SKUs that failed to go out, after a growing delay (15 s, 30 s, 60 s, 120 s).

    After that their requests are failed: SQS delivers them once more, then dead-letters them (alarmed).
    Returns the messages to report as failed.
    """
    if not retry:
        return set()
    attempt = max(attempts[message] for sku in retry for message in skus[sku])
    if attempt >= BACKOFF_ATTEMPTS:
        return {message for sku in retry for message in skus[sku]}
    wiring.push_requests().request(link_id, retry, attempt=attempt + 1, delay=BACKOFF_SECONDS * 2**attempt)
    return set()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=SQSEvent)
def lambda_handler(event: SQSEvent, context: LambdaContext) -> dict:
    return push_batch(event, context)
