"""A PrestaShop shop (the simulator) and the connector wired to it in-process, on a fake clock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from helpers import FakeTime

from koppel.config import Account
from koppel.connectors import registry
from koppel.connectors.prestashop.connector import PrestaShopConnector, from_account
from koppel_local.simulators.kit.pytest_plugin import contract_or_skip
from koppel_local.simulators.prestashop import DEMO_WS_KEY, PrestaShopContract, PrestaShopSimulator, load_contract

BASE_URL = "https://winkel.example.nl"


@pytest.fixture(scope="session")
def prestashop_contract() -> PrestaShopContract:
    return contract_or_skip(load_contract)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


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
def http(sim: PrestaShopSimulator):
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        yield client


@pytest.fixture
def connect(http: httpx.Client, fake_time: FakeTime):
    """The connector for settings of the test's choosing, built the way koppel's wiring builds it."""

    def build(*, key: str = DEMO_WS_KEY, **settings: Any) -> PrestaShopConnector:
        account = Account(
            account_id="prestashop-shop",
            system="prestashop",
            secret_ref="koppel/prestashop-shop",
            settings={"base_url": BASE_URL, **settings},
        )
        registry.connector(account, {"ws_key": key}, http, *registry.spec("prestashop").serves)
        return from_account(account, {"ws_key": key}, http, clock=fake_time.clock())

    return build
