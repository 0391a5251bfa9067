"""Shoprenter's 3 requests per second per shop, kept on koppel's side.

Shoprenter answers a fourth request within a second with 429 (development/api/01_constraints_requirements.md:
3 requests per application, shop and second). Every connector object of one shop in a process takes
its turns from one `ShopLimiter`, keyed by the shop's name (and the clock, so tests on a fake clock
keep to themselves): each request waits until fewer than `calls` requests went out in the last
`window` seconds, plus a small margin for the time a request takes to arrive. That is stricter than
a token bucket (whose full bucket would let a burst of 3 follow 3 just sent): in no second, wherever
it starts, are more than 3 sent. A 429 that comes anyway (another application of the same shop) is
waited out by `HttpApi` with its `Retry-After`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

CALLS_PER_SECOND = 3
MARGIN_SECONDS = 0.05
EPSILON = 1e-6  # a float clock may land a hair short of the moment it slept to


class ShopLimiter:
    """At most `calls` requests in any `window` seconds, for every thread that shares it."""

    def __init__(
        self,
        calls: int,
        window: float,
        now: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.calls = calls
        self.window = window
        self._now = now
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting for a turn, for tests and logs

    def take(self) -> None:
        """Wait for a turn, then count this request as sent now."""
        while True:
            with self._lock:
                now = self._now()
                while self._sent and now - self._sent[0] >= self.window - EPSILON:
                    self._sent.popleft()
                if len(self._sent) < self.calls:
                    self._sent.append(now)
                    return
                pause = max(self._sent[0] + self.window - now, EPSILON)
            self.waited += pause
            self._sleep(pause)


_LIMITERS: dict[tuple[str, Callable[[], float]], ShopLimiter] = {}
_GUARD = threading.Lock()


def shop_limiter(
    shop: str,
    now: Callable[[], float],
    sleep: Callable[[float], None],
    *,
    calls: int = CALLS_PER_SECOND,
) -> ShopLimiter:
    """The process's limiter for this shop (one per shop and clock)."""
    with _GUARD:
        key = (shop.casefold(), now)
        found = _LIMITERS.get(key)
        if found is None:
            found = _LIMITERS[key] = ShopLimiter(calls, 1.0 + MARGIN_SECONDS, now, sleep)
        return found
