"""The one retry and rate-limit mechanism every connector sends through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from koppel.connectors.http import Clock, HttpApi, HttpStatusError, RetryPolicy, retry_after_seconds
from koppel.errors import AuthenticationFailed, RateLimited, TransientConnectorError


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> Clock:
        return Clock(now=lambda: self.now, sleep=self.sleep, jitter=lambda low, high: high)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def api(answers: list[httpx.Response], fake: FakeClock, **policy) -> tuple[HttpApi, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answers.pop(0)

    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.example")
    return HttpApi(client, system="example", policy=RetryPolicy(**policy), clock=fake.clock()), sent


def test_retry_after_is_read_as_seconds_or_as_a_date():
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("4") == 4
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_a_429_waits_as_long_as_the_server_asks_then_succeeds():
    fake = FakeClock()
    http, sent = api([httpx.Response(429, headers={"Retry-After": "4"}), httpx.Response(200)], fake)
    assert http.request("GET", "/orders").status_code == 200
    assert fake.sleeps == [4] and len(sent) == 2


def test_a_429_without_retry_after_backs_off_growing():
    fake = FakeClock()
    http, _ = api([httpx.Response(429)] * 3 + [httpx.Response(200)], fake, base_delay=0.5)
    http.request("GET", "/orders")
    assert fake.sleeps == [1.0, 2.0, 4.0]


def test_a_wait_longer_than_the_run_may_spend_hands_over_instead():
    fake = FakeClock()
    http, _ = api([httpx.Response(429, headers={"Retry-After": "3600"})], fake, max_wait=60)
    with pytest.raises(RateLimited) as stopped:
        http.request("GET", "/orders")
    assert stopped.value.retry_after == 3600 and fake.sleeps == []


def test_server_errors_are_retried_then_reported_as_transient():
    fake = FakeClock()
    http, sent = api([httpx.Response(503)] * 3, fake, max_attempts=3)
    with pytest.raises(TransientConnectorError):
        http.request("GET", "/orders")
    assert len(sent) == 3


def test_client_errors_are_not_retried():
    fake = FakeClock()
    http, sent = api([httpx.Response(401), httpx.Response(404, text="nope")], fake)
    with pytest.raises(AuthenticationFailed) as denied:
        http.request("GET", "/orders")
    assert denied.value.context["status_code"] == 401
    with pytest.raises(HttpStatusError) as missing:
        http.request("GET", "/orders/1")
    assert missing.value.status_code == 404 and len(sent) == 2


def limited(remaining: int, reset: str = "1", limit: int = 3) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": reset},
    )


def test_a_spent_window_pauses_until_it_reopens_not_a_whole_second_later():
    fake = FakeClock()
    http, _ = api([limited(2), limited(1), limited(0), limited(2)], fake)
    http.request("GET", "/orders/1")  # opens the window at t=100
    fake.now += 0.3
    http.request("GET", "/orders/2")
    fake.now += 0.3
    http.request("GET", "/orders/3")  # the last call of the window, at t=100.6; the header still says "1"
    http.request("GET", "/orders/4")
    assert fake.sleeps == [0.4]  # resumes at 101.0, when the window opened plus its length


def test_a_reset_sent_as_a_unix_time_is_not_taken_for_decades():
    fake = FakeClock()
    future = str(int(datetime.now(UTC).timestamp()) + 2)
    http, _ = api([limited(0, reset=future, limit=10), httpx.Response(200)], fake)
    http.request("GET", "/orders/1")
    http.request("GET", "/orders/2")
    assert len(fake.sleeps) == 1 and 0 < fake.sleeps[0] <= 3


def test_each_endpoint_has_its_own_window():
    fake = FakeClock()
    http, _ = api([limited(0), limited(2), limited(2)], fake)
    http.request("GET", "/orders/1")  # the order-detail window is spent
    http.request("GET", "/orders")  # the list endpoint is counted apart: no wait
    assert fake.sleeps == []
    http.request("GET", "/orders/2")  # the detail endpoint waits for its window
    assert len(fake.sleeps) == 1


def test_a_reset_koppel_could_not_honour_is_left_to_the_server():
    fake = FakeClock()
    far = str(int(datetime.now(UTC).timestamp() * 1000) + 3_600_000)  # an hour ahead, in milliseconds
    http, _ = api([limited(0, reset=far), httpx.Response(200)], fake, max_wait=60)
    http.request("GET", "/orders/1")
    http.request("GET", "/orders/2")  # no RateLimited raised on koppel's own guess; no wait
    assert fake.sleeps == []


def test_an_older_answer_arriving_after_a_newer_one_does_not_raise_the_count_again():
    # GIVEN a 15-a-second window with seven requests on their way
    from koppel.connectors.http import Window

    fake = FakeClock()
    http, _ = api([], fake)
    window = Window(in_flight=7)
    # WHEN the window's second answer (13 left) is processed before its first (14 left)
    http.pace(limited(13, limit=15), window)
    http.pace(limited(14, limit=15), window)
    # THEN the count stays the lower one: 13 less the seven still on their way
    assert window.left == 6
