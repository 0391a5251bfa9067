"""StoreKeeper's JSON RPC over HTTP: one POST per module function, the API-key auth block in the body,
StoreKeeper's error classes as koppel's errors.

Built from public facts (`FACTS-systems-2.md` §2.2: the PHP API wrapper's full-JSON adapter and the
WooCommerce and Magento plugins), not from a specification:
- a call is `POST {api_url}/?action=request&api=fulljson&module={Module}&function={function}` with
  `{"auth": {...}, "params": [positional arguments]}`; the answer is `{"success": true, "response": ...}`
  or `{"success": false, "class": "ShopModule::OrderDuplicateNumber", "error": "...", ...}`;
- the auth block in API-key mode: `account`, `subaccount`, `user`, `rights: "subuser"`, `mode: "apikey"`,
  `apikey`, `client_name`;
- a list answers `{"data": [...], "total": N, "count": n}`, asked with `start` and `limit`; filters are
  `[{"name": "id__=", "val": "12"}]` or `[{"name": "id__in_list", "multi_val": [...]}]`.
Unverified: the HTTP status of a refusal (read at 200 and at 4xx alike); which classes mean the API
key is refused (taken: a class naming auth, or HTTP 401/403); that a refusal with a class fails the
same way again (it is permanent here), while one without a class, a 5xx or a timeout is transient
and retried with backoff by `HttpApi`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from koppel.connectors.http import Clock, HttpApi, HttpStatusError, RetryPolicy
from koppel.connectors.storekeeper.settings import StoreKeeperSettings
from koppel.connectors.wire import json_number, sent_once
from koppel.errors import AuthenticationFailed, ConfigurationError, PermanentConnectorError, TransientConnectorError

SYSTEM = "storekeeper"
CLIENT_NAME = "koppel"
DUPLICATE_NUMBER = "ShopModule::OrderDuplicateNumber"
NOT_CONNECTED = (
    "StoreKeeper has not handed koppel its API key yet: connect the koppel app in StoreKeeper first (its init "
    "hook brings the API key), with the address and hook token `koppel account webhook-url` prints for this account"
)
REFUSED_KEY = (
    "StoreKeeper refused koppel's API key: reconnect the koppel app in StoreKeeper (its init hook brings a new "
    "key), or check that the account's hook token is the one StoreKeeper was given"
)


@dataclass(frozen=True)
class ApiKey:
    """What the `init` hook handed over: the API's address and the API-key auth block."""

    api_url: str
    account: str
    user: str
    apikey: str
    subaccount: str = ""

    def __repr__(self) -> str:
        return f"ApiKey(api_url={self.api_url!r}, account={self.account!r})"

    def auth(self) -> dict[str, str]:
        block = {"account": self.account, "user": self.user, "rights": "subuser", "mode": "apikey"}
        if self.subaccount:
            block["subaccount"] = self.subaccount
        return block | {"apikey": self.apikey, "client_name": CLIENT_NAME}


class StoreKeeperRefusal(PermanentConnectorError):
    """StoreKeeper answered `success: false`: its error class and its words."""

    def __init__(self, message: str, *, error_class: str, words: str) -> None:
        super().__init__(message, error_class=error_class)
        self.error_class = error_class
        self.words = words


class OrderDuplicateNumber(StoreKeeperRefusal):
    """StoreKeeper already has an order with this `shop_order_number`: the order is there, never a
    reason to send it again under another number."""


@dataclass(frozen=True)
class ListPage:
    rows: tuple[dict[str, Any], ...]
    total: int


class StoreKeeperClient:
    """One StoreKeeper shop's API, as the koppel app StoreKeeper connected."""

    def __init__(
        self,
        client: httpx.Client,
        key: ApiKey | None,
        settings: StoreKeeperSettings,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.api = HttpApi(client, system=SYSTEM, policy=policy, clock=clock)
        self.once = sent_once(self.api)
        self.key = key
        self.settings = settings

    def __repr__(self) -> str:
        return f"StoreKeeperClient({self.key!r})"

    def call(self, module: str, function: str, *params: Any, once: bool = False) -> Any:
        """`module::function(*params)`'s response. `once`: a write whose lost answer must not be sent
        again blindly (a `TransientConnectorError` then means "may have been made")."""
        key = self._key()
        body = json.dumps({"auth": key.auth(), "params": list(params)}, default=json_number).encode()
        query = {"action": "request", "api": "fulljson", "module": module, "function": function}
        try:
            response = (self.once if once else self.api).request(
                "POST",
                f"{key.api_url.rstrip('/')}/",
                params=query,
                content=body,
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            )
        except AuthenticationFailed as exc:
            raise AuthenticationFailed(REFUSED_KEY, status_code=exc.context.get("status_code")) from exc
        except HttpStatusError as exc:
            raise refusal(exc.body, f"{module}::{function}", exc.status_code) from exc
        return answered(response, f"{module}::{function}")

    def page(
        self,
        module: str,
        function: str,
        start: int,
        limit: int,
        filters: Sequence[Mapping[str, Any]],
        *leading: Any,
        order: Sequence[Mapping[str, str]] = ({"name": "id", "dir": "asc"},),
    ) -> ListPage:
        """One page of a list function called `(*leading, start, limit, order, filters)`."""
        found = self.call(
            module, function, *leading, start, limit, [dict(o) for o in order], [dict(f) for f in filters]
        )
        if not isinstance(found, dict) or not isinstance(found.get("data"), list):
            raise TransientConnectorError(f"storekeeper answered {module}::{function} without a data list")
        rows = tuple(row for row in found["data"] if isinstance(row, dict))
        return ListPage(rows, integer(found.get("total"), default=len(rows)))

    def every(
        self, module: str, function: str, filters: Sequence[Mapping[str, Any]], *leading: Any, limit: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Every row of a list, page after page (until a short page or `total`)."""
        start = 0
        while True:
            found = self.page(module, function, start, limit, filters, *leading)
            yield from found.rows
            start += len(found.rows)
            if len(found.rows) < limit or start >= found.total:
                return

    def _key(self) -> ApiKey:
        if self.key is None:
            raise ConfigurationError(NOT_CONNECTED, field="api_key")
        return self.key


def answered(response: httpx.Response, what: str) -> Any:
    """The `response` of a successful reply; a refusal as koppel's error."""
    try:
        body = response.json(parse_float=Decimal)
    except ValueError as exc:
        raise TransientConnectorError(f"storekeeper answered {what} with a body that is not JSON") from exc
    if not isinstance(body, dict) or "success" not in body:
        raise TransientConnectorError(f"storekeeper answered {what} without success or error")
    if body.get("success") is True:
        return body.get("response")
    raise refused(body, what)


def refusal(text: str, what: str, status: int) -> Exception:
    """An HTTP error's body as koppel's error: StoreKeeper's reply when it is one, else the status."""
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("success") is False:
        return refused(body, what)
    return PermanentConnectorError(f"storekeeper answered {status} to {what}", status_code=status)


def refused(body: Mapping[str, Any], what: str) -> Exception:
    error_class = str(body.get("class") or "").strip()
    words = str(body.get("error") or body.get("message") or "").strip()[:300]
    if not error_class:
        return TransientConnectorError(f"storekeeper failed {what} without naming why: {words or 'no message'}")
    if "auth" in error_class.casefold():
        return AuthenticationFailed(f"{REFUSED_KEY} ({error_class})")
    message = f"storekeeper refused {what}: {error_class}" + (f": {words}" if words else "")
    if error_class == DUPLICATE_NUMBER:
        return OrderDuplicateNumber(message, error_class=error_class, words=words)
    return StoreKeeperRefusal(message, error_class=error_class, words=words)


def integer(value: object, *, default: int = 0) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def decimal(value: object) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool | dict | list):
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except ArithmeticError:
        return None


def text(value: object) -> str:
    return "" if value is None or isinstance(value, dict | list) else str(value).strip()


class StoreKeeperPart:
    """What each capability of `StoreKeeperConnector` works through; the connector sets both."""

    storekeeper: StoreKeeperClient
    settings: StoreKeeperSettings
