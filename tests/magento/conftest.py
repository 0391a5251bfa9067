"""A Magento store (the simulator) and the connector wired to it in-process, on a fake clock."""

from __future__ import annotations

from typing import Any

import connector_fixtures
import httpx
import pytest
from connector_fixtures import account_of, wired
from helpers import FakeTime

from koppel.config import Account
from koppel.connectors.magento.connector import MagentoConnector, from_account
from koppel_local.simulators.kit import OpenApiContract
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.magento import DEMO_TOKEN, MagentoSimulator, load_contract

BASE_URL = "https://shop.example.nl"

# The fixtures every connector package shares, found by pytest here.
fake_time = connector_fixtures.fake_time
http = connector_fixtures.http


@pytest.fixture(scope="session")
def magento_contract() -> OpenApiContract:
    return contract_or_skip(load_contract)


@pytest.fixture
def store_options() -> dict[str, Any]:
    """How the test's store is set up (its inventory, its discount setting); a test overrides it."""
    return {}


@pytest.fixture
def sim(magento_contract: OpenApiContract, fake_time: FakeTime, store_options: dict[str, Any]) -> MagentoSimulator:
    return MagentoSimulator(contract=magento_contract, clock=fake_time.time, sleep=fake_time.sleep, **store_options)


def magento_account(**settings: Any) -> Account:
    return account_of("magento", "magento-shop", {"base_url": BASE_URL, **settings})


@pytest.fixture
def connect(http: httpx.Client, fake_time: FakeTime):
    """The connector for settings of the test's choosing, built the way koppel's wiring builds it."""

    def build(*, token: str = DEMO_TOKEN, **settings: Any) -> MagentoConnector:
        return wired(magento_account(**settings), {"access_token": token}, http, from_account, clock=fake_time.clock())

    return build
