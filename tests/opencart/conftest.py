"""An OpenCart shop (the simulator, REST Admin extension) and the connector wired to it in-process, on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from helpers import FakeTime

from koppel.config import Account
from koppel.connectors import registry
from koppel.connectors.opencart.connector import OpenCartConnector, from_account
from koppel_local.simulators.opencart import DEMO_SECRET, OpenCartSimulator

BASE_URL = "https://winkel.example.nl"
OPENED = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)  # 11:00 in Amsterdam (summer time)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def shop_options() -> dict[str, Any]:
    """How the test's shop answers (envelope variants, its time zone); a test overrides it."""
    return {}


@pytest.fixture
def sim(fake_time: FakeTime, shop_options: dict[str, Any]) -> OpenCartSimulator:
    return OpenCartSimulator(now=OPENED, clock=fake_time.time, sleep=fake_time.sleep, **shop_options)


@pytest.fixture
def http(sim: OpenCartSimulator) -> httpx.Client:
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        yield client


def opencart_account(**settings: Any) -> Account:
    return Account(
        account_id="opencart-shop",
        system="opencart",
        secret_ref="koppel/opencart-shop",
        settings={"base_url": BASE_URL, **settings},
    )


@pytest.fixture
def connect(http: httpx.Client, fake_time: FakeTime, sim: OpenCartSimulator):
    """The connector for settings of the test's choosing, built the way koppel's wiring builds it; its
    own clock reads the shop's, so windows end where the shop is."""

    def build(*, secret: str = DEMO_SECRET, **settings: Any) -> OpenCartConnector:
        account = opencart_account(**settings)
        credentials = {"restadmin_secret": secret}
        registry.connector(account, credentials, http, *registry.spec("opencart").serves)
        return from_account(account, credentials, http, clock=fake_time.clock(), wall_clock=lambda: sim.moment)

    return build
