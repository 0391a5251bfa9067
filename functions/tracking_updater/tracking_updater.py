"""Every 5 minutes: find imported orders completed in the backoffice and report them shipped to the channel.

This first version reports, per link, how many imported orders wait for their shipment; sending
shipments and track & trace to the channel builds on it.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from koppel import wiring
from koppel.config import Flow, Link
from koppel.flows.orders import OrderState
from koppel.observability import logger, metrics, tracer


def awaiting_shipment(link: Link) -> str:
    pending = wiring.order_links().in_state(link.link_id, OrderState.CREATED)
    return f"{len(pending)} imported order(s) wait for their shipment in the backoffice"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return wiring.run_scheduled(Flow.TRACKING, event, awaiting_shipment)
