"""Every 10 minutes: products and prices from the backoffice to each products-enabled link's channel.

Each run continues from the link's cursor and stops a minute before its timeout, so the first sync
of a large catalogue spans several runs.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from koppel import wiring
from koppel.config import Flow
from koppel.observability import logger, metrics, tracer

SAFETY_MARGIN_MS = 60_000


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return wiring.run_scheduled(
        Flow.PRODUCTS,
        event,
        lambda link: wiring.product_sync(link, lambda: context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS),
    )
