"""Logger, Tracer and Metrics, created once for every handler.

Service name, log level, metrics namespace and tracing come from the POWERTOOLS_* environment
variables set in the template's Globals. Log with keys, never with personal data in the message.

The Powertools Tracer imports the X-Ray SDK, whose recorder builds two botocore clients as it is
imported (about 100 ms of a cold start). So the real Tracer is made only where it would trace,
by Powertools' own rule (in Lambda, not under SAM local, POWERTOOLS_TRACE_DISABLED not true);
anywhere else `tracer` is a stand-in whose decorators hand the function back unchanged. Where it
traces, it is made at import, as before: the SDK patches botocore and httpx before any client is
built, and the cold start's first invocation is traced whole. It patches what koppel calls through,
botocore (every AWS call) and httpx (every connector's), not every library the SDK knows: its
`patch_all` would import requests, sqlite3 and the database drivers wherever they are installed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics

TRACED_MODULES = ("botocore", "httpx")
_TRUE = frozenset({"1", "y", "yes", "t", "true", "on"})  # Powertools' (and distutils') truthy words


def tracing_on(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the Powertools Tracer would trace here: the rule of its `_is_tracer_disabled`."""
    if env.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in _TRUE:
        return False
    return bool(env.get("LAMBDA_TASK_ROOT")) and not env.get("AWS_SAM_LOCAL") and not env.get("AWS_CHALICE_CLI_MODE")


class Untraced:
    """What koppel uses of the Tracer, doing nothing, for where tracing is off."""

    disabled = True

    def capture_lambda_handler(self, lambda_handler: Callable | None = None, **_options: Any) -> Any:
        if lambda_handler is None:  # used with options: @tracer.capture_lambda_handler(capture_response=False)
            return lambda handler: handler
        return lambda_handler

    def capture_method(self, method: Callable | None = None, **_options: Any) -> Any:
        if method is None:
            return lambda function: function
        return method

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        return None


def make_tracer() -> Any:
    """The Powertools Tracer where tracing is on, else the stand-in (the X-Ray SDK left unimported)."""
    if not tracing_on():
        return Untraced()
    from aws_lambda_powertools import Tracer

    return Tracer(service="koppel", patch_modules=TRACED_MODULES)


logger = Logger(service="koppel")
tracer = make_tracer()
metrics = Metrics(namespace="Koppel", service="koppel")
