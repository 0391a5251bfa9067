"""The one place koppel errors become HTTP answers."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.metrics import MetricUnit

from koppel.errors import InProgress, KoppelError
from koppel.observability import logger, metrics


def error_response(exc: KoppelError) -> Response:
    headers = {"Retry-After": "5"} if isinstance(exc, InProgress) else None
    status = exc.http_status if exc.http_status < 500 else 503 if exc.retryable else 500
    body = {"error": type(exc).__name__, "reason": exc.message}
    if status >= 500:
        body["reason"] = "koppel could not handle this request now; please retry"
    return Response(status_code=status, content_type="application/json", body=json.dumps(body), headers=headers)


def install_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(KoppelError)
    def _koppel_error(exc: KoppelError) -> Response:
        log = logger.warning if exc.http_status < 500 else logger.error
        log("request refused", error=type(exc).__name__, reason=exc.message, status=exc.http_status)
        metrics.add_metric(name=f"Refused_{exc.http_status}", unit=MetricUnit.Count, value=1)
        return error_response(exc)
