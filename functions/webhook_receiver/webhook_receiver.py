"""POST /webhooks/{account_id} (and /webhooks/{account_id}/{secret} for systems that sign nothing), and
POST /partners/{account_id}/orders for a partner's orders (koppel's signature, topic order.created):
authenticate, check and queue a delivery (one AWS call); answer at once. The queue worker de-duplicates."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from koppel import wiring
from koppel.api import install_error_handlers
from koppel.errors import BadRequest
from koppel.flows.receive import Limits, WebhookRequest, receive
from koppel.observability import logger, metrics, tracer
from koppel.settings import environment
from koppel.webhooks import for_log

if TYPE_CHECKING:  # annotations only: importing Powertools' typing package would cost the cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext

app = APIGatewayHttpResolver()
install_error_handlers(app)


@app.not_found
def _no_route(_exc: NotFoundError) -> Response:
    # The path is the caller's and is neither echoed nor logged.
    body = {
        "error": "NotFound",
        "reason": "koppel takes webhooks as POST /webhooks/{account_id} (or /webhooks/{account_id}/{secret}) "
        "and a partner's orders as POST /partners/{account_id}/orders",
    }
    return Response(status_code=404, content_type="application/json", body=json.dumps(body))


def _raw_body() -> bytes:
    event = app.current_event.raw_event
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("body is marked isBase64Encoded but is not base64") from exc
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest("body is not UTF-8") from exc


@app.post("/webhooks/<account_id>")
def post_webhook(account_id: str) -> Response:
    return _answer(account_id, "")


@app.post("/webhooks/<account_id>/<url_secret>")
def post_secret_url_webhook(account_id: str, url_secret: str) -> Response:
    # The secret is never logged; it is compared in constant time by the account's verifier.
    return _answer(account_id, url_secret)


@app.post("/partners/<account_id>/orders")
def post_partner_order(account_id: str) -> Response:
    # A partner (Copernicus for Winkelstraat.nl) posts its orders signed with koppel's own scheme.
    return _answer(account_id, "", topic="order.created")


def _answer(account_id: str, url_secret: str, topic: str = "") -> Response:
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
            url_secret=url_secret,
            topic=topic,
        ),
        accounts=wiring.cached_accounts(),
        credentials=wiring.credentials(),
        queue=wiring.event_queue(),
        limits=limits,
        now=datetime.now(UTC),
    )
    # One count per outcome (accepted, ping, ignored, installed); the topic is no dimension, as a
    # sender chooses it.
    metrics.add_metric(name=f"Webhook_{receipt.status}", unit=MetricUnit.Count, value=1)
    logger.info(
        "webhook answered",
        account_id=account_id,
        status=receipt.status,
        topic=for_log(receipt.topic),
        event_id=for_log(receipt.event_id),
    )
    # `success`: what StoreKeeper's hooks look for in an answer; harmless to every other sender.
    body: dict[str, object] = {"success": True, "status": receipt.status, "event_id": receipt.event_id}
    if receipt.status == "installed":
        body["message"] = "credentials stored"
    if receipt.status == "ignored":
        body["reason"] = "koppel takes no deliveries of this topic from this system; nothing was queued"
    return Response(status_code=200, content_type="application/json", body=json.dumps(body))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
