"""Request builders shared by the tests (signatures, API Gateway events)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from koppel.connectors.http import Clock
from koppel_local.runtime import LambdaContext
from koppel_local.template import Template

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
WEBHOOK_SECRET = "local-webhook-secret"  # the secret the sample events in events/ are signed with


# --- time ---------------------------------------------------------------------------------------
@dataclass
class FakeTime:
    """Time that only moves when someone sleeps; the sleeps are the waits a user would sit through."""

    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> Clock:
        return Clock(now=self.time, sleep=self.sleep, jitter=lambda low, high: high)


# --- building requests --------------------------------------------------------------------------
def shopify_sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def api_event(account_id: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) event, as the sample in events/ but with this body."""
    event = json.loads((EVENTS / "webhook_shopify_orders_create.json").read_text())
    event["rawPath"] = f"/webhooks/{account_id}"
    event["pathParameters"] = {"account_id": account_id}
    event["requestContext"]["http"]["path"] = event["rawPath"]
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event["headers"] = {k.lower(): v for k, v in headers.items()}
    event["body"] = body.decode()
    return event


def shopify_headers(
    body: bytes, *, topic: str = "orders/create", event_id: str | None = None, secret: str = WEBHOOK_SECRET
) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": shopify_sign(body, secret),
        "x-shopify-shop-domain": "demo-shop.myshopify.com",
        "x-shopify-api-version": "2025-04",
        "x-shopify-webhook-id": str(uuid.uuid4()),
        "x-shopify-event-id": event_id or str(uuid.uuid4()),
        "x-shopify-triggered-at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def sample_body() -> bytes:
    return json.loads((EVENTS / "webhook_shopify_orders_create.json").read_text())["body"].encode()


def assert_allowed(function: str, calls: list[str]) -> None:
    """The function's own policy in template.yaml allows every call its code made."""
    policies = Template().resources[function]["Properties"].get("Policies", [])
    allowed = {action for policy in policies for statement in policy["Statement"] for action in statement["Action"]}
    missing = sorted(set(calls) - allowed)
    assert not missing, f"{function} calls {missing} but its policy does not allow them"


def serve(app: Any) -> tuple[str, Any]:
    """A simulator on a free 127.0.0.1 port, in a daemon thread: its URL and its server (to shut down)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


class Invocation:
    """A function's Lambda context, made new for each invocation: a context's deadline runs from when
    it is made, so one kept at module level would run out while the suite runs."""

    def __init__(self, function_name: str, timeout: int) -> None:
        self.function_name = function_name
        self.timeout = timeout

    def __call__(self) -> LambdaContext:
        return LambdaContext(function_name=self.function_name, timeout=self.timeout)
