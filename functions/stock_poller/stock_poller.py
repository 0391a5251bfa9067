"""Every minute: the stock changes of backoffices that send no webhooks (KORONA), to every channel.

For each link with stock on and `stock.poll_changes` on whose backoffice keeps a stock change feed,
reads what changed since the link's cursor, merges what is newer than koppel's and asks the stock
pusher for each SKU that turned pending, as a webhook would. A till sale reaches the channels within
about a minute and a half (this schedule, then the pusher's coalescing delay). A poll that finds
nothing leaves no line in the activity log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from koppel import wiring
from koppel.config import Flow
from koppel.observability import logger, metrics, tracer

if TYPE_CHECKING:  # annotations only: importing Powertools' typing package would cost the cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext

SAFETY_MARGIN_MS = 10_000  # stop reading pages this long before the timeout; the cursor keeps the rest


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return wiring.run_scheduled(
        Flow.STOCK,
        event,
        lambda link: wiring.follow_stock_changes(
            link, lambda: context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS
        ),
        job="stock-changes",  # the 20-minute reconciliation keeps its own stamps for a link's stock schedule
    )
