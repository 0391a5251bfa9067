"""An OpenCart shop's REST Admin extension over HTTP: the secret header, the envelope, errors in words.

OpenCart's own API only builds carts in a session; listing orders and writing stock needs an
extension. koppel speaks to the commercial "OpenCart REST Admin API" (opencart-api.com). It has no
published spec: what this module assumes comes from `FACTS-systems-2.md` §1.8 and §2.3:
- every request carries the secret the merchant set in the extension as `X-Oc-Restadmin-Id`;
- every answer is `{"success": 1|0 or true|false, "error": [...] or "...", "data": ...}`;
- routes as in `routes.py`, in the path or the query URL form.
How koppel reads an answer: `success` false (0, false, "0", "false") is a refusal whatever the HTTP
status; its words are `error` joined (a list, a string, or an object of field → words). A 404 is
`NotFound`; a 401 or 403 is a `ConfigurationError` naming the secret; 429 and 5xx are retried by the
shared policy (`koppel.connectors.http`); any other refusal is a `PermanentConnectorError` with the
shop's words. Amounts are read as `Decimal`, from strings or numbers alike. The HTTP `Date` of the
latest answer is kept: it is the shop's own clock, which the order reader's window ends on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from koppel.connectors.http import Clock, HttpApi, HttpStatusError, RetryPolicy
from koppel.connectors.opencart import routes
from koppel.connectors.opencart.settings import OpenCartSettings
from koppel.connectors.wire import answer_date, json_request, sent_once
from koppel.errors import (
    AuthenticationFailed,
    ConfigurationError,
    NotFound,
    PermanentConnectorError,
    TransientConnectorError,
)

SYSTEM = "opencart"
REFUSED_KEY_HELP = (
    "OpenCart refused the REST Admin secret ({status}): copy the secret key set in the REST Admin API "
    "extension's settings (Extensions > Modules > REST Admin API) into the account's secret as "
    "restadmin_secret, and check that the extension is enabled"
)
FALSE = frozenset({0, "0", "false", ""})


class OpenCartClient:
    """One OpenCart shop's REST Admin extension."""

    def __init__(
        self,
        client: httpx.Client,
        secret: str,
        settings: OpenCartSettings,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.api = HttpApi(client, system=SYSTEM, policy=policy, clock=clock)
        self.once = sent_once(self.api)
        self._secret = secret
        self.settings = settings
        self.shop_time: datetime | None = None  # the `Date` of the latest answer (UTC)

    def __repr__(self) -> str:
        return f"OpenCartClient(base_url={self.settings.base_url!r}, route_style={self.settings.route_style!r})"

    def get(self, route: str) -> Any:
        """The `data` of a GET."""
        return self._send(self.api, "GET", route)

    def write(self, method: str, route: str, body: Mapping[str, Any], *, once: bool = False) -> Any:
        """The `data` of a write; `once`: sent one time only (a create), a lost answer is the caller's to look up."""
        return self._send(self.once if once else self.api, method, route, body)

    def _send(self, api: HttpApi, method: str, route: str, body: Mapping[str, Any] | None = None) -> Any:
        target, params = routes.url(self.settings.base_url, self.settings.route_style, route)
        wanted, content = json_request(body, _number)
        headers = {routes.HEADER: self._secret, **wanted}
        try:
            response = api.request(method, target, params=params, content=content, headers=headers)
        except AuthenticationFailed as exc:
            status = exc.context.get("status_code", 401)
            raise ConfigurationError(REFUSED_KEY_HELP.format(status=status), field="restadmin_secret") from exc
        except HttpStatusError as exc:
            raise refusal(exc.status_code, exc.body, method, route) from exc
        self._keep_date(response)
        envelope = parse(response.content)
        if envelope is None:
            raise TransientConnectorError(f"opencart answered {method} {route} with a body that is not its envelope")
        if envelope.get("success") in FALSE:
            raise refusal(response.status_code, response.text, method, route)
        return envelope.get("data")

    def _keep_date(self, response: httpx.Response) -> None:
        moment = answer_date(response)
        if moment is not None:
            self.shop_time = moment.astimezone(UTC)


def parse(content: bytes) -> dict[str, Any] | None:
    # parse_float=Decimal: prices never pass through a binary float.
    try:
        body = json.loads(content or b"null", parse_float=Decimal)
    except ValueError:
        return None
    return body if isinstance(body, dict) and "success" in body else None


def words(body: str) -> str:
    """The envelope's `error` in words: a list joined, a string as it is, an object's values joined."""
    envelope = parse(body.encode()) if body else None
    if envelope is None:
        return body.strip()[:200]
    error = envelope.get("error")
    if isinstance(error, Mapping):
        error = [f"{key}: {value}" for key, value in error.items()]
    if isinstance(error, list):
        return "; ".join(str(entry) for entry in error if str(entry).strip())
    return str(error or "").strip()


def refusal(status: int, body: str, method: str, route: str) -> Exception:
    said = words(body) or f"status {status}"
    if status == 404:
        return NotFound(f"opencart has no such object: {said}", status_code=404, path=route)
    if status in (401, 403):
        return ConfigurationError(REFUSED_KEY_HELP.format(status=status), field="restadmin_secret", detail=said)
    return PermanentConnectorError(f"opencart refused {method} {route}: {said}", status_code=status)


def decimal(value: object) -> Decimal:
    if value is None or value == "" or isinstance(value, bool):
        return Decimal(0)
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except ArithmeticError:
        return Decimal(0)


def _number(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)  # OpenCart's price column is decimal(15,4): text keeps every digit
    raise TypeError(f"{type(value).__name__} is not JSON")


class OpenCartPart:
    """What each capability of `OpenCartConnector` works through; the connector sets them."""

    opencart: OpenCartClient
    settings: OpenCartSettings
