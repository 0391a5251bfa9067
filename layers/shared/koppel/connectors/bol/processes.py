"""bol's process statuses: how its asynchronous changes (shipments, cancellations, offer updates,
the offers export) are answered, and polled until they settle.

Such a request is answered 202 with a process status (PENDING), and bol's shared API later says
SUCCESS, FAILURE (with bol's errorMessage) or TIMEOUT: for one process at
`GET /shared/process-status/{id}`, for up to 1,000 at once with `POST /shared/process-status`
(a BulkProcessStatusRequest). Several processes are settled in bulk: one request per poll round
for each 1,000 still PENDING.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from koppel.connectors.base import ChannelProcess
from koppel.connectors.bol.client import BolPart
from koppel.connectors.http import HttpStatusError
from koppel.errors import AuthenticationFailed, PermanentConnectorError, TransientConnectorError
from koppel.models import ProcessState
from koppel.observability import logger

# BulkProcessStatusRequest.processStatusQueries maxItems in bol's shared.json ("No more than 1000
# process status id's can be sent in a single request").
MAX_STATUSES_PER_REQUEST = 1000
# From worst to best: what several processes together amount to.
_STATE_RANK = (ProcessState.FAILURE, ProcessState.TIMEOUT, ProcessState.PENDING, ProcessState.SUCCESS)


@dataclass(frozen=True)
class ProcessResult(ChannelProcess):
    """A bol process status: a `ChannelProcess` (id, status, bol's errorMessage as `error`) plus
    what bol says it is about.

    One result can stand for several bol processes (a cancellation of several items is one request
    per item; a shipment of more than 100 items is several): `process_id` then holds their ids
    joined by ',', the status is the worst of them and `error` holds every errorMessage.
    """

    event_type: str = ""  # CREATE_SHIPMENT, CANCEL_ORDER, ...
    entity_id: str = ""  # for shipments and cancellations: the (first) order item id

    @property
    def finished(self) -> bool:
        return self.status is not ProcessState.PENDING

    @property
    def process_ids(self) -> tuple[str, ...]:
        return process_ids(self.process_id)


_Key = TypeVar("_Key", bound=Hashable)


class BolProcesses(BolPart):
    """Reading and polling bol's process statuses, on the connector's clock."""

    def process_status(self, process_id: str) -> ProcessResult:
        """bol's current status of one process. bol forgets finished processes after a while and
        then answers 404: that raises `PermanentConnectorError` (status_code 404), stop polling."""
        body = self.bol.call("GET", f"{self.bol.shared}/process-status/{quote(process_id, safe='')}")
        result = process_result(body)
        return result if result.process_id else replace(result, process_id=process_id)

    def process_statuses(self, process_ids: Sequence[str]) -> dict[str, ProcessResult]:
        """bol's current status of each of these processes, in bulk: one request per 1,000 ids.

        An id bol leaves out of its answer is left out here: bol no longer returns a process it has
        forgotten. A failed request raises, as `process_status` does.
        """
        found: dict[str, ProcessResult] = {}
        for chunk in chunks(list(dict.fromkeys(process_ids)), MAX_STATUSES_PER_REQUEST):
            found.update(self._bulk_status(chunk))
        return found

    def settle(
        self, processes: Mapping[_Key, ProcessResult], deadline: float, *, poll_every: float | None = None
    ) -> dict[_Key, ProcessResult]:
        """Poll the PENDING ones among `processes` in rounds until none is PENDING or `deadline` (on
        the connector's clock) has passed; the last status seen of each, which may still be PENDING.

        Each round asks bol once per 1,000 of the processes still PENDING (`POST
        /shared/process-status`), so the settled ones are not asked again. One left out of bol's
        answer is still PENDING: its outcome is unknown, and it is asked again next round. A
        request that fails leaves its processes as they were (asked again next round if bol could
        not be reached, not again if bol refused it); wrong credentials raise.
        """
        latest = dict(processes)
        interval = self._poll_interval(poll_every)
        keys: dict[str, list[_Key]] = {}
        for key, process in latest.items():
            if not process.finished and process.process_id:
                keys.setdefault(process.process_id, []).append(key)
        refused: set[str] = set()
        while waiting := [pid for pid in keys if pid not in refused and not latest[keys[pid][0]].finished]:
            for chunk in chunks(waiting, MAX_STATUSES_PER_REQUEST):
                try:
                    answered = self._bulk_status(chunk)
                except AuthenticationFailed:
                    raise
                except (TransientConnectorError, HttpStatusError) as exc:
                    logger.warning("bol process statuses not read", processes=len(chunk), reason=exc.message)
                    if isinstance(exc, HttpStatusError):
                        refused.update(chunk)
                    continue
                for process_id, result in answered.items():
                    for key in keys[process_id]:
                        latest[key] = result
            remaining = deadline - self.clock.now()
            if remaining <= 0:
                break
            if all(pid in refused or latest[keys[pid][0]].finished for pid in waiting):
                break
            self.clock.sleep(min(interval, remaining))
        return latest

    def _bulk_status(self, process_ids: Sequence[str]) -> dict[str, ProcessResult]:
        """One BulkProcessStatusRequest (at most 1,000 ids): what bol answers for the ids asked."""
        request = {"processStatusQueries": [{"processStatusId": process_id} for process_id in process_ids]}
        body = self.bol.call("POST", f"{self.bol.shared}/process-status", body=request)
        asked = set(process_ids)
        found: dict[str, ProcessResult] = {}
        for entry in body.get("processStatuses") or []:
            if not isinstance(entry, Mapping):
                continue
            result = process_result(entry)
            if result.process_id in asked:
                found[result.process_id] = result
        return found

    def wait_for(
        self, process_id: str, *, max_wait_seconds: float | None = None, poll_every: float | None = None
    ) -> ProcessResult:
        """Poll until the process is no longer PENDING or `max_wait_seconds` have passed on the
        connector's clock; the last status seen, which may still be PENDING."""
        budget = self.process_wait_seconds if max_wait_seconds is None else max_wait_seconds
        deadline = self.clock.now() + max(0.0, budget)
        return self._poll(process_id, deadline, self._poll_interval(poll_every))

    def _poll(self, process_id: str, deadline: float, interval: float) -> ProcessResult:
        result = self.process_status(process_id)
        while not result.finished:
            remaining = deadline - self.clock.now()
            if remaining <= 0:
                break
            self.clock.sleep(min(interval, remaining))
            result = self.process_status(process_id)
        return result

    def _poll_interval(self, poll_every: float | None) -> float:
        interval = self.process_poll_seconds if poll_every is None else poll_every
        if interval <= 0:
            raise ValueError("poll_every must be more than zero seconds")
        return interval


def process_result(body: Mapping[str, Any]) -> ProcessResult:
    try:
        status = ProcessState(str(body["status"]))
    except (KeyError, ValueError) as exc:
        raise PermanentConnectorError(
            "bol process status has no status koppel knows", status=str(body.get("status", ""))
        ) from exc
    return ProcessResult(
        process_id=_process_id(body),
        status=status,
        error=str(body.get("errorMessage") or ""),
        event_type=str(body.get("eventType") or ""),
        entity_id=str(body.get("entityId") or ""),
    )


def _process_id(body: Mapping[str, Any]) -> str:
    # processStatusId is optional in the spec (older answers said `id`); the self link always
    # ends in the id.
    for key in ("processStatusId", "id"):
        if body.get(key) not in (None, ""):
            return str(body[key])
    for link in body.get("links") or []:
        if isinstance(link, Mapping) and link.get("rel") == "self" and link.get("href"):
            return urlsplit(str(link["href"])).path.rstrip("/").rsplit("/", 1)[-1]
    logger.warning("bol process status without an id", event_type=str(body.get("eventType", "")))
    return ""


def chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def process_ids(joined: str) -> tuple[str, ...]:
    return tuple(part for part in joined.split(",") if part)


def from_channel_process(process: ChannelProcess) -> ProcessResult:
    if isinstance(process, ProcessResult):
        return process
    return ProcessResult(process_id=process.process_id, status=ProcessState(process.status), error=process.error)


def combined(processes: Sequence[ProcessResult]) -> ProcessResult:
    """Several bol processes as one: the worst status, every error, every id."""
    if len(processes) == 1:
        return processes[0]
    if not processes:
        raise ValueError("no bol process to report")
    event_types = {process.event_type for process in processes}
    return ProcessResult(
        process_id=",".join(process.process_id for process in processes),
        status=min((ProcessState(process.status) for process in processes), key=_STATE_RANK.index),
        error="; ".join(process.error for process in processes if process.error),
        event_type=event_types.pop() if len(event_types) == 1 else "",
        entity_id=processes[0].entity_id,
    )
