"""Injected faults: a status instead of the answer, a delay, or the change committed and the answer lost."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class Fault:
    """`remaining` answers of `target` (an endpoint group or an operation; None: any) replaced by `status`.

    `after_execution`: the request is carried out first and only its answer is lost, as when a
    gateway times out after the backend committed: the client cannot tell whether it happened.
    """

    status: int
    remaining: int = 1
    target: str | None = None
    after_execution: bool = False
    retry_after: int | None = None
    delay_seconds: float = 0.0


class FaultPlan:
    """The faults still to come, taken in the order they were planned."""

    def __init__(self, *, untargeted_skip: Iterable[str] = ()) -> None:
        # Targets an untargeted fault leaves alone (bol's token endpoint: "any API request").
        self.untargeted_skip = frozenset(untargeted_skip)
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        times: int = 1,
        status: int = 500,
        *,
        target: str | None = None,
        after_execution: bool = False,
        retry_after: int | None = None,
        delay_seconds: float = 0.0,
    ) -> Fault:
        fault = Fault(status, times, target, after_execution, retry_after, delay_seconds)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, targets: str | Iterable[str]) -> Fault | None:
        """The first planned fault that applies to a request known by `targets`, one use of it spent."""
        names = {targets} if isinstance(targets, str) else set(targets)
        with self._lock:
            for fault in self._faults:
                if fault.remaining <= 0:
                    continue
                applies = fault.target in names if fault.target is not None else not names & self.untargeted_skip
                if applies:
                    fault.remaining -= 1
                    return fault
            self._faults = [fault for fault in self._faults if fault.remaining > 0]
        return None

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(fault.remaining for fault in self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
