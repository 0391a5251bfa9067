"""Nightly: write each feed-enabled link's product/stock feed to the feed bucket."""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.utilities.typing import LambdaContext

from koppel import wiring
from koppel.config import Flow
from koppel.flows.feed import build_feed
from koppel.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    now = datetime.now(UTC)
    return wiring.run_scheduled(
        Flow.FEED,
        event,
        lambda link: build_feed(link, source=wiring.stock_store(), writer=wiring.feed_writer(), now=now),
    )
