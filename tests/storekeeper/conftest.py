"""A StoreKeeper shop (the simulator) and the connector wired to it in-process, on a fake clock, with
the API key its `init` hook handed over."""

from __future__ import annotations

from typing import Any

import connector_fixtures
import httpx
import pytest
from connector_fixtures import wired
from helpers import FakeTime
from storekeeper.builders import HOOK_TOKEN, hook, storekeeper_account

from koppel.connectors.storekeeper.connector import StoreKeeperConnector, from_account
from koppel.webhooks import Install
from koppel_local.simulators.storekeeper import StoreKeeperSimulator

fake_time = connector_fixtures.fake_time
http = connector_fixtures.http


@pytest.fixture
def sim(fake_time: FakeTime) -> StoreKeeperSimulator:
    return StoreKeeperSimulator(clock=fake_time.time, sleep=fake_time.sleep)


@pytest.fixture
def secret(sim: StoreKeeperSimulator) -> dict[str, str]:
    """The account's secret once the merchant connected the app: the hook token and what `init` wrote."""
    installed = hook(storekeeper_account(), sim.hook_body("init"))
    assert isinstance(installed, Install)
    return {"webhook_secret": HOOK_TOKEN, **installed.credentials}


@pytest.fixture
def connect(http: httpx.Client, fake_time: FakeTime, secret: dict[str, str]):
    """The connector for settings of the test's choosing, built the way koppel's wiring builds it."""

    def build(*, credentials: dict[str, str] | None = None, **settings: Any) -> StoreKeeperConnector:
        given = secret if credentials is None else credentials
        return wired(storekeeper_account(**settings), given, http, from_account, clock=fake_time.clock())

    return build
