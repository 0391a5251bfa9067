"""Nightly: stream each feed-enabled link's product/stock feed to the feed bucket."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from koppel import wiring
from koppel.config import Flow, Link
from koppel.flows.feed import build_feed
from koppel.observability import logger, metrics, tracer


def write_feed(link: Link) -> str:
    return build_feed(link, products=wiring.feed_products(link), writer=wiring.feed_writer())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return wiring.run_scheduled(Flow.FEED, event, write_feed)
