"""One interface for every published contract a simulator checks: OpenAPI, Swagger, GraphQL, XML.

A contract answers two questions about an exchange: is this request one the real system would
take, and is this answer one it could give. Each problem is a `Violation` that names where in the
published document the rule lives; `check_request` / `check_response` raise them together as a
`ContractViolation`, so nothing depends on a caller remembering to look at a list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from werkzeug.datastructures import Headers, MultiDict
from werkzeug.wrappers import Request, Response


@dataclass(frozen=True)
class Violation:
    """One reason an exchange is off the contract.

    `name` is what was wrong in the exchange (a parameter, a header, `body.orderItems[0]`);
    `location` is the rule's place in the published document (a JSON pointer, a schema coordinate).
    """

    name: str
    reason: str
    location: str = ""


class ContractViolation(Exception):
    """An exchange the published contract does not allow; `str()` names each rule's spec location."""

    def __init__(self, source: str, violations: Sequence[Violation], *, details: Sequence[Any] = ()) -> None:
        self.source = source
        self.violations = tuple(violations)
        # What the system itself would answer with, where it has its own error shape (GraphQL errors).
        self.details = tuple(details)
        super().__init__("; ".join(self.describe(violation) for violation in self.violations))

    def describe(self, violation: Violation) -> str:
        return f"{self.source}#{violation.location}: {violation.name}: {violation.reason}"


class ReferenceMissing(Exception):
    """The published document a contract is built from is not on this machine."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts
        super().__init__(f"reference file {'/'.join(parts)} is not present (set KOPPEL_REFERENCE_DIR to point at it)")


@dataclass(frozen=True)
class Call:
    """A request as a contract sees it; `path` is relative to the contract's own base path."""

    method: str
    path: str
    query: MultiDict[str, str] = field(default_factory=MultiDict)
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @classmethod
    def from_request(cls, request: Request, path: str | None = None) -> Call:
        return cls(request.method, path or request.path, request.args, request.headers, request.get_data())


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str = ""
    body: bytes = b""

    @classmethod
    def from_response(cls, response: Response) -> Answer:
        return cls(response.status_code, response.content_type or "", response.get_data())


class Contract(Protocol):
    source: str  # the reference file, as `system/file` (named in every violation)

    def request_violations(self, call: Call) -> list[Violation]: ...

    def response_violations(self, call: Call, answer: Answer) -> list[Violation]: ...

    def check_request(self, call: Call) -> None: ...

    def check_response(self, call: Call, answer: Answer) -> None: ...


class CheckingContract:
    """The raising half of `Contract`, for checkers that find violations as lists."""

    source: str

    def request_violations(self, call: Call) -> list[Violation]:
        raise NotImplementedError

    def response_violations(self, call: Call, answer: Answer) -> list[Violation]:
        raise NotImplementedError

    def check_request(self, call: Call) -> None:
        found = self.request_violations(call)
        if found:
            raise ContractViolation(self.source, found)

    def check_response(self, call: Call, answer: Answer) -> None:
        found = self.response_violations(call, answer)
        if found:
            raise ContractViolation(self.source, found)


def escape(segment: str) -> str:
    """A JSON-pointer segment (RFC 6901)."""
    return segment.replace("~", "~0").replace("/", "~1")


def media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()
