"""A bol.com retailer account (the simulator) and the connector wired to it in-process, on a fake clock."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from koppel.connectors.auth import forget_tokens
from koppel.connectors.bol.connector import BolConnector
from koppel.connectors.bol.settings import BolSettings
from koppel.connectors.http import Clock
from koppel_local.reference import MISSING_REASON
from koppel_local.simulators.bol import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, BolSimulator

API_URL = "https://api.bol.test"
TOKEN_URL = "https://login.bol.test/token"
V10 = "application/vnd.retailer.v10+json"


@dataclass
class FakeTime:
    """Time that only moves when someone sleeps (or a test lets it pass); the connector's sleeps
    are the waits a user would sit through. Jitter is seeded: random, but the same every run."""

    now: float = 10_000.0
    sleeps: list[float] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def jitter(self, low: float, high: float) -> float:
        return self.rng.uniform(low, high)

    def clock(self) -> Clock:
        return Clock(now=self.time, sleep=self.sleep, jitter=self.jitter)


@pytest.fixture(autouse=True)
def no_tokens_from_another_test() -> Iterator[None]:
    """`from_account` connectors keep their tokens for the process; each test is a bol of its own."""
    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def clock(fake_time: FakeTime) -> Clock:
    return fake_time.clock()


@pytest.fixture
def sleeps(fake_time: FakeTime) -> list[float]:
    """Every wait the connector made, in seconds."""
    return fake_time.sleeps


@pytest.fixture
def advance(fake_time: FakeTime) -> Callable[[float], None]:
    """Let time pass without anyone waiting (the next scheduled run)."""
    return fake_time.advance


@pytest.fixture
def sim(fake_time: FakeTime) -> BolSimulator:
    # The simulator shares the fake clock, so rate-limit windows and token expiry follow the
    # connector's (fake) waits; its own latency passes time without counting as a connector wait.
    return BolSimulator(clock=fake_time.time, sleep=fake_time.advance)


@pytest.fixture
def validating_sim(sim: BolSimulator) -> BolSimulator:
    """The simulator, for tests whose point is what bol's published spec refuses: skipped with the
    reason when the spec is not beside the repository, so none of them passes without checking."""
    if not sim.validating:
        pytest.skip(MISSING_REASON)
    return sim


@pytest.fixture
def http_client(sim: BolSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.WSGITransport(app=sim)) as client:
        yield client


@pytest.fixture
def settings() -> BolSettings:
    return BolSettings(base_url=API_URL, token_url=TOKEN_URL)


@pytest.fixture
def connector(http_client: httpx.Client, settings: BolSettings, clock: Clock) -> BolConnector:
    return BolConnector(http_client, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, settings, clock=clock)


@pytest.fixture
def bearer(http_client: httpx.Client) -> dict[str, str]:
    """Headers of a well-behaved Retailer API client, with a fresh token."""
    answer = http_client.post(
        TOKEN_URL, params={"grant_type": "client_credentials"}, auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}", "Accept": V10}
