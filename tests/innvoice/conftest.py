"""An InnVoice company (the simulator, built from public facts) and the connector wired to it in-process."""

from __future__ import annotations

from typing import Any

import connector_fixtures
import httpx
import pytest
from connector_fixtures import account_of, wired
from helpers import FakeTime
from innvoice.builders import TODAY

from koppel.config import Account
from koppel.connectors.innvoice.connector import InnVoiceConnector, from_account
from koppel_local.simulators.innvoice import DEMO_PASSWORD, DEMO_REG, DEMO_USER, InnVoiceSimulator

BASE_URL = "https://innvoice.test"

# The fixtures every connector package shares, found by pytest here.
fake_time = connector_fixtures.fake_time
http = connector_fixtures.http


@pytest.fixture
def sim(fake_time: FakeTime) -> InnVoiceSimulator:
    shop = InnVoiceSimulator(clock=fake_time.time, sleep=fake_time.sleep, today=lambda: TODAY)
    shop.add_pad("Számlák", prefix="SZLA")
    shop.add_pad("Webshop", prefix="WEB")
    return shop


def innvoice_account(**settings: Any) -> Account:
    return account_of(
        "innvoice", "innvoice-shop", {"reg_name": DEMO_REG, "base_url": BASE_URL, "pad_id": "2", **settings}
    )


@pytest.fixture
def connect(http: httpx.Client, fake_time: FakeTime):
    """The connector for settings of the test's choosing, built the way koppel's wiring builds it."""

    def build(*, user: str = DEMO_USER, password: str = DEMO_PASSWORD, **settings: Any) -> InnVoiceConnector:
        account = innvoice_account(**settings)
        secret = {"user": user, "password": password}
        return wired(account, secret, http, from_account, clock=fake_time.clock(), today=lambda: TODAY)

    return build
