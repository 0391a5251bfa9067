"""Contract violations nobody may forget: each one stays "unclaimed" until a test has looked.

A simulator records every off-contract request or answer in a `ViolationLog`. Reading the log
(`sim.violations`) claims what is in it; the pytest plugin (`kit.pytest_plugin`) fails any test
that ends with an unclaimed violation, naming the spec location. So a test that expects a refusal
asserts on it, and a test that did not expect one fails even if it never mentions violations.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")

_live: weakref.WeakSet[ViolationLog[object]] = weakref.WeakSet()
_live_lock = threading.Lock()


class ViolationLog(Generic[T]):
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self._all: list[T] = []
        self._unclaimed: list[T] = []
        with _live_lock:
            _live.add(self)  # type: ignore[arg-type]

    def record(self, violation: T) -> None:
        self._all.append(violation)
        self._unclaimed.append(violation)

    def read(self) -> list[T]:
        """Every violation so far (the live list), all of them claimed by whoever reads."""
        self._unclaimed.clear()
        return self._all

    def unclaimed(self) -> list[T]:
        return list(self._unclaimed)

    def claim(self) -> None:
        self._unclaimed.clear()

    @contextmanager
    def expected(self) -> Iterator[list[T]]:
        """`with log.expected() as found:` - violations made inside are the point of the test."""
        before = len(self._all)
        found: list[T] = []
        try:
            yield found
        finally:
            found.extend(self._all[before:])
            self._unclaimed = [v for v in self._unclaimed if not any(v is f for f in found)]


def unclaimed_everywhere() -> list[tuple[str, object]]:
    """(owner, violation) for every unclaimed violation of every simulator alive; claims them all."""
    with _live_lock:
        logs = list(_live)
    found: list[tuple[str, object]] = []
    for log in logs:
        found.extend((log.owner, violation) for violation in log.unclaimed())
        log.claim()
    return found
