"""Every 5 minutes: import each orders-enabled link's open marketplace orders into its backoffice.

A link whose channel is a webshop (its orders come by webhook, there is no list to poll) gets its
waiting orders and refunds tried again instead: an unknown SKU mapped since, an order whose
answer was lost, a refund that came before its order was booked. A webshop without order webhooks
(Magento) is read for the orders changed since the last run, then the same retries follow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from koppel import wiring
from koppel.config import Flow, Link
from koppel.observability import logger, metrics, tracer

if TYPE_CHECKING:  # annotations only: importing Powertools' typing package would cost the cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext

# Stop starting new orders when less than this is left, so the run ends cleanly and hands over.
SAFETY_MARGIN_MS = 60_000


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    def out_of_time() -> bool:
        return context.get_remaining_time_in_millis() < SAFETY_MARGIN_MS

    def import_link(link: Link) -> str:
        from koppel.flows.orders import waiting_too_long  # the flow's modules load with the first link

        summary = import_orders(link)
        late = waiting_too_long(wiring.order_links(), link, datetime.now(UTC))
        if late:
            # The alarm (OrdersWaitingTooLongAlarm) counts them; the link's activity and the log name it.
            metrics.add_metric(name="OrdersWaitingTooLong", unit=MetricUnit.Count, value=len(late))
            shown = ", ".join(record.channel_order_id for record in late[:10]) + (" …" if len(late) > 10 else "")
            wiring.activity_log().record(
                link.link_id,
                "orders.waiting_too_long",
                f"{len(late)} order(s) waiting longer than {link.orders.alert_after_minutes} min: {shown} "
                f"(koppel orders {link.link_id})",
            )
            logger.warning("orders waiting too long", link_id=link.link_id, count=len(late))
        return summary

    def import_orders(link: Link) -> str:
        if wiring.polls_webshop_orders(link):
            return wiring.follow_webshop_orders(link, context.aws_request_id, out_of_time)
        if wiring.takes_webshop_orders(link):
            return wiring.retry_webshop_orders(link, context.aws_request_id, out_of_time)
        flow = wiring.order_import(link, context.aws_request_id, out_of_time)
        report = flow.run()
        metrics.add_metric(name="OrdersCreated", unit=MetricUnit.Count, value=len(report.created))
        metrics.add_metric(name="OrdersWaiting", unit=MetricUnit.Count, value=len(report.waiting))
        for order_id, reason in report.waiting.items():
            wiring.activity_log().record(link.link_id, "order.needs_attention", reason, order_id=order_id)
        return report.summary()

    return wiring.run_scheduled(Flow.ORDERS, event, import_link)
