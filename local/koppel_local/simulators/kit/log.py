"""What a simulator was asked: every request, in order, with the answer's status."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.wrappers import Request


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    group: str
    status: int
    body: str = ""  # as sent, e.g. a shipment request's JSON


class RequestLog(list[LoggedRequest]):
    """A list of `LoggedRequest`, with the requests of one endpoint group at hand."""

    def record(self, request: Request, group: str, status: int) -> LoggedRequest:
        logged = LoggedRequest(
            method=request.method,
            path=request.path,
            query=request.args.to_dict(),
            headers=dict(request.headers.items()),
            group=group,
            status=status,
            body=request.get_data(as_text=True),
        )
        self.append(logged)
        return logged

    def of(self, group: str) -> list[LoggedRequest]:
        return [logged for logged in self if logged.group == group]
