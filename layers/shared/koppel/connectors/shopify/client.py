"""Shopify's Admin GraphQL API: one document POSTed to `/admin/api/{version}/graphql.json`.

REST is legacy at Shopify, so every call is GraphQL. Transport retries (429, 5xx, timeouts) are
`HttpApi`'s; this module adds what only Shopify has: the calculated-query-cost bucket reported in
`extensions.cost`. It waits before a query the bucket cannot pay for, and on a `THROTTLED` answer
waits until the bucket holds the requested cost and asks again.

Mutations are never re-sent blindly: an order or customer created by Shopify whose answer was lost
would be created twice. A mutation goes out once (a 429 means it never ran); the capability that
sent it decides what an unknown outcome means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import httpx

from koppel.connectors.http import Clock, HttpApi, RetryPolicy
from koppel.connectors.shopify.settings import ShopifySettings
from koppel.errors import AuthenticationFailed, PermanentConnectorError, RateLimited, TransientConnectorError

SYSTEM = "shopify"
THROTTLED = "THROTTLED"
# Waits are rounded up to this step: the bucket refills in fractions, and a wait that is exact on
# paper can end a hair too early and be throttled again for a rounding error.
WAIT_STEP = 0.01


class ShopifyUserError(PermanentConnectorError):
    """Shopify refused the input (`userErrors`): sending it again fails the same way."""

    def __init__(self, operation: str, errors: list[dict[str, Any]]) -> None:
        self.messages = tuple(str(error.get("message", "")) for error in errors)
        self.fields = tuple(tuple(error.get("field") or ()) for error in errors)
        self.codes = tuple(str(error.get("code") or "") for error in errors)
        super().__init__(
            f"shopify {operation} refused: {'; '.join(self.messages)}",
            operation=operation,
            fields=self.fields,
            codes=self.codes,
        )


class ShopifyQueryError(PermanentConnectorError):
    """A top-level GraphQL error: the document or its variables do not fit the API version."""

    def __init__(self, operation: str, errors: list[dict[str, Any]]) -> None:
        self.messages = tuple(str(error.get("message", "")) for error in errors)
        super().__init__(f"shopify rejected {operation}: {'; '.join(self.messages)}", operation=operation)


class ShopifyOrderNotFound(PermanentConnectorError):
    """The order koppel created is not in the shop (any more): the merchant may have deleted it."""

    def __init__(self, backoffice_order_id: str) -> None:
        super().__init__("shopify has no order with this id", backoffice_order_id=backoffice_order_id)


@dataclass(frozen=True)
class Operation:
    name: str
    document: str
    mutation: bool
    # Requested cost assumed until Shopify has reported the real one for this document.
    estimated_cost: int


@dataclass
class CostBucket:
    """Shopify's last word on the app's cost bucket, projected forward at its restore rate."""

    maximum: float
    available: float
    restore_rate: float
    observed_at: float

    def available_at(self, now: float) -> float:
        return min(self.maximum, self.available + self.restore_rate * max(0.0, now - self.observed_at))

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until the bucket holds `cost` (capped at its size, or it would never fit)."""
        missing = min(cost, self.maximum) - self.available_at(now)
        if missing <= 1e-6 or self.restore_rate <= 0:  # a float crumb is not worth a wait
            return 0.0
        return round_up(missing / self.restore_rate)


class ShopifyGraphQL:
    """One shop's GraphQL endpoint, shared by every capability of the connector."""

    def __init__(
        self,
        client: httpx.Client,
        access_token: str,
        settings: ShopifySettings,
        *,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.api = HttpApi(client, system=SYSTEM, policy=policy, clock=clock)
        # Same clock and limits, but one attempt: a lost answer to a mutation must not cause a resend.
        self.single_shot = HttpApi(
            client, system=SYSTEM, policy=replace(self.api.policy, max_attempts=1), clock=self.api.clock
        )
        base = (settings.base_url or f"https://{settings.shop_domain}").rstrip("/")
        self.endpoint = f"{base}/admin/api/{settings.api_version}/graphql.json"
        self._headers = {"X-Shopify-Access-Token": access_token, "Accept": "application/json"}
        self.bucket: CostBucket | None = None
        self.throttled = 0
        self._known_costs: dict[str, float] = {}

    def execute(self, operation: Operation, variables: dict[str, Any]) -> dict[str, Any]:
        """Run one document and return its `data`; waits for the cost bucket, never for transport."""
        attempts = self.api.policy.max_attempts
        for attempt in range(1, attempts + 1):
            self._wait_for_budget(operation)
            try:
                body = self._post(operation, variables)
            except RateLimited as exc:
                if not operation.mutation:
                    raise  # HttpApi already waited and retried what it could
                # A 429 means the mutation never ran, so asking again cannot duplicate anything.
                self.api.wait(exc.retry_after if exc.retry_after is not None else self.api.backoff(attempt), "429")
                continue
            cost = self._observe_cost(operation, body)
            if not is_throttled(body):
                return self._data(operation, body)
            self.throttled += 1
            self.api.wait(self._throttle_delay(cost, attempt), THROTTLED)
        raise RateLimited(f"shopify still throttling {operation.name} after {attempts} tries")

    def _post(self, operation: Operation, variables: dict[str, Any]) -> dict[str, Any]:
        api = self.single_shot if operation.mutation else self.api
        response = api.request(
            "POST",
            self.endpoint,
            json={"query": operation.document, "variables": variables, "operationName": operation.name},
            headers=self._headers,
        )
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientConnectorError("shopify answered without JSON", operation=operation.name) from exc
        if not isinstance(body, dict):
            raise TransientConnectorError("shopify answered with an unexpected body", operation=operation.name)
        return body

    def _wait_for_budget(self, operation: Operation) -> None:
        if self.bucket is None:
            return
        cost = self._known_costs.get(operation.name, operation.estimated_cost)
        self.api.wait(self.bucket.wait_for(cost, self.api.clock.now()), "query cost")

    def _observe_cost(self, operation: Operation, body: dict[str, Any]) -> dict[str, Any]:
        cost = (body.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        try:
            self.bucket = CostBucket(
                maximum=float(status["maximumAvailable"]),
                available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
                observed_at=self.api.clock.now(),
            )
        except (KeyError, TypeError, ValueError):
            return cost  # no (readable) cost report: keep the last known bucket
        if cost.get("requestedQueryCost") is not None:
            self._known_costs[operation.name] = float(cost["requestedQueryCost"])
        return cost

    def _throttle_delay(self, cost: dict[str, Any], attempt: int) -> float:
        try:
            requested = float(cost["requestedQueryCost"])
            status = cost["throttleStatus"]
            available = float(status["currentlyAvailable"])
            restore_rate = float(status["restoreRate"])
        except (KeyError, TypeError, ValueError):
            return self.api.backoff(attempt)
        if restore_rate <= 0:
            return self.api.backoff(attempt)
        # At least one step, even if the report says the cost fits: Shopify just said it did not.
        return max(WAIT_STEP, round_up((requested - available) / restore_rate))

    def _data(self, operation: Operation, body: dict[str, Any]) -> dict[str, Any]:
        errors = body.get("errors")
        if errors:
            raise query_error(operation, errors if isinstance(errors, list) else [{"message": str(errors)}])
        data = body.get("data")
        if not isinstance(data, dict):
            raise TransientConnectorError("shopify answered without data", operation=operation.name)
        return data


def round_up(seconds: float) -> float:
    if seconds <= 0:
        return 0.0
    return max(1, math.ceil(round(seconds / WAIT_STEP, 6))) * WAIT_STEP


def is_throttled(body: dict[str, Any]) -> bool:
    errors = body.get("errors")
    return isinstance(errors, list) and any(error_code(error) == THROTTLED for error in errors)


def error_code(error: object) -> str:
    if not isinstance(error, dict):
        return ""
    return str((error.get("extensions") or {}).get("code") or "")


def query_error(operation: Operation, errors: list[Any]) -> Exception:
    codes = {error_code(error) for error in errors}
    listed = [error if isinstance(error, dict) else {"message": str(error)} for error in errors]
    if "ACCESS_DENIED" in codes:
        return AuthenticationFailed(f"shopify denied {operation.name}: the app lacks an access scope")
    if "INTERNAL_SERVER_ERROR" in codes:
        return TransientConnectorError(f"shopify failed internally on {operation.name}", operation=operation.name)
    return ShopifyQueryError(operation.name, listed)


class ShopifyPart:
    """What each capability of `ShopifyConnector` works through; the connector sets both."""

    graphql: ShopifyGraphQL
    settings: ShopifySettings
