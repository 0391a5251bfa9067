"""Every 10 minutes: products and prices from the backoffice to each products-enabled link's channel,
then customers' open amounts to the webshop of each balances-enabled link.

Each run continues from the link's cursor and stops a minute before its timeout, so the first sync
of a large catalogue spans several runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from koppel import wiring
from koppel.config import Flow
from koppel.observability import logger, metrics, tracer

if TYPE_CHECKING:  # annotations only: importing Powertools' typing package would cost the cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext

SAFETY_MARGIN_MS = 60_000


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    def out_of_time() -> bool:
        return context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS

    try:
        products = wiring.run_scheduled(Flow.PRODUCTS, event, lambda link: wiring.product_sync(link, out_of_time))
    finally:
        # A link whose products failed must not keep the open amounts of every link from going out;
        # the products' failure is still the run's, after them.
        balances = wiring.run_scheduled(Flow.BALANCES, event, lambda link: wiring.balance_sync(link, out_of_time))
    return products | {"balances": balances}
