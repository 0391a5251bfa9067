"""Connector credentials: tokens reused until shortly before expiry, renewed once on a 401, fetched
once when many threads need one, and never shown in a log line, repr or error."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx
import pytest

from koppel.connectors.auth import (
    BasicAuth,
    BearerAuth,
    SignedAuth,
    TokenCache,
    TokenKey,
    TokenProvider,
    client_credentials,
    lwa_refresh,
    shoprenter_client_credentials,
    snelstart_client_key,
)
from koppel.connectors.http import Clock, HttpApi
from koppel.errors import AuthenticationFailed, PermanentConnectorError

TOKEN_URL = "https://login.example.test/token"
API = "https://api.example.test/things"
CLIENT_ID, CLIENT_SECRET = "client-7", "s3cr3t-client-secret"


@dataclass
class FakeTime:
    now: float = 1_000.0

    def time(self) -> float:
        return self.now

    def clock(self) -> Clock:
        return Clock(now=self.time, sleep=lambda seconds: setattr(self, "now", self.now + seconds))


@dataclass
class Server:
    """A token endpoint and an API behind it: tokens tok-1, tok-2, ... valid `lifetime` seconds."""

    time: FakeTime
    lifetime: float = 300.0
    token_requests: list[httpx.Request] = field(default_factory=list)
    api_requests: list[httpx.Request] = field(default_factory=list)
    # The Authorization header each API request arrived with (a request sent again is the same object).
    api_auth: list[str] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    token_delay: float = 0.0  # real seconds, so threads pile up behind the first fetch
    refuse_credentials: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            if self.token_delay:
                time.sleep(self.token_delay)
            with self.lock:
                self.token_requests.append(request)
                if self.refuse_credentials:
                    return httpx.Response(401, json={"error": "invalid_client", "client_secret": CLIENT_SECRET})
                token = f"tok-{len(self.token_requests)}"
                self.valid.add(token)
            return httpx.Response(
                200, json={"access_token": token, "token_type": "Bearer", "expires_in": self.lifetime}
            )
        with self.lock:
            self.api_requests.append(request)
            self.api_auth.append(request.headers.get("Authorization", ""))
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json={"detail": "token expired"})
        return httpx.Response(200, json={"ok": True})

    def expire_all(self) -> None:
        self.valid.clear()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def server(fake_time: FakeTime) -> Server:
    return Server(fake_time)


@pytest.fixture
def client(server: Server) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(server))


def bol_like(
    client: httpx.Client, fake_time: FakeTime, cache: TokenCache | None = None, account_id: str = "acc-1"
) -> BearerAuth:
    fetch = client_credentials(client.request, TOKEN_URL, CLIENT_ID, CLIENT_SECRET, system="bol", grant_in="query")
    provider = TokenProvider(
        TokenKey(account_id, TOKEN_URL, CLIENT_ID), fetch, system="bol", cache=cache, clock=fake_time.clock()
    )
    return BearerAuth(provider)


# --- reuse and expiry ------------------------------------------------------------------------------
def test_a_token_is_reused_until_its_expiry_less_the_margin(
    server: Server, client: httpx.Client, fake_time: FakeTime
) -> None:
    # GIVEN tokens that live 300 s, renewed 30 s early
    auth = bol_like(client, fake_time)

    # WHEN calls go out over the first 269 s
    for _ in range(3):
        client.get(API, auth=auth)
        fake_time.now += 89.0
    # THEN one token served them all
    assert len(server.token_requests) == 1
    assert set(server.api_auth) == {"Bearer tok-1"}

    # WHEN 270 s have passed (300 less the margin)
    fake_time.now = 1_000.0 + 270.0
    client.get(API, auth=auth)

    # THEN a new token is fetched before the old one runs out, and used
    assert len(server.token_requests) == 2
    assert server.api_auth[-1] == "Bearer tok-2"


def test_the_token_request_is_bols_client_credentials(
    server: Server, client: httpx.Client, fake_time: FakeTime
) -> None:
    client.get(API, auth=bol_like(client, fake_time))

    (request,) = server.token_requests
    assert request.method == "POST"
    assert request.url.params["grant_type"] == "client_credentials"
    assert request.headers["Authorization"] == httpx.BasicAuth(CLIENT_ID, CLIENT_SECRET)._auth_header
    assert CLIENT_SECRET not in str(request.url)


def test_connectors_of_one_account_share_its_token_through_the_cache(
    server: Server, client: httpx.Client, fake_time: FakeTime
) -> None:
    # GIVEN one cache, and a connector rebuilt for the next run of the same account
    cache = TokenCache()
    client.get(API, auth=bol_like(client, fake_time, cache))
    client.get(API, auth=bol_like(client, fake_time, cache))
    assert len(server.token_requests) == 1

    # WHEN another account with the same client asks
    client.get(API, auth=bol_like(client, fake_time, cache, account_id="acc-2"))

    # THEN it gets a token of its own
    assert len(server.token_requests) == 2


def test_a_token_read_on_another_clock_is_not_taken_as_valid(server: Server, client: httpx.Client) -> None:
    # GIVEN a token cached on one clock, and a connector with a clock of its own (another world)
    cache = TokenCache()
    client.get(API, auth=bol_like(client, FakeTime(), cache))

    # WHEN the other connector calls
    client.get(API, auth=bol_like(client, FakeTime(now=5.0), cache))

    # THEN it fetches its own: an expiry on another clock says nothing
    assert len(server.token_requests) == 2


# --- renewal on 401 --------------------------------------------------------------------------------
def test_a_refused_token_is_renewed_once_and_the_request_sent_again(
    server: Server, client: httpx.Client, fake_time: FakeTime
) -> None:
    auth = bol_like(client, fake_time)
    client.get(API, auth=auth)

    # GIVEN the system forgets the token before its time
    server.expire_all()

    # WHEN the next call goes out
    answer = client.get(API, auth=auth)

    # THEN one new token, the request once more, and it succeeds
    assert answer.status_code == 200
    assert len(server.token_requests) == 2
    assert server.api_auth[-2:] == ["Bearer tok-1", "Bearer tok-2"]


def test_a_second_401_is_not_renewed_again(server: Server, client: httpx.Client, fake_time: FakeTime) -> None:
    # GIVEN an API that refuses every token
    auth = bol_like(client, fake_time)
    server.valid = type("Never", (set,), {"__contains__": lambda self, item: False})()

    # WHEN a call goes out
    answer = client.get(API, auth=auth)

    # THEN the 401 comes back after exactly one renewal: no loop of token requests
    assert answer.status_code == 401
    assert len(server.token_requests) == 2
    assert len(server.api_requests) == 2


def test_through_httpapi_a_second_401_is_authentication_failed(
    server: Server, client: httpx.Client, fake_time: FakeTime
) -> None:
    api = HttpApi(client, system="bol", clock=fake_time.clock())
    fetch = client_credentials(api.request, TOKEN_URL, CLIENT_ID, CLIENT_SECRET, system="bol", grant_in="query")
    auth = BearerAuth(TokenProvider(TokenKey("acc-1", TOKEN_URL, CLIENT_ID), fetch, system="bol"))
    server.valid = type("Never", (set,), {"__contains__": lambda self, item: False})()

    with pytest.raises(AuthenticationFailed):
        api.request("GET", API, auth=auth)
    assert len(server.token_requests) == 2


def test_threads_refused_together_renew_once(server: Server, client: httpx.Client, fake_time: FakeTime) -> None:
    # GIVEN a token every thread holds, then forgotten by the system
    auth = bol_like(client, fake_time)
    client.get(API, auth=auth)
    server.expire_all()
    server.token_delay = 0.05

    # WHEN eight threads call at once and all see the 401
    answers = run_together(8, lambda: client.get(API, auth=auth).status_code)

    # THEN every call succeeds, with one new token between them
    assert answers == [200] * 8
    assert len(server.token_requests) == 2


# --- concurrency -----------------------------------------------------------------------------------
def run_together(count: int, call: Callable[[], object]) -> list[object]:
    start = threading.Barrier(count)
    results: list[object] = [None] * count

    def worker(index: int) -> None:
        start.wait()
        results[index] = call()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return results


def test_many_threads_needing_a_token_make_one_token_request(
    server: Server, client: httpx.Client, fake_time: FakeTime
) -> None:
    # GIVEN a slow token endpoint, and no token yet
    server.token_delay = 0.05
    auth = bol_like(client, fake_time)

    # WHEN sixteen threads call at once
    answers = run_together(16, lambda: client.get(API, auth=auth).status_code)

    # THEN one token request served them all
    assert answers == [200] * 16
    assert len(server.token_requests) == 1
    assert set(server.api_auth) == {"Bearer tok-1"}


# --- nothing secret shows ----------------------------------------------------------------------------
def test_no_secret_or_token_in_logs_reprs_or_errors(
    server: Server,
    client: httpx.Client,
    fake_time: FakeTime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    auth = bol_like(client, fake_time)

    # WHEN tokens are fetched, used, refused and renewed
    client.get(API, auth=auth)
    server.expire_all()
    client.get(API, auth=auth)
    # and the credentials are refused outright (the error body even echoes the secret)
    server.refuse_credentials = True
    other = bol_like(client, fake_time, account_id="acc-2")
    with pytest.raises(AuthenticationFailed) as refused:
        client.get(API, auth=other)

    # THEN neither the secret nor a token is in any log line (its message or its keys), repr or the error
    records = [vars(record) for record in caplog.records]
    shown = [
        caplog.text,
        repr(records),
        repr(auth),
        repr(auth.provider),
        str(refused.value),
        repr(refused.value),
        repr(refused.value.context),
        repr(BasicAuth("api-user", CLIENT_SECRET)),
        repr(SignedAuth(lambda request: {})),
    ]
    for text in shown:
        assert CLIENT_SECRET not in text
        assert "tok-1" not in text
        assert "tok-2" not in text
    assert "token refused" in caplog.text  # the renewal itself is visible, by account
    assert {"system": "bol", "account_id": "acc-1"}.items() <= next(
        record for record in records if record["msg"] == "token refused, fetching a new one"
    ).items()


def test_a_token_answer_without_a_token_says_so_without_showing_the_answer(fake_time: FakeTime) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"tok-secret-ish not json")

    client = httpx.Client(transport=httpx.MockTransport(answer))
    with pytest.raises(PermanentConnectorError) as error:
        client.get(API, auth=bol_like(client, fake_time))
    assert "not JSON" in str(error.value)
    assert error.value.__cause__ is None
    assert "tok-secret-ish" not in repr(error.value)


# --- the other systems' grants ---------------------------------------------------------------------
def test_amazon_lwa_sends_the_refresh_token_in_the_form_body(
    server: Server, client: httpx.Client, fake_time: FakeTime
) -> None:
    fetch = lwa_refresh(client.request, TOKEN_URL, CLIENT_ID, CLIENT_SECRET, "Atzr|refresh")
    provider = TokenProvider(TokenKey("amz", TOKEN_URL, CLIENT_ID), fetch, system="amazon", clock=fake_time.clock())
    assert client.get(API, auth=BearerAuth(provider)).status_code == 200

    (request,) = server.token_requests
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["Atzr|refresh"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }
    assert not request.url.query


def test_snelstart_exchanges_the_client_key_and_sends_the_subscription_key(
    server: Server, client: httpx.Client, fake_time: FakeTime
) -> None:
    fetch = snelstart_client_key(client.request, TOKEN_URL, "koppelsleutel-123")
    provider = TokenProvider(TokenKey("snel", TOKEN_URL), fetch, system="snelstart", clock=fake_time.clock())
    auth = BearerAuth(provider, headers={"Ocp-Apim-Subscription-Key": "sub-key"})

    assert client.get(API, auth=auth).status_code == 200
    (request,) = server.token_requests
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode()) == {"grant_type": ["clientkey"], "clientkey": ["koppelsleutel-123"]}
    assert server.api_requests[0].headers["Ocp-Apim-Subscription-Key"] == "sub-key"
    assert "sub-key" not in repr(auth)


def test_shoprenter_asks_with_json_client_credentials(
    server: Server, client: httpx.Client, fake_time: FakeTime
) -> None:
    fetch = shoprenter_client_credentials(client.request, TOKEN_URL, CLIENT_ID, CLIENT_SECRET)
    provider = TokenProvider(TokenKey("sr", TOKEN_URL, CLIENT_ID), fetch, system="shoprenter", clock=fake_time.clock())

    assert client.get(API, auth=BearerAuth(provider)).status_code == 200
    (request,) = server.token_requests
    assert json.loads(request.content) == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }


def test_client_credentials_in_the_body(server: Server, client: httpx.Client, fake_time: FakeTime) -> None:
    fetch = client_credentials(client.request, TOKEN_URL, CLIENT_ID, CLIENT_SECRET, system="x", client_auth="body")
    provider = TokenProvider(TokenKey("x", TOKEN_URL, CLIENT_ID), fetch, system="x", clock=fake_time.clock())

    client.get(API, auth=BearerAuth(provider))
    (request,) = server.token_requests
    assert "Authorization" not in request.headers
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }


def test_basic_auth_is_korona_s_api_user(client: httpx.Client, server: Server) -> None:
    client.get(API, auth=BasicAuth("api-user", "pw"))
    assert server.api_requests[0].headers["Authorization"] == httpx.BasicAuth("api-user", "pw")._auth_header


def test_a_signed_request_gets_the_hook_s_headers_over_its_own_body(server: Server, client: httpx.Client) -> None:
    # GIVEN a hook that signs method, path and body with a key
    def sign(request: httpx.Request) -> dict[str, str]:
        message = b"\n".join([request.method.encode(), request.url.raw_path, request.content])
        digest = hmac.new(b"key-secret", message, hashlib.sha256).hexdigest()
        return {"X-Key-Id": "key-1", "X-Signature": digest}

    # WHEN two requests with different bodies go out
    client.post(API, content=b'{"a": 1}', auth=SignedAuth(sign))
    client.post(API, content=b'{"a": 2}', auth=SignedAuth(sign))

    # THEN each carries its own signature, verifiable by the receiver
    first, second = server.api_requests
    for request in (first, second):
        expected = hmac.new(
            b"key-secret", b"\n".join([b"POST", request.url.raw_path, request.content]), hashlib.sha256
        ).hexdigest()
        assert request.headers["X-Signature"] == expected
        assert request.headers["X-Key-Id"] == "key-1"
    assert first.headers["X-Signature"] != second.headers["X-Signature"]
