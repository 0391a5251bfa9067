"""SnelStart B2B API v2 over HTTP: a token for the administration's koppelsleutel, the gateway's
subscription key on every call, OData lists, writes sent once, SnelStart's error arrays.

Facts (../shared/reference/snelstart/snelstart-b2b-api-v2.openapi.yaml, FACTS-systems-2.md §1.2):
- `POST {token_url}` with `grant_type=clientkey&clientkey=…` answers a bearer token of about an hour;
  it is kept in the shared token cache, reused until shortly before it runs out and fetched again
  once when SnelStart refuses it early (401, `BearerAuth`);
- every call carries `Ocp-Apim-Subscription-Key` (the partner key of the API gateway);
- lists are JSON arrays, paged with `$skip`/`$top` (at most 25 per page for articles, 500 for the
  others) and narrowed with `$filter`. The spec declares no `$orderby`, so koppel sends none: a list
  is read in the order SnelStart gives it;
- a token without an operation's scope is refused 403: a set-up error, never retried;
- 400 answers carry `[{"errorCode", "message", "details"}]`, sometimes `modelState {field: [msg]}`;
- no rate limit is published; the gateway may answer 429, which `HttpApi` waits out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from koppel.connectors.auth import TOKENS, BearerAuth, Issued, TokenCache, TokenKey, TokenProvider, snelstart_client_key
from koppel.connectors.http import Clock, HttpApi, HttpStatusError, RetryPolicy
from koppel.connectors.snelstart.settings import SnelStartSettings
from koppel.connectors.wire import answer_date, json_number, sent_once
from koppel.errors import (
    AuthenticationFailed,
    ConfigurationError,
    KoppelError,
    PermanentConnectorError,
    RateLimited,
    TransientConnectorError,
)

SYSTEM = "snelstart"
ARTICLE_PAGE = 25  # the spec's `$top` maximum for /artikelen
LIST_PAGE = 500  # and for the other lists

# The scope each operation needs, as the spec's operation descriptions name them.
SCOPES = {
    ("GET", "/artikelen"): "artikelen:read",
    ("GET", "/artikelomzetgroepen"): "artikelen:read",
    ("GET", "/relaties"): "relaties:read",
    ("POST", "/relaties"): "relaties:write",
    ("GET", "/verkooporders"): "orders:read",
    ("POST", "/verkooporders"): "orders:write",
    ("GET", "/verkoopfacturen"): "orders:read",
    ("GET", "/actieprijzen"): "settings:read",
}


@dataclass(frozen=True)
class Listed:
    """One page of a SnelStart list, and the gateway's time when it answered (its `Date` header)."""

    rows: tuple[dict[str, Any], ...]
    answered_at: datetime | None


class TokenRefused(AuthenticationFailed):
    """SnelStart's token endpoint refused the koppelsleutel."""


class SnelStartClient:
    """One SnelStart administration's API, as the koppelsleutel the merchant made for koppel."""

    def __init__(
        self,
        client: httpx.Client,
        subscription_key: str,
        client_key: str,
        settings: SnelStartSettings,
        *,
        account_id: str,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        tokens: TokenCache | None = None,
    ) -> None:
        self.api = HttpApi(client, system=SYSTEM, policy=policy, clock=clock)
        self.once = sent_once(self.api)
        self.root = settings.base_url.rstrip("/")
        fetch = snelstart_client_key(self.api.request, settings.token_url, client_key)
        self.tokens = TokenProvider(
            TokenKey(account_id, settings.token_url),
            _refusal_named(fetch),
            system=SYSTEM,
            cache=TOKENS if tokens is None else tokens,
            clock=self.api.clock,
        )
        self.auth = BearerAuth(self.tokens, headers={"Ocp-Apim-Subscription-Key": subscription_key})

    def __repr__(self) -> str:
        return f"SnelStartClient(root={self.root!r})"

    # --- reads ----------------------------------------------------------------------------------
    def page(self, path: str, *, skip: int = 0, top: int = LIST_PAGE, filter: str = "") -> Listed:
        query: dict[str, Any] = {"$skip": skip, "$top": top}
        if filter:
            query["$filter"] = filter
        response = self.get(path, query)
        body = json_body(response)
        if not isinstance(body, list):
            raise TransientConnectorError(f"snelstart answered {path} with JSON that is not a list")
        return Listed(tuple(row for row in body if isinstance(row, dict)), answer_date(response))

    def every(self, path: str, *, top: int = LIST_PAGE, filter: str = "") -> Iterator[dict[str, Any]]:
        """Every row of a list, page after page, until a page comes back short."""
        skip = 0
        while True:
            found = self.page(path, skip=skip, top=top, filter=filter)
            yield from found.rows
            if len(found.rows) < top:
                return
            skip += len(found.rows)

    def get(self, path: str, query: Mapping[str, Any] | None = None) -> httpx.Response:
        try:
            return self.api.request(
                "GET",
                f"{self.root}{path}",
                params=dict(query or {}),
                headers={"Accept": "application/json"},
                auth=self.auth,
            )
        except TokenRefused:
            raise
        except AuthenticationFailed as exc:
            raise set_up_error(int(exc.context.get("status_code") or 401), "GET", path) from exc
        except HttpStatusError as exc:
            raise refusal(exc, "GET", path) from exc

    # --- writes ---------------------------------------------------------------------------------
    def create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST once. A lost answer (5xx, a timeout) is a TransientConnectorError "outcome unknown": it
        may have been made, so the caller looks it up before it sends again. A 429 was not carried
        out: it is waited out and sent again."""
        content = json.dumps(body, default=json_number).encode()
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        attempts = self.api.policy.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                response = self.once.request(
                    "POST", f"{self.root}{path}", content=content, headers=headers, auth=self.auth
                )
            except RateLimited as exc:
                if attempt < attempts:
                    self.api.wait(exc.retry_after or self.api.backoff(attempt), "429")
                continue
            except TokenRefused:
                raise
            except AuthenticationFailed as exc:
                raise set_up_error(int(exc.context.get("status_code") or 401), "POST", path) from exc
            except HttpStatusError as exc:
                raise refusal(exc, "POST", path) from exc
            except TransientConnectorError as exc:
                raise TransientConnectorError(
                    f"snelstart did not answer POST {path} ({exc.message}): outcome unknown, it may have been "
                    "made; koppel looks it up before sending it again",
                    status_code=exc.context.get("status_code"),
                ) from exc
            created = json_body(response)
            if not isinstance(created, dict):
                raise TransientConnectorError(
                    f"snelstart answered POST {path} without the object made: outcome unknown"
                )
            return created
        raise RateLimited(f"snelstart still rate-limiting POST {path} after {attempts} tries")


def _refusal_named(fetch: Any) -> Any:
    """The grant's fetch, its refusal named in words an operator can act on."""

    def named() -> Issued:
        try:
            return fetch()
        except AuthenticationFailed as exc:
            raise TokenRefused(
                "SnelStart refused the koppelsleutel: set `client_key` in the account's secret to the key the "
                "administration made for koppel in SnelStart Web (it may have been regenerated or deleted)",
                status_code=exc.context.get("status_code"),
            ) from None
        except HttpStatusError as exc:
            if exc.status_code in (400, 401, 403):
                raise TokenRefused(
                    "SnelStart refused the koppelsleutel: set `client_key` in the account's secret to the key the "
                    "administration made for koppel in SnelStart Web (it may have been regenerated or deleted)",
                    status_code=exc.status_code,
                ) from None
            raise

    return named


def set_up_error(status: int, method: str, path: str) -> KoppelError:
    if status == 403:
        scope = SCOPES.get((method, "/" + path.strip("/").split("/")[0]), "")
        needed = f"the scope {scope}" if scope else "the scope this operation needs"
        return ConfigurationError(
            f"SnelStart refused {method} {path} (403): the koppelsleutel lacks {needed}; let the administration "
            "grant koppel's coupling that permission in SnelStart Web",
            field="client_key",
            scope=scope,
        )
    return AuthenticationFailed(
        f"SnelStart refused {method} {path} ({status}): check `subscription_key` (the partner key of the API "
        "gateway) and `client_key` (the administration's koppelsleutel) in the account's secret",
        status_code=status,
    )


def refusal(exc: HttpStatusError, method: str, path: str) -> PermanentConnectorError:
    """SnelStart's error array as koppel's error, in words an operator can act on."""
    detail = error_text(exc.body) or f"status {exc.status_code}"
    return PermanentConnectorError(f"snelstart refused {method} {path}: {detail}", status_code=exc.status_code)


def error_text(body: str) -> str:
    """`[{"errorCode", "message", "details", "modelState"}]` as `CODE: message (field: problem)`."""
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        return body.strip()[:300]
    entries = parsed if isinstance(parsed, list) else [parsed] if isinstance(parsed, dict) else []
    texts = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        code = str(entry.get("errorCode") or "").strip()
        message = str(entry.get("message") or "").strip()
        text = f"{code}: {message}" if code and message else code or message
        fields = [
            f"{name}: {'; '.join(str(problem) for problem in problems)}"
            if isinstance(problems, list)
            else f"{name}: {problems}"
            for name, problems in (entry.get("modelState") or {}).items()
        ]
        details = entry.get("details")
        if details and not isinstance(details, dict | list):
            fields.append(str(details))
        texts.append(f"{text} ({', '.join(fields)})" if fields else text)
    return "; ".join(text for text in texts if text)


def json_body(response: httpx.Response) -> Any:
    # parse_float=Decimal: prices and stock never pass through a binary float.
    try:
        return response.json(parse_float=Decimal)
    except ValueError as exc:
        raise TransientConnectorError("snelstart answered with a body that is not JSON") from exc


def parse_moment(value: object) -> datetime | None:
    """A SnelStart date-time; one without an offset is taken as UTC (the spec does not say)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def odata_moment(moment: datetime) -> str:
    """A date-time literal for `$filter`, in UTC with microseconds."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def odata_text(value: str) -> str:
    """A string literal for `$filter`: single quotes, a quote inside doubled."""
    return "'" + value.replace("'", "''") + "'"


class SnelStartPart:
    """What each capability of `SnelStartConnector` works through; the connector sets both."""

    snelstart: SnelStartClient
    settings: SnelStartSettings
