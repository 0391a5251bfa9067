"""Every 20 minutes: the safety net behind real-time stock pushes.

For each link with stock on, reads the backoffice's stock where koppel can (Shopify), merges what
is newer than koppel's, and asks the stock pusher for every SKU whose sellable quantity differs from
what the channel last accepted: a missed webhook or a failed push is corrected within one run.
Pushing stays the pusher's alone, so a reconciliation never races a push of the same SKU.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from koppel import wiring
from koppel.config import Flow, Link
from koppel.flows.stock import reconcile
from koppel.observability import logger, metrics, tracer

if TYPE_CHECKING:  # annotations only: importing Powertools' typing package would cost the cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext

SAFETY_SECONDS = 60  # stop reading the backoffice this long before the Lambda timeout


def reconcile_link(link: Link, deadline: float) -> str:
    result = reconcile(
        link,
        store=wiring.stock_store(),
        pushes=wiring.push_requests(),
        source=wiring.stock_source(link),
        out_of_time=lambda: time.monotonic() > deadline,
    )
    return result.summary()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - SAFETY_SECONDS
    return wiring.run_scheduled(Flow.STOCK, event, lambda link: reconcile_link(link, deadline))
