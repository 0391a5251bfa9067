"""Every 20 minutes: the safety net behind real-time stock pushes.

This first version reports, per link, the stock levels koppel holds (the ones a push or the feed
would send); comparing them with the channel's own figures builds on it.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from koppel import wiring
from koppel.config import Flow, Link
from koppel.observability import logger, metrics, tracer


def stock_summary(link: Link) -> str:
    rows = wiring.stock_ledger().feed_rows(link.link_id)
    out_of_stock = sum(1 for row in rows if row.quantity <= link.stock.buffer)
    return f"{len(rows)} SKU level(s) held, {out_of_stock} at or below the buffer of {link.stock.buffer}"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return wiring.run_scheduled(Flow.STOCK, event, stock_summary)
