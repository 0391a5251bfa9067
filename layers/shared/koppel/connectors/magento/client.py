"""Magento 2's admin REST API over HTTP: an integration's access token as Bearer, paths under
`/rest/{store_code}/V1`, lists asked with `searchCriteria`, and Magento's error bodies in words.

Facts (../shared/reference/magento/admin-schema-2.4.9.yaml, FACTS-systems-2.md §1.6):
- an integration's access token goes as `Authorization: Bearer`; since 2.4.4 only when the store allows
  it (`oauth/consumer/enable_integration_as_bearer`), else every request is 401;
- a list takes `searchCriteria[filterGroups][i][filters][j][field|value|conditionType]` (filters in a
  group are OR'ed, groups AND'ed), `searchCriteria[sortOrders][i][field|direction]`, `pageSize` and
  `currentPage`, and answers `{items, search_criteria, total_count}`; a `currentPage` past the end
  answers the last page again, so a reader stops on `total_count`, never on an empty page;
- an error is `{"message": "... %1 ... %fieldName ...", "parameters": [...] or {...}}`; a missing ACL
  resource is a 401 too ("The consumer isn't authorized to access %resources.");
- the admin API has no rate limit by default; a 429 or 5xx from a proxy in front is retried.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from koppel.connectors.http import Clock, HttpApi, HttpStatusError, RetryPolicy
from koppel.connectors.magento.settings import MagentoSettings
from koppel.connectors.wire import json_number, json_object, json_request, sent_once
from koppel.errors import (
    AuthenticationFailed,
    ConfigurationError,
    NotFound,
    PermanentConnectorError,
    TransientConnectorError,
)

SYSTEM = "magento"
PLACEHOLDER = re.compile(r"%(\w+)")
UNAUTHORIZED_HELP = (
    "Magento refused the integration's access token (401): copy the access token of the integration "
    "(System > Extensions > Integrations) into the account's secret as access_token, and check that the "
    "store allows integration tokens as bearer tokens (Stores > Configuration > Services > OAuth > "
    "Consumer Settings > Allow OAuth Access Tokens to be used as standalone Bearer tokens: Yes; needed "
    "since Magento 2.4.4)"
)

Filter = tuple[str, str, str]  # field, value, condition type


@dataclass(frozen=True)
class Search:
    """A `searchCriteria`: groups AND'ed, the filters inside one group OR'ed."""

    groups: tuple[tuple[Filter, ...], ...] = ()
    sort: tuple[tuple[str, str], ...] = ()
    page_size: int = 100
    page: int = 1

    def params(self) -> dict[str, str]:
        query: dict[str, str] = {}
        for g, group in enumerate(self.groups):
            for f, (field, value, condition) in enumerate(group):
                prefix = f"searchCriteria[filterGroups][{g}][filters][{f}]"
                query[f"{prefix}[field]"] = field
                query[f"{prefix}[value]"] = value
                query[f"{prefix}[conditionType]"] = condition
        for s, (field, direction) in enumerate(self.sort):
            query[f"searchCriteria[sortOrders][{s}][field]"] = field
            query[f"searchCriteria[sortOrders][{s}][direction]"] = direction
        query["searchCriteria[pageSize]"] = str(self.page_size)
        query["searchCriteria[currentPage]"] = str(self.page)
        return query


@dataclass(frozen=True)
class Found:
    """One page of a Magento list."""

    items: tuple[dict[str, Any], ...]
    total: int
    page: int
    page_size: int

    @property
    def last(self) -> bool:
        """Past this page nothing is left (Magento would answer this page again)."""
        return self.page * self.page_size >= self.total or not self.items


class IntegrationToken(httpx.Auth):
    """The integration's access token as Bearer. Nothing to renew: a 401 is a set-up error, and the
    refusal's body is kept so the error can say what Magento said (a token, or a missing ACL resource)."""

    requires_response_body = True

    def __init__(self, token: str) -> None:
        self._token = token
        self.refusal = ""

    def __repr__(self) -> str:
        return "IntegrationToken(***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code in (401, 403):
            self.refusal = response.text[:500]


class MagentoClient:
    """One Magento store's admin REST API, as an integration."""

    def __init__(
        self,
        client: httpx.Client,
        access_token: str,
        settings: MagentoSettings,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.api = HttpApi(client, system=SYSTEM, policy=policy, clock=clock)
        self.once = sent_once(self.api)
        self.auth = IntegrationToken(access_token)
        self.root = f"{settings.base_url.rstrip('/')}/rest/{settings.store_code}/V1"

    def __repr__(self) -> str:
        return f"MagentoClient(root={self.root!r})"

    def search(self, path: str, search: Search) -> Found:
        body = self.get(path, search.params())
        items = body.get("items") or []
        return Found(
            items=tuple(item for item in items if isinstance(item, dict)),
            total=int(body.get("total_count") or 0),
            page=search.page,
            page_size=search.page_size,
        )

    def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        response = self._send(self.api, "GET", path, params=params)
        return json_object(response, SYSTEM)

    def write(self, method: str, path: str, body: Any, *, once: bool = False) -> Any:
        """A write; `once`: sent one time only (a create), so a lost answer is the caller's to look up."""
        response = self._send(self.once if once else self.api, method, path, body=body)
        if not response.content:
            return None
        try:
            return response.json(parse_float=Decimal)
        except ValueError as exc:
            raise TransientConnectorError("magento answered with a body that is not JSON") from exc

    def _send(
        self,
        api: HttpApi,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> httpx.Response:
        headers, content = json_request(body, json_number)
        try:
            return api.request(
                method,
                f"{self.root}{path}",
                params=dict(params or {}),
                content=content,
                headers=headers,
                auth=self.auth,
            )
        except AuthenticationFailed as exc:
            raise set_up_error(self.auth.refusal) from exc
        except HttpStatusError as exc:
            raise refusal(exc, method, path) from exc


def path_sku(sku: str) -> str:
    """A SKU in a path: every character that is not plain quoted (a `/` in a SKU included)."""
    return quote(sku, safe="")


def set_up_error(body: str) -> ConfigurationError:
    """A 401. Magento answers a token it does not take and an integration without the rights alike
    ("The consumer isn't authorized to access %resources."), so the words cover both."""
    message, parameters, _ = error_body(body)
    resources = parameters.get("resources") if isinstance(parameters, dict) else None
    text = UNAUTHORIZED_HELP
    if resources:
        text += (
            f"; if the token is right, give the integration access to {resources} "
            "(System > Extensions > Integrations > API) and activate it again"
        )
    return ConfigurationError(text, field="access_token", detail=message)


def refusal(exc: HttpStatusError, method: str, path: str) -> Exception:
    """Magento's error body as koppel's error, its parameters put into the message."""
    message, _, errors = error_body(exc.body)
    said = message or f"status {exc.status_code}"
    if errors:
        said += " (" + "; ".join(errors) + ")"
    if exc.status_code == 404:
        return NotFound(f"magento has no such object: {said}", status_code=404, path=path)
    return PermanentConnectorError(f"magento refused {method} {path}: {said}", status_code=exc.status_code)


def error_body(body: str) -> tuple[str, Any, list[str]]:
    """(the message in words, its raw parameters, the messages of its `errors` list)."""
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        return body.strip()[:200], {}, []
    if not isinstance(parsed, dict):
        return "", {}, []
    parameters = parsed.get("parameters") or {}
    errors = [
        rendered(str(entry.get("message") or ""), entry.get("parameters") or {})
        for entry in parsed.get("errors") or ()
        if isinstance(entry, dict) and entry.get("message")
    ]
    return rendered(str(parsed.get("message") or ""), parameters), parameters, errors


def rendered(message: str, parameters: Any) -> str:
    """`%1`, `%2` from a list, `%name` from a mapping (or a list of one-key objects, as the spec has it)."""
    named: dict[str, str] = {}
    if isinstance(parameters, Mapping):
        named = {str(key): str(value) for key, value in parameters.items()}
    elif isinstance(parameters, Sequence) and not isinstance(parameters, str):
        for index, value in enumerate(parameters, start=1):
            if isinstance(value, Mapping):
                named.update({str(key): str(item) for key, item in value.items()})
                text = next(iter(value.values()), "") if len(value) == 1 else ""
                named.setdefault(str(index), str(text))
            else:
                named[str(index)] = str(value)
    return PLACEHOLDER.sub(lambda found: named.get(found.group(1), found.group(0)), message)


class MagentoPart:
    """What each capability of `MagentoConnector` works through; the connector sets both."""

    magento: MagentoClient
    settings: MagentoSettings
