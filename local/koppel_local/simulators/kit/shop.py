"""What a simulated shop adds to `WsgiSimulator`, as mixins a shop's app lists before it:

- `ShopClock`: the shop's clock in whole UTC seconds, frozen until a test moves it;
- `ClaimedViolations`: the violations a test claims by reading them;
- `PlannedFaults`: the next requests answered with a fault, and the calls made per group;
- `ShopThrottle`: a proxy's rate limit in front of the shop, and its faults, in the shop's own words.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from koppel_local.simulators.kit.faults import Fault, FaultPlan
from koppel_local.simulators.kit.limits import FixedWindows, RateLimit
from koppel_local.simulators.kit.log import RequestLog
from koppel_local.simulators.kit.strict import ViolationLog

STARTED = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)  # where a shop's clock stands unless a test says otherwise


class ShopClock:
    """The shop's clock: every change happens at `moment` until a test freezes it elsewhere or advances it."""

    _now: datetime
    _lock: threading.RLock  # the app's, from `setup_kit`

    def start_clock(self, now: datetime | None) -> None:
        self._now = (now or STARTED).astimezone(UTC).replace(microsecond=0)

    def freeze(self, moment: datetime) -> None:
        """Every change from now on happens at `moment` (whole seconds, UTC), until `advance`."""
        with self._lock:
            self._now = moment.astimezone(UTC).replace(microsecond=0)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now = (self._now + timedelta(seconds=seconds)).replace(microsecond=0)

    @property
    def moment(self) -> datetime:
        """The shop's clock: when the next change happens."""
        return self._now


class ClaimedViolations:
    """The violations the kit recorded, claimed by reading them."""

    request_violations_log: ViolationLog[Any]
    answer_violations_log: ViolationLog[Any]

    @property
    def violations(self) -> list[Any]:
        """Requests the system would refuse (answered 400); reading them claims them."""
        return self.request_violations_log.read()

    @property
    def response_violations(self) -> list[Any]:
        return self.answer_violations_log.read()


class PlannedFaults:
    """Faults a test plans, and the calls it reads back."""

    faults: FaultPlan
    request_log: RequestLog

    def fail_next(self, times: int, status: int = 500, *, group: str | None = None, after_execution: bool = False):
        """The next `times` requests (of `group`) answered `status`; `after_execution`: carried out, answer lost."""
        return self.faults.add(times, status, target=group, after_execution=after_execution)

    def calls(self, group: str) -> list[Any]:
        return self.request_log.of(group)


class ShopThrottle:
    """A shop's own software has no rate limit; `limit_per_second` imitates a proxy in front, answering 429
    with `Retry-After`. A planned 429 counts as throttled too; a planned 5xx is the proxy's HTML page, any
    other planned status the shop's own error. The shop says both in its words: `too_many` and `shop_error`."""

    _clock: Callable[[], float]

    def setup_throttle(self, limit_per_second: int | None) -> None:
        self.limit = RateLimit(limit_per_second) if limit_per_second else None
        self.windows = FixedWindows()
        self.throttled = 0

    def too_many(self, headers: Mapping[str, str]) -> Response:
        raise NotImplementedError

    def shop_error(self, status: int, words: str) -> Response:
        raise NotImplementedError

    def admit(self, request: Request, group: str) -> tuple[Response | None, Mapping[str, str]]:
        if self.limit is None:
            return None, {}
        admission = self.windows.admit("all", self.limit, self._clock())
        if admission.admitted:
            return None, {}
        self.throttled += 1
        return self.too_many({"Retry-After": str(admission.reset_seconds)}), {}

    def fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.status == 429:
            self.throttled += 1
            return self.too_many({"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {})
        if fault.status >= 500:
            return Response(HTTP_STATUS_CODES.get(fault.status, "Error"), fault.status, content_type="text/html")
        return self.shop_error(fault.status, HTTP_STATUS_CODES.get(fault.status, "Error"))
