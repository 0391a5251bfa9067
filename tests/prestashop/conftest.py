"""A PrestaShop shop (the simulator) and the connector wired to it in-process, on a fake clock."""

from __future__ import annotations

from typing import Any

import connector_fixtures
import httpx
import pytest
from connector_fixtures import account_of, wired
from helpers import FakeTime

from koppel.connectors.prestashop.connector import PrestaShopConnector, from_account
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.prestashop import DEMO_WS_KEY, PrestaShopContract, PrestaShopSimulator, load_contract

BASE_URL = "https://winkel.example.nl"

# The fixtures every connector package shares, found by pytest here.
fake_time = connector_fixtures.fake_time
http = connector_fixtures.http


@pytest.fixture(scope="session")
def prestashop_contract() -> PrestaShopContract:
    return contract_or_skip(load_contract)


@pytest.fixture
def shop_options() -> dict[str, Any]:
    """How the test's shop is set up (its keys, its host); a test overrides it."""
    return {}


@pytest.fixture
def sim(prestashop_contract: PrestaShopContract, fake_time: FakeTime, shop_options: dict[str, Any]):
    return PrestaShopSimulator(
        contract=prestashop_contract, clock=fake_time.time, sleep=fake_time.sleep, **shop_options
    )


@pytest.fixture
def connect(http: httpx.Client, fake_time: FakeTime):
    """The connector for settings of the test's choosing, built the way koppel's wiring builds it."""

    def build(*, key: str = DEMO_WS_KEY, **settings: Any) -> PrestaShopConnector:
        account = account_of("prestashop", "prestashop-shop", {"base_url": BASE_URL, **settings})
        return wired(account, {"ws_key": key}, http, from_account, clock=fake_time.clock())

    return build
