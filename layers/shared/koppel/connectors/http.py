"""One retry and rate-limit mechanism for every connector.

Connectors take an injected `httpx.Client` and send through `HttpApi`, which:
- honours 429 `Retry-After` (seconds or HTTP date) and falls back to jittered exponential backoff
  when the header is missing;
- retries 5xx, 408 and transport errors (timeouts, resets) with jittered backoff;
- paces itself from `X-RateLimit-Remaining` / `X-RateLimit-Reset`, so it waits before the limit
  bites instead of after;
- never waits beyond a deadline: it raises `RateLimited` and the caller hands over to a later run;
- maps the final answer to a typed error.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from koppel.errors import (
    AuthenticationFailed,
    PermanentConnectorError,
    RateLimited,
    TransientConnectorError,
)
from koppel.observability import logger

RETRYABLE_STATUS = frozenset({408, 500, 502, 503, 504})
EPOCH_THRESHOLD = 1_000_000_000  # a "seconds until reset" this large is a timestamp
EPOCH_MS_THRESHOLD = 1_000_000_000_000  # and this large, one in milliseconds
ID_SEGMENT = re.compile(r"/[^/]*\d[^/]*")


@dataclass
class Window:
    """koppel's mirror of one endpoint's rate-limit window."""

    left: int | None = None  # calls left, as last reported less those sent since; None: unknown
    ends: float = 0.0  # when the window is expected to reopen
    in_flight: int = 0  # requests sent and not yet answered


class HttpStatusError(PermanentConnectorError):
    def __init__(self, message: str, status_code: int, body: str = "", **context: object) -> None:
        super().__init__(message, status_code=status_code, **context)
        self.status_code = status_code
        self.body = body[:500]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    # The longest single wait koppel accepts; beyond it the run stops and the next one continues.
    max_wait: float = 60.0


@dataclass
class Clock:
    """Time and sleep, injectable so tests and benches do not wait for real."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float, float], float] = field(default=random.uniform)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP date. None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class HttpApi:
    def __init__(
        self,
        client: httpx.Client,
        *,
        system: str,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        quota_spent: Callable[[httpx.Response], RateLimited | None] | None = None,
    ) -> None:
        """`quota_spent`: the system's reading of a 429 that no backoff ends (a daily limit spent);
        what it returns is raised at once instead of retrying into the limit."""
        self.client = client
        self.system = system
        self.quota_spent = quota_spent
        self.policy = policy or RetryPolicy()
        self.clock = clock or Clock()
        self._paused_until = 0.0
        self._windows: dict[str, Window] = {}  # one rate-limit window per endpoint
        self._lock = threading.Lock()
        self.calls = 0
        self.throttled = 0

    @contextmanager
    def _sending(self, window: Window) -> Iterator[None]:
        """Wait for room in the endpoint's rate-limit window, then count the request until answered."""
        while True:
            with self._lock:
                now = self.clock.now()
                if window.left is not None and now >= window.ends:
                    window.left = None  # a new window: its allowance is learnt from the next answer
                pause = (window.ends if window.left is not None and window.left <= 0 else 0.0) - now
                pause = max(pause, self._paused_until - now)
                if pause <= 0:
                    if window.left is not None:
                        window.left -= 1
                    window.in_flight += 1
                    break
            self.wait(pause, "rate-limit window")
        try:
            yield
        finally:
            with self._lock:
                window.in_flight -= 1

    def _window_for(self, method: str, url: str) -> Window:
        """APIs count their limits per endpoint (bol: per endpoint group), so each gets its own window.

        An endpoint is the method and the path with its ids folded: GET /retailer/orders/{id}.
        """
        target = httpx.URL(url)
        host = target.host or self.client.base_url.host
        key = f"{method.upper()} {host}{ID_SEGMENT.sub('/{id}', target.path)}"
        with self._lock:
            return self._windows.setdefault(key, Window())

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.policy.max_delay, self.policy.base_delay * 2**attempt)
        return self.clock.jitter(ceiling / 2, ceiling)  # "equal jitter": never zero, never in lockstep

    def wait(self, seconds: float, reason: str) -> None:
        if seconds > self.policy.max_wait:
            raise RateLimited(f"{self.system} asks to wait {seconds:.0f}s", retry_after=seconds)
        if seconds > 0:
            logger.debug("waiting before next call", system=self.system, seconds=round(seconds, 3), reason=reason)
            self.clock.sleep(seconds)

    def pace(self, response: httpx.Response, window: Window) -> None:
        """Mirror the server's rate-limit window from the `X-RateLimit-*` headers.

        koppel keeps its own count of the calls left in the window: what the last answer reported,
        less the requests sent since. A request goes out only while that count is above zero, so
        side-by-side requests cannot overrun the window between two answers. `X-RateLimit-Reset` is
        whole seconds, so a window that opened 0.7 s ago still says "1": the window is taken to
        end at the moment its first call was answered (never earlier than the server's count
        began) plus its length, rather than a whole second from now.
        """
        remaining = response.headers.get("X-RateLimit-Remaining")
        reset = response.headers.get("X-RateLimit-Reset")
        if remaining is None or reset is None:
            return
        try:
            left, seconds = int(remaining.strip()), float(reset)
            limit = int(response.headers.get("X-RateLimit-Limit", "-1").strip())
        except ValueError:
            return
        if seconds > EPOCH_MS_THRESHOLD:  # some APIs send the reset moment as unix milliseconds
            seconds = max(0.0, seconds / 1000 - time.time())
        elif seconds > EPOCH_THRESHOLD:  # or as unix seconds, not a delay
            seconds = max(0.0, seconds - time.time())
        if seconds > self.policy.max_wait:
            return  # a reset koppel could not honour anyway: leave it to the server to refuse
        now = self.clock.now()
        with self._lock:
            unsent_view = left - window.in_flight  # what is left once the requests on their way land
            # The first call of a new window; an older answer of the window that arrives after a newer
            # one (Remaining 14 after 13) must not raise the count again.
            if left == limit - 1 and (window.left is None or now >= window.ends):
                window.ends = now + seconds
                window.left = unsent_view
            else:
                if window.ends <= now:
                    window.ends = now + seconds
                # Answers can arrive out of order; the lowest count is the true one.
                window.left = unsent_view if window.left is None else min(window.left, unsent_view)

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        attempt = 0
        while True:
            self.calls += 1
            window = self._window_for(method, url)
            try:
                with self._sending(window):
                    response = self.client.request(method, url, **kwargs)  # type: ignore[arg-type]
            except httpx.TransportError as exc:
                attempt += 1
                if attempt >= self.policy.max_attempts:
                    raise TransientConnectorError(f"{self.system} unreachable: {type(exc).__name__}") from exc
                self.wait(self.backoff(attempt), type(exc).__name__)
                continue
            self.pace(response, window)
            if response.status_code == 429:
                self.throttled += 1
                spent = self.quota_spent(response) if self.quota_spent is not None else None
                if spent is not None:
                    raise spent
                attempt += 1
                delay = retry_after_seconds(response.headers.get("Retry-After"))
                if attempt >= self.policy.max_attempts:
                    raise RateLimited(
                        f"{self.system} still rate-limiting after {attempt} tries",
                        retry_after=delay,
                        body=response.text[:300],  # some APIs say in the body which limit it is
                    )
                self.wait(delay if delay is not None else self.backoff(attempt), "429")
                continue
            if response.status_code in RETRYABLE_STATUS:
                attempt += 1
                if attempt >= self.policy.max_attempts:
                    raise TransientConnectorError(
                        f"{self.system} answered {response.status_code} {attempt} times",
                        status_code=response.status_code,
                    )
                self.wait(self.backoff(attempt), str(response.status_code))
                continue
            if response.status_code in (401, 403):
                raise AuthenticationFailed(
                    f"{self.system} refused the credentials ({response.status_code})", status_code=response.status_code
                )
            if response.status_code >= 400:
                raise HttpStatusError(
                    f"{self.system} answered {response.status_code} to {method} {response.request.url.path}",
                    status_code=response.status_code,
                    body=response.text,
                )
            return response
