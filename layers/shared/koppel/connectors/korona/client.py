"""KORONA.cloud API v3 over HTTP: basic auth with an API user, paths under `/accounts/{koronaAccountId}`,
lists as numbered pages (`ResultList`), and KORONA's error models turned into koppel's errors.

Facts (../shared/reference/korona/korona-cloud-api-v3.swagger.json, FACTS-systems-2.md §1.1):
- every list answers `{currentPage (from 1), pagesTotal, resultsOfPage, resultsTotal, links,
  results, maxRevision}`, asked with `page` and `size`; an empty list is **204 without a body**;
- 401 comes without a body; 400/403/404/429 carry `{code, message}` (`BadRequestErrorModel`,
  `ForbiddenErrorModel`, `NotFoundErrorModel`, `TooManyRequestsErrorModel`);
- 429 means `DAILY_LIMIT_EXCEEDED` or `TOO_MANY_PARALLEL_UPDATE_REQUESTS`; KORONA publishes neither
  number nor a `Retry-After`. A parallel-update refusal is backed off (`HttpApi`'s backoff); the daily
  limit is raised at once as `DailyLimitReached` (no backoff ends it, and every retry is one more
  request against it), until the next midnight UTC.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from koppel.connectors.auth import BasicAuth
from koppel.connectors.http import Clock, HttpApi, HttpStatusError, RetryPolicy
from koppel.connectors.korona.settings import KoronaSettings
from koppel.connectors.wire import json_number, json_object
from koppel.errors import (
    AuthenticationFailed,
    ConfigurationError,
    PermanentConnectorError,
    QuotaExhausted,
    RateLimited,
)

SYSTEM = "korona"
DAILY_LIMIT = "DAILY_LIMIT_EXCEEDED"
PAGE_SIZE = 100  # the spec states no maximum; 100 keeps one answer small


@dataclass(frozen=True)
class ResultPage:
    """One page of a KORONA list."""

    results: tuple[dict[str, Any], ...]
    page: int
    pages_total: int
    max_revision: int | None = None

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.results and self.page < self.pages_total else None


class KoronaClient:
    """One KORONA account's API, read as its API user."""

    def __init__(
        self,
        client: httpx.Client,
        user: str,
        password: str,
        settings: KoronaSettings,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.api = HttpApi(client, system=SYSTEM, policy=policy, clock=clock, quota_spent=daily_limit)
        # Same clock and limits, one attempt: a write whose answer is lost may have been booked.
        self.once = HttpApi(
            client,
            system=SYSTEM,
            policy=replace(self.api.policy, max_attempts=1),
            clock=self.api.clock,
            quota_spent=daily_limit,
        )
        self.auth = BasicAuth(user, password)
        self.root = f"{settings.base_url.rstrip('/')}/accounts/{settings.account_id}"

    def __repr__(self) -> str:
        return f"KoronaClient(root={self.root!r})"

    def page(self, path: str, page: int = 1, *, size: int = PAGE_SIZE, **params: Any) -> ResultPage:
        """One page of the list at `path` (relative to the account); 204 is an empty last page."""
        query = {"page": page, "size": size, **{key: value for key, value in params.items() if value is not None}}
        response = self._get(path, query)
        if response.status_code == 204 or not response.content:
            return ResultPage(results=(), page=page, pages_total=page - 1)
        body = json_object(response, SYSTEM)
        results = body.get("results") or []
        return ResultPage(
            results=tuple(item for item in results if isinstance(item, dict)),
            page=int(body.get("currentPage") or page),
            pages_total=int(body.get("pagesTotal") or 0),
            max_revision=int(body["maxRevision"]) if body.get("maxRevision") is not None else None,
        )

    def every(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every object of a (short) list, page after page: price groups, organizational units."""
        number: int | None = 1
        while number is not None:
            found = self.page(path, number, **params)
            yield from found.results
            number = found.next_page

    def write(self, method: str, path: str, *, params: Mapping[str, Any], body: Any) -> httpx.Response:
        """Send a write once. A lost answer (5xx, a timeout) is a TransientConnectorError: it may have
        been carried out. A 429 was not: a parallel-update refusal is waited out and sent again; the
        daily limit raises `DailyLimitReached` until the next day."""
        content = json.dumps(body, default=json_number).encode()
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        attempts = self.api.policy.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return self.once.request(
                    method, f"{self.root}{path}", params=dict(params), content=content, headers=headers, auth=self.auth
                )
            except DailyLimitReached:
                raise
            except RateLimited as exc:
                code, _ = error_model(str(exc.context.get("body") or ""))
                if attempt < attempts:
                    self.api.wait(self.api.backoff(attempt), code or "429")
            except AuthenticationFailed as exc:
                raise set_up_error(int(exc.context.get("status_code") or 401)) from exc
            except HttpStatusError as exc:
                raise refusal(exc, path, method) from exc
        raise RateLimited(f"korona still refusing parallel updates after {attempts} tries")

    def _get(self, path: str, query: Mapping[str, Any]) -> httpx.Response:
        try:
            return self.api.request(
                "GET", f"{self.root}{path}", params=dict(query), headers={"Accept": "application/json"}, auth=self.auth
            )
        except AuthenticationFailed as exc:
            raise set_up_error(int(exc.context.get("status_code") or 401)) from exc
        except HttpStatusError as exc:
            raise refusal(exc, path) from exc


class DailyLimitReached(QuotaExhausted):
    """KORONA's daily request quota is spent: nothing more until it renews (`retry_after` seconds)."""


def daily_limit(response: httpx.Response) -> DailyLimitReached | None:
    """A 429 that says the day's quota is spent: no backoff ends it, so it is not retried."""
    code, message = error_model(response.text)
    if code != DAILY_LIMIT:
        return None
    return DailyLimitReached(
        f"korona's daily request limit is reached ({message or code}); koppel goes on after midnight UTC",
        retry_after=seconds_to_midnight(),
        code=code,
    )


def seconds_to_midnight(now: datetime | None = None) -> float:
    """Until KORONA's daily quota is taken to renew: the next midnight, UTC (KORONA does not say)."""
    moment = now or datetime.now(UTC)
    following = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (following - moment).total_seconds()


def set_up_error(status: int) -> AuthenticationFailed:
    if status == 403:
        return AuthenticationFailed(
            "KORONA refused the API user access (403): give the API user the rights to read articles, "
            "price groups, organizational units and stock and to book receipts, and check the account's API "
            "package (a receipt refused 403 may also mean a wrong coupling_id)",
            status_code=status,
        )
    return AuthenticationFailed(
        "KORONA refused the API user's credentials (401): check `user` and `password` in the account's "
        "secret (a KORONA API user, not a cashier) and that the user is active",
        status_code=status,
    )


def refusal(exc: HttpStatusError, path: str, method: str = "GET") -> Exception:
    """KORONA's error model (`{code, message}`) as koppel's error, in words an operator can act on."""
    code, message = error_model(exc.body)
    if exc.status_code == 404 and code == "ACCOUNT_NOT_FOUND":
        return ConfigurationError(
            "KORONA has no account with this account_id: copy it from the KORONA backoffice", field="account_id"
        )
    detail = f"{code}: {message}" if code else (message or f"status {exc.status_code}")
    return PermanentConnectorError(f"korona refused {method} {path}: {detail}", status_code=exc.status_code, code=code)


def error_model(body: str) -> tuple[str, str]:
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        return "", ""
    if not isinstance(parsed, dict):
        return "", ""
    return str(parsed.get("code") or ""), str(parsed.get("message") or "")


def reference_id(reference: object) -> str:
    """The id of a `ModelReference` (`{id, number, name}`), else its number."""
    if not isinstance(reference, dict):
        return ""
    return str(reference.get("id") or reference.get("number") or "").strip()


def reference_name(reference: object) -> str:
    if not isinstance(reference, dict):
        return ""
    return str(reference.get("name") or reference.get("number") or "").strip()


class KoronaPart:
    """What each capability of `KoronaConnector` works through; the connector sets both."""

    korona: KoronaClient
    settings: KoronaSettings
