"""A Shoprenter shop (the simulator) and the connector wired to it in-process, on a fake clock."""

from __future__ import annotations

from typing import Any

import connector_fixtures
import httpx
import pytest
from connector_fixtures import account_of, wired
from helpers import FakeTime

from koppel.config import Account
from koppel.connectors.auth import TokenCache
from koppel.connectors.shoprenter.connector import ShoprenterConnector, from_account
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.shoprenter import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SHOP,
    FixtureContract,
    ShoprenterSimulator,
    load_contract,
)

SECRET = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}

# The fixtures every connector package shares, found by pytest here.
fake_time = connector_fixtures.fake_time
http = connector_fixtures.http


@pytest.fixture(scope="session")
def shoprenter_contract() -> FixtureContract:
    return contract_or_skip(load_contract)


@pytest.fixture
def sim(shoprenter_contract: FixtureContract, fake_time: FakeTime) -> ShoprenterSimulator:
    return ShoprenterSimulator(contract=shoprenter_contract, clock=fake_time.time, sleep=fake_time.sleep)


def shoprenter_account(**settings: Any) -> Account:
    return account_of("shoprenter", "shoprenter-shop", {"shop_name": DEMO_SHOP, **settings})


@pytest.fixture
def tokens() -> TokenCache:
    return TokenCache()


@pytest.fixture
def connect(http: httpx.Client, fake_time: FakeTime, tokens: TokenCache):
    """The connector for settings of the test's choosing, built the way koppel's wiring builds it."""

    def build(*, secret: dict[str, str] | None = None, **settings: Any) -> ShoprenterConnector:
        account = shoprenter_account(**settings)
        return wired(account, secret or SECRET, http, from_account, clock=fake_time.clock(), tokens=tokens)

    return build
