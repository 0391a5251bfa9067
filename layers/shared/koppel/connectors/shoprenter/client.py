"""Shoprenter's API over HTTP: a client-credentials token per shop, JSON, 3 requests a second, the
batch endpoint, and Shoprenter's error bodies in words.

Facts (../shared/reference/shoprenter/sr-api-docs/development/api/, FACTS-systems-2.md §1.4):
- the token: `POST https://oauth.app.shoprenter.net/{shop}/app/token` with the client id and secret
  as JSON (`grant_type=client_credentials`), answered with a bearer JWT of `expires_in` 3600 s; the
  API is `https://{shop}.api2.myshoprenter.hu/api/{resource}` with `Authorization: Bearer`;
- the API answers XML unless asked `Accept: application/json`;
- at most 3 requests per application, shop and second, a 429 beyond (see `limiter`);
- `POST /batch` takes `{"data": {"requests": [{method, uri, data}]}}` (about 200 at most) and answers
  200 with `{"requests": {"request": [{method, uri, response: {header: {statusCode}, body}}]}}`: each
  request's own status is in its answer, never in the batch's;
- a list answers `{href, page (from 0), pageCount, limit, first, previous, next, last, items}`;
- an error names a message (and an inner code: 40005 "The given data is wrong!", 40401 "Resource not
  found!", 40033 "Product not found with sku: ...").
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from koppel.connectors.auth import (
    TOKENS,
    BearerAuth,
    TokenCache,
    TokenKey,
    TokenProvider,
    shoprenter_client_credentials,
)
from koppel.connectors.http import Clock, HttpApi, HttpStatusError, RetryPolicy
from koppel.connectors.shoprenter.limiter import ShopLimiter, shop_limiter
from koppel.connectors.shoprenter.settings import ShoprenterSettings
from koppel.connectors.wire import chunks, json_object, json_request, sent_once
from koppel.errors import (
    AuthenticationFailed,
    ConfigurationError,
    NotFound,
    PermanentConnectorError,
    TransientConnectorError,
)

SYSTEM = "shoprenter"
MAX_BATCH = 200  # requests in one `POST /batch`, as the docs advise
UNAUTHORIZED_HELP = (
    "Shoprenter refused the API client (401): copy the client_id and client_secret of the shop's API "
    "client (Settings > Integrations > API settings, Gold plan) into the account's secret, and check that "
    "the account's shop_name is the shop's API name"
)


@dataclass(frozen=True)
class SubRequest:
    """One request inside a batch; `path` is relative to the API root, with its query."""

    method: str
    path: str
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SubAnswer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error(self) -> str:
        """Shoprenter's words for a refused request of a batch."""
        said = error_text(self.body)
        return f"{said} (status {self.status})" if said else f"status {self.status}"


class LimitedAuth(httpx.Auth):
    """A bearer token, each request sent (the one after a 401 included) only when the shop's limiter
    gives it a turn."""

    requires_response_body = True

    def __init__(self, bearer: BearerAuth, limiter: ShopLimiter) -> None:
        self.bearer = bearer
        self.limiter = limiter

    def __repr__(self) -> str:
        return f"LimitedAuth({self.bearer!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        flow = self.bearer.auth_flow(request)
        outgoing = next(flow)
        while True:
            self.limiter.take()
            response = yield outgoing
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return


class ShoprenterClient:
    """One Shoprenter shop's API, as the API client the merchant made for koppel."""

    def __init__(
        self,
        client: httpx.Client,
        client_id: str,
        client_secret: str,
        settings: ShoprenterSettings,
        *,
        account_id: str,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        tokens: TokenCache | None = None,
    ) -> None:
        self.api = HttpApi(client, system=SYSTEM, policy=policy, clock=clock)
        self.once = sent_once(self.api)
        self.root = settings.api_root
        self.client_id = client_id
        fetch = shoprenter_client_credentials(self.api.request, settings.token_endpoint, client_id, client_secret)
        self.tokens = TokenProvider(
            TokenKey(account_id, settings.token_endpoint, client_id),
            fetch,
            system=SYSTEM,
            cache=TOKENS if tokens is None else tokens,
            clock=self.api.clock,
        )
        self.limiter = shop_limiter(settings.shop_name, self.api.clock.now, self.api.clock.sleep)
        self.auth = LimitedAuth(BearerAuth(self.tokens), self.limiter)

    def __repr__(self) -> str:
        return f"ShoprenterClient(root={self.root!r})"

    def url(self, path: str) -> str:
        return f"{self.root}/{path.lstrip('/')}"

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = self._send(self.api, "GET", path, params=params)
        return json_object(response, SYSTEM)

    def batch(self, requests: Sequence[SubRequest]) -> list[SubAnswer]:
        """Every request in as few `POST /batch` as it takes; one answer per request, in order.

        Setting a price or a stock level twice does no harm, so a batch whose answer is lost is sent again."""
        answers: list[SubAnswer] = []
        for part in chunks(requests, MAX_BATCH):
            body = {
                "data": {
                    "requests": [
                        {"method": sub.method, "uri": self.url(sub.path)}
                        | ({"data": dict(sub.data)} if sub.data is not None else {})
                        for sub in part
                    ]
                }
            }
            answered = json_object(self._send(self.api, "POST", "batch", body=body), SYSTEM)
            answers.extend(batch_answers(answered, len(part)))
        return answers

    def _send(
        self,
        api: HttpApi,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> httpx.Response:
        headers, content = json_request(body, _number)
        try:
            return api.request(
                method,
                self.url(path),
                params={key: str(value) for key, value in (params or {}).items()},
                content=content,
                headers=headers,
                auth=self.auth,
            )
        except AuthenticationFailed as exc:
            raise ConfigurationError(UNAUTHORIZED_HELP, field="client_secret", client_id=self.client_id) from exc
        except HttpStatusError as exc:
            raise refusal(exc, method, path) from exc


def batch_answers(body: Mapping[str, Any], expected: int) -> list[SubAnswer]:
    """The answers of a batch, in the order of its requests; one missing is a transient failure."""
    listed = ((body.get("requests") or {}) if isinstance(body.get("requests"), dict) else {}).get("request")
    if isinstance(listed, dict):
        listed = [listed]  # one request: the XML-shaped JSON may give an object, not a list
    if not isinstance(listed, list) or len(listed) != expected:
        raise TransientConnectorError(f"shoprenter answered a batch of {expected} without an answer for each")
    answers = []
    for entry in listed:
        response = (entry or {}).get("response") or {}
        try:
            status = int(str((response.get("header") or {}).get("statusCode") or 0))
        except ValueError:
            status = 0
        answers.append(SubAnswer(status, response.get("body")))
    return answers


def refusal(exc: HttpStatusError, method: str, path: str) -> Exception:
    """Shoprenter's error body as koppel's error."""
    try:
        parsed: Any = json.loads(exc.body) if exc.body else {}
    except ValueError:
        parsed = exc.body.strip()[:200]
    said = error_text(parsed) or f"status {exc.status_code}"
    if exc.status_code == 404:
        return NotFound(f"shoprenter has no such object: {said}", status_code=404, path=path)
    return PermanentConnectorError(f"shoprenter refused {method} {path}: {said}", status_code=exc.status_code)


def error_text(body: Any) -> str:
    """The message of an error body (`message`, an OAuth `error_description`), with its inner code."""
    if isinstance(body, str):
        return body.strip()[:300]
    if not isinstance(body, Mapping):
        return ""
    message = str(body.get("message") or body.get("error_description") or "").strip()
    code = body.get("code") or body.get("innerCode") or body.get("error")
    if code and str(code) not in message:
        message = f"{message} (code {code})" if message else f"code {code}"
    return message


def items_of(page: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [item for item in page.get("items") or () if isinstance(item, dict)]


def page_count(page: Mapping[str, Any]) -> int:
    try:
        return int(str(page.get("pageCount") or 0))
    except ValueError:
        return 0


def _number(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)  # Shoprenter takes amounts as text, as its own answers give them
    raise TypeError(f"{type(value).__name__} is not JSON")


def decimal(value: object) -> Decimal:
    if value is None or value == "" or isinstance(value, dict | list):
        return Decimal(0)
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except ArithmeticError:
        return Decimal(0)


class ShoprenterPart:
    """What each capability of `ShoprenterConnector` works through; the connector sets both."""

    shoprenter: ShoprenterClient
    settings: ShoprenterSettings
