"""The token requests of the systems koppel talks to, each a `fetch` for a `TokenProvider`.

Every fetch sends through `send`, a callable shaped like `httpx.Client.request` (method, url,
keyword arguments): a connector passes its `HttpApi.request`, so 429/5xx retries and rate-limit
pacing apply to token requests too; a plain client's `request` works as well, its answer's status
is checked here. Secrets travel in a header or the body, never the URL (URLs are logged), and
neither a secret nor a token reaches a log line or an exception message.

- `client_credentials`: OAuth2 client credentials (bol: Basic client auth, grant in the query).
- `lwa_refresh`: Login with Amazon, a refresh token exchanged for an access token (form body).
- `snelstart_client_key`: SnelStart's `grant_type=clientkey` with the administration's koppelsleutel.
- `shoprenter_client_credentials`: Shoprenter's client credentials as JSON, answered with a JWT.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

import httpx

from koppel.connectors.auth.tokens import Issued
from koppel.errors import AuthenticationFailed, PermanentConnectorError, TransientConnectorError

Send = Callable[..., httpx.Response]
Fetch = Callable[[], Issued]


def client_credentials(
    send: Send,
    token_url: str,
    client_id: str,
    client_secret: str,
    *,
    system: str,
    client_auth: Literal["basic", "body"] = "basic",
    grant_in: Literal["query", "body"] = "body",
    scope: str = "",
) -> Fetch:
    """OAuth2 client credentials (RFC 6749 4.4). `client_auth` basic: the client id and secret as
    HTTP Basic (bol); body: as form fields. bol takes the grant type in the query as well."""
    grant: dict[str, str] = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
    form: dict[str, str] = {} if grant_in == "query" else dict(grant)
    if client_auth == "body":
        form |= {"client_id": client_id, "client_secret": client_secret}
    request: dict[str, Any] = {"headers": {"Accept": "application/json"}}
    if grant_in == "query":
        request["params"] = grant
    if form:
        request["data"] = form
    if client_auth == "basic":
        request["auth"] = httpx.BasicAuth(client_id, client_secret)
    return lambda: _fetch(send, token_url, request, system)


def lwa_refresh(send: Send, token_url: str, client_id: str, client_secret: str, refresh_token: str) -> Fetch:
    """Login with Amazon (SP-API): the seller's refresh token for an access token of about an hour."""
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    request = {"headers": {"Accept": "application/json"}, "data": form}
    return lambda: _fetch(send, token_url, request, "amazon")


def snelstart_client_key(send: Send, token_url: str, client_key: str) -> Fetch:
    """SnelStart B2B: the koppelsleutel the merchant made for koppel, as `grant_type=clientkey`."""
    request = {"headers": {"Accept": "application/json"}, "data": {"grant_type": "clientkey", "clientkey": client_key}}
    return lambda: _fetch(send, token_url, request, "snelstart")


def shoprenter_client_credentials(send: Send, token_url: str, client_id: str, client_secret: str) -> Fetch:
    """Shoprenter: client credentials as a JSON body at `https://oauth.app.shoprenter.net/{shop}/app/token`."""
    body = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    request = {"headers": {"Accept": "application/json"}, "json": body}
    return lambda: _fetch(send, token_url, request, "shoprenter")


def _fetch(send: Send, token_url: str, request: dict[str, Any], system: str) -> Issued:
    response = send("POST", token_url, **request)
    _check(response, system)
    try:
        body = response.json(parse_float=Decimal)
    except ValueError:
        # The cause would carry the answer's text, which may be a token.
        raise PermanentConnectorError(f"{system} token answer is not JSON") from None
    if not isinstance(body, dict):
        raise PermanentConnectorError(f"{system} token answer is not a JSON object")
    try:
        value = str(body["access_token"])
        expires_in = float(body["expires_in"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentConnectorError(f"{system} token answer lacks access_token or expires_in") from exc
    if not value:
        raise PermanentConnectorError(f"{system} token answer has an empty access_token")
    return Issued(value, expires_in)


def _check(response: httpx.Response, system: str) -> None:
    """The typed error for a refusal, naming the status only: an OAuth error body can echo the request."""
    status = response.status_code
    if status < 400:
        return
    if status in (400, 401, 403):
        raise AuthenticationFailed(f"{system} refused the credentials ({status})", status_code=status)
    if status == 429 or status >= 500:
        raise TransientConnectorError(f"{system} token endpoint answered {status}", status_code=status)
    raise PermanentConnectorError(f"{system} token endpoint answered {status}", status_code=status)
