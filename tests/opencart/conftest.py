"""An OpenCart shop (the simulator, REST Admin extension) and the connector wired to it in-process, on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import connector_fixtures
import httpx
import pytest
from connector_fixtures import account_of, wired
from helpers import FakeTime

from koppel.config import Account
from koppel.connectors.opencart.connector import OpenCartConnector, from_account
from koppel_local.simulators.opencart import DEMO_SECRET, OpenCartSimulator

BASE_URL = "https://winkel.example.nl"
OPENED = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)  # 11:00 in Amsterdam (summer time)

# The fixtures every connector package shares, found by pytest here.
fake_time = connector_fixtures.fake_time
http = connector_fixtures.http


@pytest.fixture
def shop_options() -> dict[str, Any]:
    """How the test's shop answers (envelope variants, its time zone); a test overrides it."""
    return {}


@pytest.fixture
def sim(fake_time: FakeTime, shop_options: dict[str, Any]) -> OpenCartSimulator:
    return OpenCartSimulator(now=OPENED, clock=fake_time.time, sleep=fake_time.sleep, **shop_options)


def opencart_account(**settings: Any) -> Account:
    return account_of("opencart", "opencart-shop", {"base_url": BASE_URL, **settings})


@pytest.fixture
def connect(http: httpx.Client, fake_time: FakeTime, sim: OpenCartSimulator):
    """The connector for settings of the test's choosing, built the way koppel's wiring builds it; its
    own clock reads the shop's, so windows end where the shop is."""

    def build(*, secret: str = DEMO_SECRET, **settings: Any) -> OpenCartConnector:
        return wired(
            opencart_account(**settings),
            {"restadmin_secret": secret},
            http,
            from_account,
            clock=fake_time.clock(),
            wall_clock=lambda: sim.moment,
        )

    return build
