"""bol.com's Retailer API over HTTP: its media type, its JSON, its token.

bol answers in `application/vnd.retailer.v10+json` and authenticates with short-lived OAuth2
client-credentials tokens (about five minutes). The token is fetched once and reused until shortly
before it expires (`koppel.connectors.auth`): bol blocks clients that ask for tokens too often.
Every call, the token request included, goes through `HttpApi`, so 429/5xx/rate-limit pacing are
handled in one place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from koppel.connectors.auth import BearerAuth, TokenCache, TokenKey, TokenProvider, client_credentials
from koppel.connectors.bol.settings import BolSettings
from koppel.connectors.http import Clock, HttpApi, RetryPolicy
from koppel.errors import PermanentConnectorError

MEDIA_TYPE = "application/vnd.retailer.v10+json"
CSV_MEDIA_TYPE = "application/vnd.retailer.v10+csv"  # what the offers export file is asked for with
# Renew this long before bol's expiry, so a token never runs out between our check and bol's.
TOKEN_MARGIN_SECONDS = 30.0


class BolClient:
    """One retailer account's calls to bol: `retailer` and `shared` are the APIs' roots (the demo
    ones for a sandbox account); `call` sends JSON and reads JSON, with the account's bearer token."""

    def __init__(
        self,
        client: httpx.Client,
        client_id: str,
        client_secret: str,
        settings: BolSettings,
        *,
        demo: bool = False,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        account_id: str = "",
        tokens: TokenCache | None = None,
    ) -> None:
        self.clock = clock or Clock()
        self.api = HttpApi(client, system="bol", policy=policy, clock=self.clock)
        root = settings.base_url.rstrip("/")
        suffix = "-demo" if demo else ""
        self.retailer = f"{root}/retailer{suffix}"
        self.shared = f"{root}/shared{suffix}"  # process statuses live in bol's shared API
        fetch = client_credentials(
            self.api.request, settings.token_url, client_id, client_secret, system="bol", grant_in="query"
        )
        provider = TokenProvider(
            TokenKey(account_id, settings.token_url, client_id),
            fetch,
            system="bol",
            cache=tokens,  # None: this client's own
            clock=self.clock,
            margin_seconds=TOKEN_MARGIN_SECONDS,
        )
        self.auth = BearerAuth(provider)

    def __repr__(self) -> str:
        return f"BolClient(retailer={self.retailer!r})"

    def call(
        self, method: str, url: str, *, params: Mapping[str, Any] | None = None, body: object = None
    ) -> dict[str, Any]:
        headers = {"Accept": MEDIA_TYPE}
        content = None
        if body is not None:
            headers["Content-Type"] = MEDIA_TYPE
            content = json_text(body)
        response = self.api.request(method, url, params=params, headers=headers, content=content, auth=self.auth)
        return json_object(response)

    def csv(self, url: str) -> str:
        """A file bol serves as CSV (the offers export)."""
        return self.api.request("GET", url, headers={"Accept": CSV_MEDIA_TYPE}, auth=self.auth).text


def json_object(response: httpx.Response) -> dict[str, Any]:
    # parse_float=Decimal: prices must never pass through a binary float.
    try:
        body = response.json(parse_float=Decimal)
    except ValueError as exc:
        raise PermanentConnectorError(
            "bol answered with a body that is not JSON", status_code=response.status_code
        ) from exc
    if not isinstance(body, dict):
        raise PermanentConnectorError("bol answered with JSON that is not an object", status_code=response.status_code)
    return body


def json_text(value: object) -> str:
    """JSON as `json.dumps` writes it, with each Decimal written digit for digit as a number
    (12.50, not 12.5 or "12.50"): bol's prices never pass through a binary float."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be sent as a JSON number")
        return format(value, "f")
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(key))}: {json_text(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(json_text(item) for item in value) + "]"
    return json.dumps(value)


class BolPart:
    """What each capability of `BolConnector` works through; the connector sets them all."""

    bol: BolClient
    settings: BolSettings
    clock: Clock
    process_wait_seconds: float  # the budgets: see `koppel.connectors.bol.connector`
    process_poll_seconds: float
    stock_wait_seconds: float  # one wait for a whole batch of offer updates to settle
    export_wait_seconds: float  # the offers export takes bol minutes, and is rate limited
    export_poll_seconds: float
