"""SQS worker: process queued webhook deliveries, reporting partial batch failures.

A failed record goes back to the queue and, after the queue's maxReceiveCount, to the DLQ
(alarmed); a record seen before is skipped, so SQS's at-least-once delivery acts once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from koppel import wiring
from koppel.flows.inbound import process
from koppel.observability import logger, metrics, tracer
from koppel.queue import Envelope

if TYPE_CHECKING:  # annotations only: importing Powertools' typing package would cost the cold start
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.SQS)

# Long enough to cover SQS redeliveries of the same message (retention is 4 days).
WORKER_DEDUPE_SECONDS = 4 * 24 * 3600


def handle_record(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
    envelope = Envelope.model_validate_json(record.body)

    def act() -> dict:
        acted = process(
            envelope,
            config=wiring.config_store(),
            activity=wiring.activity_log(),
            handlers=wiring.inbound_handlers(),
            parked=wiring.parked_deliveries(),
        )
        return {"links": acted}

    dedupe = wiring.deduplicator(lambda_context, WORKER_DEDUPE_SECONDS)
    result, first_time = dedupe.once(f"worker:{envelope.dedupe_key}", act)
    metrics.add_metric(
        name="DeliveriesProcessed" if first_time else "DeliveriesRepeated", unit=MetricUnit.Count, value=1
    )
    logger.info(
        "delivery processed",
        account_id=envelope.account_id,
        topic=envelope.topic,
        event_id=envelope.event_id,
        links=result["links"],
        repeat=not first_time,
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
