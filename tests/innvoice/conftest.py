"""An InnVoice company (the simulator, built from public facts) and the connector wired to it in-process."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from helpers import FakeTime
from innvoice.builders import TODAY

from koppel.config import Account
from koppel.connectors import registry
from koppel.connectors.innvoice.connector import InnVoiceConnector, from_account
from koppel_local.simulators.innvoice import DEMO_PASSWORD, DEMO_REG, DEMO_USER, InnVoiceSimulator

BASE_URL = "https://innvoice.test"


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def sim(fake_time: FakeTime) -> InnVoiceSimulator:
    shop = InnVoiceSimulator(clock=fake_time.time, sleep=fake_time.sleep, today=lambda: TODAY)
    shop.add_pad("Számlák", prefix="SZLA")
    shop.add_pad("Webshop", prefix="WEB")
    return shop


@pytest.fixture
def http(sim: InnVoiceSimulator) -> httpx.Client:
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        yield client


def innvoice_account(**settings: Any) -> Account:
    return Account(
        account_id="innvoice-shop",
        system="innvoice",
        secret_ref="koppel/innvoice-shop",
        settings={"reg_name": DEMO_REG, "base_url": BASE_URL, "pad_id": "2", **settings},
    )


@pytest.fixture
def connect(http: httpx.Client, fake_time: FakeTime):
    """The connector for settings of the test's choosing, built the way koppel's wiring builds it."""

    def build(*, user: str = DEMO_USER, password: str = DEMO_PASSWORD, **settings: Any) -> InnVoiceConnector:
        account = innvoice_account(**settings)
        secret = {"user": user, "password": password}
        registry.connector(account, secret, http, *registry.spec("innvoice").serves)
        return from_account(account, secret, http, clock=fake_time.clock(), today=lambda: TODAY)

    return build
