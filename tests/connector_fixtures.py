"""What every connector package's tests set up the same way: a fake clock, an httpx client that reaches
the test's simulator (`sim`) in-process, an account of the system, the connector built as koppel's
wiring builds it, a webshop's order feed read to its end, and a product or stock list read page by page.

A package's `conftest.py` imports the fixtures `fake_time` and `http` from here and defines its own `sim`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import httpx
import pytest
from helpers import FakeTime

from koppel.config import Account
from koppel.connectors import registry
from koppel.models import Order

C = TypeVar("C")


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def http(sim: Any) -> Iterator[httpx.Client]:
    """A client whose requests the test's simulator answers in-process."""
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        yield client


def account_of(system: str, account_id: str, settings: dict[str, Any]) -> Account:
    """An account of `system` whose secret is named after it (`koppel/<account_id>`)."""
    return Account(account_id=account_id, system=system, secret_ref=f"koppel/{account_id}", settings=settings)


def wired(
    account: Account,
    credentials: dict[str, Any],
    http: httpx.Client,
    from_account: Callable[..., C],
    **options: Any,
) -> C:
    """The connector as koppel's wiring builds it: the registry must take the account for every capability
    its system declares; then the package's `from_account` builds the test's connector with `options`
    (its clocks, its token cache)."""
    registry.connector(account, dict(credentials), http, *registry.spec(account.system).serves)
    return from_account(account, dict(credentials), http, **options)


def order_feed(connector: Any, cursor: str | None = None, *, since: datetime) -> tuple[list[Order], str | None]:
    """Every order `order_changes` gives from `cursor` on, page after page, and the cursor it ends at; a
    feed that does not end within 50 pages fails the test."""
    orders: list[Order] = []
    for _ in range(50):
        page = connector.order_changes(cursor, since=since)
        orders.extend(page.orders)
        cursor = page.cursor
        if not page.more:
            return orders, cursor
    raise AssertionError("the feed never ended")


def every_page(read: Callable[[str | None], Any], items: str) -> tuple[list[Any], int]:
    """Every item of a cursor-paged read (`product_page`, `stock_page`): the page's field `items` from the
    first page to the one without a cursor, and how many pages it took."""
    found: list[Any] = []
    cursor, pages = None, 0
    while True:
        page = read(cursor)
        found.extend(getattr(page, items))
        cursor, pages = page.cursor, pages + 1
        if cursor is None:
            return found, pages
