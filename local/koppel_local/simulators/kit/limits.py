"""Rate limits as the simulated systems apply them: fixed windows, a cost bucket, a daily cap and a
cap on writes in flight at once."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RateLimit:
    """At most `calls` requests per `window_seconds`."""

    calls: int
    window_seconds: float = 1.0


@dataclass(frozen=True)
class Admission:
    admitted: bool
    limit: int
    remaining: int
    reset_seconds: int  # whole seconds until the window opens again (at least 1)


@dataclass
class _Window:
    started: float
    used: int = 0


@dataclass
class FixedWindows:
    """One fixed window per key (an endpoint group), each under its own `RateLimit`."""

    windows: dict[str, _Window] = field(default_factory=dict)

    def admit(self, key: str, limit: RateLimit, now: float) -> Admission:
        window = self.windows.setdefault(key, _Window(started=now))
        if now >= window.started + limit.window_seconds:
            window.started, window.used = now, 0
        reset = max(1, math.ceil(round(window.started + limit.window_seconds - now, 6)))  # no 2 of 1.0000000000000004
        admitted = window.used < limit.calls
        if admitted:
            window.used += 1
        return Admission(admitted, limit.calls, limit.calls - window.used, reset)


@dataclass
class LeakyBucket:
    """A bucket of cost points that refills at `restore_rate` per second up to `maximum` (Shopify's)."""

    maximum: float
    restore_rate: float
    available: float
    updated_at: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated_at)
        self.available = min(self.maximum, self.available + elapsed * self.restore_rate)
        self.updated_at = now

    def try_take(self, cost: float, now: float) -> bool:
        """Pay `cost` if the bucket holds it (a float refill must not refuse a client that waited)."""
        self.refill(now)
        if cost > self.available + 1e-9:
            return False
        self.available -= cost
        return True

    def give_back(self, points: float) -> None:
        self.available = min(self.maximum, self.available + max(0.0, points))

    def seconds_until(self, cost: float) -> float:
        return max(0.0, (cost - self.available) / self.restore_rate) if self.restore_rate else math.inf

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": round(self.available, 3),
            "restoreRate": self.restore_rate,
        }


@dataclass
class DailyCap:
    """At most `limit` requests per day (days counted from the epoch of the clock given)."""

    limit: int
    day_seconds: float = 86_400.0
    _day: int = -1
    used: int = 0

    def admit(self, now: float) -> bool:
        day = int(now // self.day_seconds)
        if day != self._day:
            self._day, self.used = day, 0
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def seconds_to_reset(self, now: float) -> float:
        return self.day_seconds - now % self.day_seconds


class ParallelWriteCap:
    """At most `limit` writes in flight at once; one more is refused (as KORONA and SnelStart do)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self.peak = 0
        self.refused = 0
        self._lock = threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[bool]:
        """`with cap.slot() as admitted:` - False when the cap is full (the caller answers 429)."""
        with self._lock:
            admitted = self.in_flight < self.limit
            if admitted:
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
            else:
                self.refused += 1
        try:
            yield admitted
        finally:
            if admitted:
                with self._lock:
                    self.in_flight -= 1
