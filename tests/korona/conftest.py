"""A KORONA account (the simulator) and the connector wired to it in-process, on a fake clock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import connector_fixtures
import httpx
import pytest
from connector_fixtures import account_of, wired
from helpers import FakeTime

from koppel.config import Account
from koppel.connectors.declaration import Capability
from koppel.connectors.korona.connector import KoronaConnector, from_account
from koppel_local.simulators.kit import OpenApiContract
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.korona import DEMO_PASSWORD, DEMO_USER, KoronaSimulator, load_contract

BASE_URL = "https://korona.test/web/api/v3"

# The fixtures every connector package shares, found by pytest here.
fake_time = connector_fixtures.fake_time
http = connector_fixtures.http


@pytest.fixture(scope="session")
def korona_contract() -> OpenApiContract:
    return contract_or_skip(load_contract)


@pytest.fixture
def sim(korona_contract: OpenApiContract, fake_time: FakeTime) -> KoronaSimulator:
    return KoronaSimulator(contract=korona_contract, clock=fake_time.time, sleep=fake_time.sleep)


def korona_account(sim: KoronaSimulator, **settings: Any) -> Account:
    return account_of("korona", "korona-shop", {"account_id": sim.account_id, "base_url": BASE_URL, **settings})


@pytest.fixture
def connect(sim: KoronaSimulator, http: httpx.Client, fake_time: FakeTime):
    """The connector for settings of the test's choosing, built the way koppel's wiring builds it."""

    def build(*, user: str = DEMO_USER, password: str = DEMO_PASSWORD, **settings: Any) -> KoronaConnector:
        secret = {"user": user, "password": password}
        return wired(korona_account(sim, **settings), secret, http, from_account, clock=fake_time.clock())

    return build


PRICE = Decimal("12.50")
SERVES = frozenset(
    {
        Capability.PRODUCT_SOURCE,
        Capability.STOCK_SOURCE,
        Capability.STOCK_CHANGES,
        Capability.ORDER_SINK,
        Capability.RETURN_SINK,
    }
)
