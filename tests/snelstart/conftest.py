"""A SnelStart administration (the simulator) and the connector wired to it in-process, on fake clocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import connector_fixtures
import httpx
import pytest
from connector_fixtures import account_of, wired
from helpers import FakeTime

from koppel.config import Account
from koppel.connectors.auth import TokenCache
from koppel.connectors.snelstart.connector import SnelStartConnector, from_account
from koppel_local.simulators.kit import OpenApiContract
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.snelstart import DEMO_CLIENT_KEY, DEMO_SUBSCRIPTION_KEY, SnelStartSimulator, load_contract

BASE_URL = "https://snelstart.test/v2"
TOKEN_URL = "https://auth.snelstart.test/b2b/token"

# The fixtures every connector package shares, found by pytest here.
fake_time = connector_fixtures.fake_time
http = connector_fixtures.http


@dataclass
class WallClock:
    """The administration's time of day: still until a test moves it."""

    moment: datetime = datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def move(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def snelstart_contract() -> OpenApiContract:
    return contract_or_skip(load_contract)


@pytest.fixture
def wall() -> WallClock:
    return WallClock()


@pytest.fixture
def sim(snelstart_contract: OpenApiContract, fake_time: FakeTime, wall: WallClock) -> SnelStartSimulator:
    return SnelStartSimulator(contract=snelstart_contract, clock=fake_time.time, sleep=fake_time.sleep, wall=wall.now)


def snelstart_account(**settings: Any) -> Account:
    return account_of("snelstart", "snelstart-admin", {"base_url": BASE_URL, "token_url": TOKEN_URL, **settings})


@pytest.fixture
def connect(http: httpx.Client, fake_time: FakeTime):
    """The connector for settings of the test's choosing, built the way koppel's wiring builds it,
    with a token cache of the test's own."""

    def build(
        *, subscription_key: str = DEMO_SUBSCRIPTION_KEY, client_key: str = DEMO_CLIENT_KEY, **settings: Any
    ) -> SnelStartConnector:
        account = snelstart_account(**settings)
        secret = {"subscription_key": subscription_key, "client_key": client_key}
        return wired(account, secret, http, from_account, clock=fake_time.clock(), tokens=TokenCache())

    return build
