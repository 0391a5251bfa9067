"""Stock to a partner that takes it by webhook (Copernicus for Winkelstraat.nl, a merchant's own
middleware): koppel POSTs the levels, signed the way koppel asks senders to sign what they send it.

Request: `POST {settings.stock_url}` with JSON `{"levels": [{"sku", "quantity", "observed_at"}, ...]}`
(`observed_at`: when the backoffice observed it, UTC, so a partner can ignore an older one) and headers
`X-Koppel-Timestamp`, `X-Koppel-Event-Id`, `X-Koppel-Topic: stock.changed`,
`X-Koppel-Signature: v1=<hex HMAC-SHA256(signing_secret, "<ts>\\n<event id>\\n<topic>\\n" + body)>`.
The event id is derived from the body, so the same levels sent again carry the same id and the
partner can de-duplicate.

The partner's answer (koppel's contract, docs/partner-api.md): a 2xx takes the batch. Its body may be
`{"unknown_skus": ["SKU-1", ...]}`, the SKUs of the batch the partner does not list: each of those is
refused, not retried (`koppel stock LINK` shows it as not on the channel, with the reason, until the
SKU changes again), and the rest are taken. A 2xx with no body or any other body takes them all. Any
other answer is about the whole request and names no SKU: the batch is retried, then dead-lettered.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from koppel.config import Account
from koppel.connectors.base import StockPushResult, StockUpdate
from koppel.connectors.http import HttpApi, HttpStatusError, RetryPolicy
from koppel.errors import ConfigurationError, TransientConnectorError
from koppel.webhooks import koppel_digest

TOPIC = "stock.changed"
MAX_ANSWER_BYTES = 1 << 20  # a partner's answer koppel reads for unknown SKUs; a longer one takes the batch
# Who a refusal names, per system; the same instruction as for a SKU koppel itself finds missing.
PARTNERS = {"winkelstraat": "Copernicus"}
NOT_LISTED = "not on the channel: {partner} does not list this SKU; add it there, koppel pushes on the next change"
EVENT_NAMESPACE = uuid.UUID("6f1c7a52-8d0e-4b9a-9a55-2c4e1f0b7d33")  # koppel's own, for stock event ids
# A few quick tries within the call; after that the stock push queue retries the request with its own
# backoff (visibility timeout) and dead-letters it, so one slow partner never holds up other links.
PUSH_POLICY = RetryPolicy(max_attempts=3, base_delay=0.25, max_delay=2.0, max_wait=10.0)


class OutgoingStockWebhook:
    max_batch = 500

    def __init__(self, api: HttpApi, url: str, secret: str, partner: str = "the partner") -> None:
        self.api = api
        self.url = url
        self.secret = secret
        self.partner = partner

    def channel_refs(self, skus: Sequence[tuple[str, str]]) -> dict[str, str]:
        # The partner knows the merchant's SKUs as they are.
        return {sku: sku for sku, _ in skus}

    def push_stock(self, updates: Sequence[StockUpdate]) -> list[StockPushResult]:
        levels = [
            {"sku": update.channel_ref, "quantity": max(0, update.quantity)}
            | ({"observed_at": update.observed_at} if update.observed_at else {})
            for update in updates
        ]
        body = json.dumps({"levels": levels}, separators=(",", ":")).encode()
        # The same levels sent again (a retried push) carry the same event id: the partner can drop it.
        timestamp, event_id = str(int(time.time())), str(uuid.uuid5(EVENT_NAMESPACE, body.decode()))
        headers = {
            "Content-Type": "application/json",
            "X-Koppel-Timestamp": timestamp,
            "X-Koppel-Event-Id": event_id,
            "X-Koppel-Topic": TOPIC,
            "X-Koppel-Signature": f"v1={koppel_digest(self.secret, timestamp, event_id, TOPIC, body)}",
        }
        try:
            answer = self.api.request("POST", self.url, content=body, headers=headers)
        except TransientConnectorError as exc:
            return [StockPushResult(update.sku, False, exc.message, retryable=True) for update in updates]
        except HttpStatusError as exc:
            # An answer about the whole request names no SKU: retried, then dead-lettered and alarmed,
            # never taken as the partner refusing each of these SKUs.
            why = f"the partner answered {exc.status_code} to the stock update"
            return [StockPushResult(update.sku, False, why, retryable=True) for update in updates]
        unknown = unknown_skus(answer)
        refused = NOT_LISTED.format(partner=self.partner)
        return [
            StockPushResult(update.sku, False, refused)
            if update.channel_ref in unknown
            else StockPushResult(update.sku, True)
            for update in updates
        ]


def unknown_skus(answer: httpx.Response) -> frozenset[str]:
    """The SKUs a partner's 2xx answer says it does not list; none for an empty or any other body."""
    content = answer.content
    if not content.strip() or len(content) > MAX_ANSWER_BYTES:
        return frozenset()
    try:
        parsed = json.loads(content)
    except (ValueError, RecursionError):  # not JSON (or not UTF-8): an acknowledgement in its own words
        return frozenset()
    named = parsed.get("unknown_skus") if isinstance(parsed, dict) else None
    if not isinstance(named, list):
        return frozenset()
    return frozenset(sku for sku in named if isinstance(sku, str))


def from_account(
    account: Account, credentials: Mapping[str, Any], client: httpx.Client, *, policy: RetryPolicy | None = None
) -> OutgoingStockWebhook:
    url = str(account.settings.get("stock_url", ""))
    if not url.startswith(("https://", "http://")):
        raise ConfigurationError("settings.stock_url must be the partner's http(s) URL for stock", field="stock_url")
    secret = str(credentials.get("signing_secret", ""))
    if not secret:
        raise ConfigurationError("the account's secret needs signing_secret to sign stock updates", field="secret")
    api = HttpApi(client, system=account.system, policy=policy or PUSH_POLICY)
    return OutgoingStockWebhook(api, url, secret, PARTNERS.get(account.system, "the partner"))
