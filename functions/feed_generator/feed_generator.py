"""Nightly: stream each feed-enabled link's product/stock feed to the feed bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from koppel import wiring
from koppel.config import Flow, Link
from koppel.flows.feed import build_feed
from koppel.observability import logger, metrics, tracer

if TYPE_CHECKING:  # annotations only: importing Powertools' typing package would cost the cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext


def write_feed(link: Link) -> str:
    return build_feed(link, products=wiring.feed_products(link), writer=wiring.feed_writer())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return wiring.run_scheduled(Flow.FEED, event, write_feed)
