"""Logger, Tracer and Metrics, created once for every handler.

Service name, log level, metrics namespace and tracing come from the POWERTOOLS_* environment
variables set in the template's Globals. Log with keys, never with personal data in the message.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="koppel")
tracer = Tracer(service="koppel")
metrics = Metrics(namespace="Koppel", service="koppel")
