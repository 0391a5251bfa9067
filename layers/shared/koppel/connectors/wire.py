"""What several connectors send and read alike over HTTP: a create sent once, a JSON request's headers and
body, amounts as JSON numbers, an answer that must be a JSON object, the `Date` of an answer, a list asked
in parts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from koppel.connectors.http import HttpApi
from koppel.errors import TransientConnectorError

T = TypeVar("T")


def sent_once(api: HttpApi) -> HttpApi:
    """`api` with the same client, clock and limits but one attempt: a write whose answer is lost may have
    been made, so it is looked up instead of sent again."""
    return HttpApi(api.client, system=api.system, policy=replace(api.policy, max_attempts=1), clock=api.clock)


def json_request(body: Any, default: Callable[[object], object]) -> tuple[dict[str, str], bytes | None]:
    """The headers and content of a request that asks for JSON: `Accept` always; with a `body`, its
    `Content-Type` and the body as JSON, `default` writing what `json.dumps` cannot (the amounts)."""
    headers = {"Accept": "application/json"}
    if body is None:
        return headers, None
    headers["Content-Type"] = "application/json"
    return headers, json.dumps(body, default=default).encode()


def json_number(value: object) -> object:
    """`json.dumps`'s `default`: a `Decimal` as a JSON number."""
    if isinstance(value, Decimal):
        return float(value)  # cents survive: the shortest repr of a two-decimal float gives back its digits
    raise TypeError(f"{type(value).__name__} is not JSON")


def json_object(response: httpx.Response, system: str) -> dict[str, Any]:
    """The answer's JSON object, its numbers as `Decimal` (prices never pass through a binary float); any
    other body is a `TransientConnectorError` in `system`'s name."""
    try:
        body = response.json(parse_float=Decimal)
    except ValueError as exc:
        raise TransientConnectorError(f"{system} answered with a body that is not JSON") from exc
    if not isinstance(body, dict):
        raise TransientConnectorError(f"{system} answered with JSON that is not an object")
    return body


def answer_date(response: httpx.Response) -> datetime | None:
    """The answer's HTTP `Date` (the server's clock), with its zone; one without a zone read as UTC."""
    value = response.headers.get("Date")
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    """`items` in parts of `size`, for requests that take a bounded list."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
