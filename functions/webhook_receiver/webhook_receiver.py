"""POST /webhooks/{account_id}: authenticate, de-duplicate and queue a delivery; answer at once."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from koppel import wiring
from koppel.api import install_error_handlers
from koppel.flows.receive import Limits, WebhookRequest, receive
from koppel.observability import logger, metrics, tracer
from koppel.settings import environment

app = APIGatewayHttpResolver()
install_error_handlers(app)


def _raw_body() -> bytes:
    event = app.current_event.raw_event
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")


@app.post("/webhooks/<account_id>")
def post_webhook(account_id: str) -> Response:
    env = environment()
    limits = Limits(
        max_bytes=env.max_webhook_bytes,
        tolerance=timedelta(seconds=env.signature_tolerance_seconds),
        stale_after=timedelta(hours=env.stale_event_hours),
    )
    receipt = receive(
        WebhookRequest(
            account_id=account_id,
            headers={name.lower(): value for name, value in (app.current_event.headers or {}).items()},
            body=_raw_body(),
        ),
        accounts=wiring.cached_accounts(),
        credentials=wiring.credentials(),
        # Keys live as long as a sender may still re-send (stale window) plus an hour.
        dedupe=wiring.deduplicator(app.lambda_context, env.stale_event_hours * 3600 + 3600),
        queue=wiring.event_queue(),
        limits=limits,
        now=datetime.now(UTC),
    )
    metrics.add_metric(name=f"Webhook_{receipt.status}", unit=MetricUnit.Count, value=1)
    logger.info(
        "webhook answered", account_id=account_id, status=receipt.status, topic=receipt.topic, event_id=receipt.event_id
    )
    body = {"status": receipt.status, "event_id": receipt.event_id}
    return Response(status_code=200, content_type="application/json", body=json.dumps(body))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
