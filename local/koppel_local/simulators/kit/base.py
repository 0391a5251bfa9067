"""The base every simulator builds on: a plain WSGI app (werkzeug, no framework) with routing,
latency, faults, rate limits, authentication, a request log, and the published contract checked
on every request and every answer.

Tests mount a simulator in-process with `httpx.WSGITransport(app=sim)`; the local demo serves it
on 127.0.0.1 with `sim.serve()`. A request off the contract is answered as the system would
refuse it (`refuse`, 400 by default) and recorded in a `ViolationLog`; an answer of the simulator's
own that is off the contract is recorded too. Either fails the test unless the test claims it
(see `kit.strict`).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from koppel_local.simulators.kit.contract import Answer, Call, Contract, ContractViolation, Violation
from koppel_local.simulators.kit.faults import Fault, FaultPlan
from koppel_local.simulators.kit.log import RequestLog
from koppel_local.simulators.kit.strict import ViolationLog

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    group: str  # the endpoint group: what rate limits, faults and the request log are kept by
    handler: str  # the simulator's method that answers, called with the pattern's named groups
    public: bool = False  # answered without authentication (a token endpoint)


def route(method: str, pattern: str, group: str, handler: str, *, public: bool = False) -> Route:
    return Route(method, re.compile(pattern), group, handler, public)


@dataclass(frozen=True)
class RecordedViolation:
    method: str
    path: str
    name: str
    reason: str
    location: str  # `source#pointer`: where the published document states the rule


class WsgiSimulator:
    """Subclass, set `routes`, call `setup_kit()` in `__init__`, and override the hooks that differ."""

    system = "simulator"  # names the simulator in violations and the strictness report
    routes: tuple[Route, ...] = ()
    untargeted_fault_skip: tuple[str, ...] = ()  # groups an untargeted fault leaves alone

    def setup_kit(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        latency_seconds: float = 0.0,
        dated: Callable[[], datetime] | None = None,
    ) -> None:
        """`dated`: the system's wall clock, sent as every answer's HTTP `Date` (None: no `Date`)."""
        self._clock = clock
        self._dated = dated
        self._sleep = sleep
        self.latency_seconds = latency_seconds
        self._lock = threading.RLock()
        self.request_log = RequestLog()
        self.faults = FaultPlan(untargeted_skip=self.untargeted_fault_skip)
        self.request_violations_log: ViolationLog[Any] = ViolationLog(f"{self.system} (requests)")
        self.answer_violations_log: ViolationLog[Any] = ViolationLog(f"{self.system} (its own answers)")

    # --- hooks ----------------------------------------------------------------------------------
    def latency_for(self, request: Request) -> float:
        """Seconds to wait before answering (outside the lock, so parallel requests overlap)."""
        return self.latency_seconds

    def contract_for(self, request: Request) -> tuple[Contract | None, str]:
        """The contract that covers the request, and its path as that contract spells it."""
        return None, request.path

    def authenticate(self, request: Request) -> Response | None:
        """None when the request may pass; otherwise the system's own refusal."""
        return None

    def admit(self, request: Request, group: str) -> tuple[Response | None, Mapping[str, str]]:
        """A rate-limit refusal or None, and headers to add to whatever is answered."""
        return None, {}

    def fault_targets(self, request: Request, group: str) -> Iterable[str]:
        return (group,)

    def fault_response(self, fault: Fault, request: Request) -> Response:
        return json_response(fault.status, {"error": HTTP_STATUS_CODES.get(fault.status, "Error")})

    def refuse(self, request: Request, error: ContractViolation) -> Response:
        """How the system refuses a request off its contract."""
        body = {"errors": [{"name": v.name, "reason": v.reason} for v in error.violations]}
        return json_response(400, body)

    def not_served(self, request: Request) -> Response:
        return json_response(501, {"error": f"the simulator does not serve {request.method} {request.path}"})

    def answer_is_checked(self, request: Request, response: Response) -> bool:
        """Which of its own answers the simulator checks against the contract: its successes."""
        return 200 <= response.status_code < 300

    def record_violation(
        self, request: Request, error: ContractViolation, violation: Violation, *, answer: bool
    ) -> None:
        recorded = RecordedViolation(
            request.method, request.path, violation.name, violation.reason, f"{error.source}#{violation.location}"
        )
        (self.answer_violations_log if answer else self.request_violations_log).record(recorded)

    # --- WSGI -----------------------------------------------------------------------------------
    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        latency = self.latency_for(request)
        if latency > 0:
            self._sleep(latency)
        with self._lock:
            found, params = self.match(request)
            group = found.group if found else "unknown"
            response = self.answer(request, found, params, group)
            if self._dated is not None:
                response.headers["Date"] = format_datetime(self._dated().astimezone(UTC), usegmt=True)
            self.request_log.record(request, group, response.status_code)
        return response(environ, start_response)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
        """A threaded HTTP server for this app; call `serve_forever()` on it (port 0: any free port)."""
        return make_server(host, port, self, threaded=True)

    def match(self, request: Request) -> tuple[Route | None, dict[str, str]]:
        for candidate in self.routes:
            matched = candidate.pattern.fullmatch(request.path)
            if matched is not None and request.method == candidate.method:
                return candidate, matched.groupdict()
        return None, {}

    def answer(self, request: Request, found: Route | None, params: dict[str, str], group: str) -> Response:
        """Fault, rate limit, authentication, contract, handler, contract again, in that order."""
        fault = self.take_fault(request, group)
        if fault is not None and not fault.after_execution:
            return self.fault_response(fault, request)
        refused, headers = self.admit(request, group)
        response = refused or self.checked_answer(request, found, params)
        response.headers.update(headers)
        if fault is not None:
            return self.fault_response(fault, request)  # the change is made; only its answer is lost
        return response

    def take_fault(self, request: Request, group: str) -> Fault | None:
        fault = self.faults.take(self.fault_targets(request, group))
        if fault is not None and fault.delay_seconds > 0:
            self._sleep(fault.delay_seconds)
        return fault

    def checked_answer(self, request: Request, found: Route | None, params: dict[str, str]) -> Response:
        if found is not None and found.public:
            return getattr(self, found.handler)(request, **params)
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        contract, path = self.contract_for(request)
        call = Call.from_request(request, path)
        if contract is not None:
            try:
                contract.check_request(call)
            except ContractViolation as error:
                for violation in error.violations:
                    self.record_violation(request, error, violation, answer=False)
                return self.refuse(request, error)
        if found is None:
            return self.not_served(request)
        response: Response = getattr(self, found.handler)(request, **params)
        if contract is not None and self.answer_is_checked(request, response):
            try:
                contract.check_response(call, Answer.from_response(response))
            except ContractViolation as error:
                for violation in error.violations:
                    self.record_violation(request, error, violation, answer=True)
        return response


def json_response(status: int, body: Mapping[str, Any], *, content_type: str = "application/json") -> Response:
    return Response(json.dumps(body, default=str), status, content_type=content_type)
