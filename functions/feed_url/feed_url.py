"""GET /feeds/{link_id}?token=…: redirect a marketplace to a short-lived presigned URL of the feed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths

from koppel import wiring
from koppel.api import install_error_handlers
from koppel.flows.feed import check_feed_token, feed_location
from koppel.observability import logger, metrics, tracer
from koppel.settings import environment

if TYPE_CHECKING:  # annotations only: importing Powertools' typing package would cost the cold start
    from aws_lambda_powertools.utilities.typing import LambdaContext

app = APIGatewayHttpResolver()
install_error_handlers(app)


@app.get("/feeds/<link_id>")
def get_feed(link_id: str) -> Response:
    token = app.current_event.get_query_string_value(name="token", default_value="") or ""
    check_feed_token(wiring.feed_signing_key(), link_id, token)
    location = feed_location(
        wiring.config_store().get_link(link_id),
        writer=wiring.feed_writer(),
        expires_in=environment().feed_url_ttl_seconds,
    )
    logger.info("feed fetched", link_id=link_id)
    return Response(status_code=302, headers={"Location": location, "Cache-Control": "no-store"}, body="")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)  # the answer holds a presigned URL
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
