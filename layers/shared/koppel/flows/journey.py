"""An order's journey: every step koppel took for one order, across systems, oldest first.

The steps are written where an order changes: `JournalledOrders` stands in front of the order store
(`koppel.ports.orders.OrderLinks`) every order flow writes through, so the import (marketplace and
webshop orders alike), the refunds and the tracking all leave their steps without each flow keeping
a log of its own: received, claimed, waiting and why, mapped and sent, created with the backoffice's
id and number, shipped with the codes, carrier and the channel's process status, cancelled, restocked.
An order retried every five minutes for the same reason writes that reason once, not every run.

Each step goes under the link and the channel's order id (`OrderJourneys`), so reading a journey is
one query; the backoffice's id and number are aliases that lead to the channel's id.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from koppel.carriers import detect
from koppel.connectors.base import BackofficeOrder
from koppel.ports.config import Activity, OrderJourneys
from koppel.ports.orders import Claim, OrderLinks, OrderRecord, OrderState, ParcelState

RETRIED = "tried again at every order run (every 5 minutes) until it goes through"

# What koppel does next after a step that is not the end of the road, by the step's kind.
NEXT: dict[str, str] = {
    "order.needs_attention": RETRIED,
    "order.retry": "tried again at the next order run",
    "order.shipment_pending": "the channel's answer is followed up at the next tracking run (every 5 minutes)",
    "order.shipment_refused": "nothing more is sent for this parcel: correct it on the channel or in the backoffice",
    "shipment.refused": "nothing more is sent for this parcel: correct it on the channel or in the backoffice",
    "shipment.attention": "left for a person: koppel does not force it",
    "refund.waiting": RETRIED,
}

# How a step's kind reads in a journey printed for a person.
LABELS: dict[str, str] = {
    "order.received": "received",
    "order.claimed": "claimed",
    "order.accepted": "accepted",
    "order.needs_attention": "waiting",
    "order.mapped": "mapped",
    "order.created": "created",
    "order.retry": "to retry",
    "order.note": "noted",
    "order.shipped": "shipped",
    "order.shipment_pending": "shipping",
    "order.shipment_refused": "refused",
    "order.closed": "closed",
    "order.cancelled": "cancelled",
    "order.restocked": "restocked",
    "refund.received": "refund",
    "refund.waiting": "refund waits",
    "refund.sent": "refund sent",
    "refund.booked": "restocked",
    "shipment.refused": "refused",
    "shipment.attention": "attention",
}

REMEMBERED = 10_000  # orders whose last reason a container keeps, so a repeat is not written again


def order_of(key: str) -> tuple[str, str]:
    """The channel's order id of a store key, and what the key is of it: `1001`, `1001/refund/55`, `1001/cancel`."""
    order_id, _, rest = key.partition("/")
    return order_id, rest


class JournalledOrders:
    """`OrderLinks` that also writes each order's steps to its journey; everything else passes through."""

    def __init__(self, orders: OrderLinks, journeys: OrderJourneys) -> None:
        self._orders = orders
        self._journeys = journeys
        self._lock = threading.Lock()
        self._known: OrderedDict[tuple[str, str], tuple[OrderState | None, str]] = OrderedDict()
        self._parcels: OrderedDict[tuple[str, str, str], str] = OrderedDict()

    # --- what leaves no step: passed through as it is ------------------------------------------------
    def kept(self, link_id: str, key: str) -> str | None:
        return self._orders.kept(link_id, key)

    def note_booked_back(self, link_id: str, key: str, units: dict[str, int]) -> None:
        self._orders.note_booked_back(link_id, key, units)

    def booked_back(self, link_id: str, prefix: str) -> list[tuple[OrderRecord, dict[str, int]]]:
        return self._orders.booked_back(link_id, prefix)

    def release(self, link_id: str, channel_order_id: str, run_id: str) -> None:
        self._orders.release(link_id, channel_order_id, run_id)

    def start_parcel(self, link_id: str, channel_order_id: str, key: str) -> bool:
        return self._orders.start_parcel(link_id, channel_order_id, key)

    def forget_parcel(self, link_id: str, channel_order_id: str, key: str) -> None:
        self._orders.forget_parcel(link_id, channel_order_id, key)

    def completed_seen(self, link_id: str, channel_order_id: str, at: datetime) -> datetime:
        return self._orders.completed_seen(link_id, channel_order_id, at)

    # --- what was read: the state and reason an order had, so a repeat writes no new step -----------
    def _remember(self, memory: OrderedDict, key: tuple, value: Any) -> None:
        with self._lock:
            memory[key] = value
            memory.move_to_end(key)
            while len(memory) > REMEMBERED:
                memory.popitem(last=False)

    def _seen(self, record: OrderRecord | None, link_id: str, key: str) -> None:
        self._remember(self._known, (link_id, key), (record.state, record.reason) if record else (None, ""))

    def _before(self, link_id: str, key: str) -> tuple[OrderState | None, str] | None:
        with self._lock:
            return self._known.get((link_id, key))

    def get(self, link_id: str, channel_order_id: str) -> OrderRecord | None:
        record = self._orders.get(link_id, channel_order_id)
        self._seen(record, link_id, channel_order_id)
        return record

    def in_state(self, link_id: str, state: OrderState) -> list[OrderRecord]:
        records = self._orders.in_state(link_id, state)
        for record in records:
            self._seen(record, link_id, record.channel_order_id)
        return records

    def parcels(self, link_id: str, channel_order_id: str) -> dict[str, ParcelState]:
        found = self._orders.parcels(link_id, channel_order_id)
        for key, state in found.items():
            self._remember(self._parcels, (link_id, channel_order_id, key), state.status)
        return found

    def _step(self, link_id: str, key: str, kind: str, message: str, **details: Any) -> None:
        order_id, part = order_of(key)
        if part:
            details["booking"] = key
        self._journeys.step(link_id, order_id, kind, message, **details)

    # --- the import -------------------------------------------------------------------------------
    def accept(self, link_id: str, channel_order_id: str) -> bool:
        accepted = self._orders.accept(link_id, channel_order_id)
        if accepted:
            self._step(
                link_id, channel_order_id, "order.accepted", "accepted by a person: booked by the next order run"
            )
        return accepted

    def keep(self, link_id: str, key: str, document: str, version: str) -> bool:
        kept = self._orders.keep(link_id, key, document, version)
        if kept:
            refund = "/refund/" in key
            what = f"refund {key.rsplit('/', 1)[-1]}" if refund else "the order"
            self._step(
                link_id,
                key,
                "refund.received" if refund else "order.received",
                f"{what} delivered by the channel's webhook and kept",
                version=version,
            )
        return kept

    def claim(self, link_id: str, channel_order_id: str, run_id: str, lease_seconds: int) -> Claim | None:
        claim = self._orders.claim(link_id, channel_order_id, run_id, lease_seconds)
        before = self._before(link_id, channel_order_id)
        state = before[0] if before else None
        if claim is None or state is OrderState.NEEDS_ATTENTION or order_of(channel_order_id)[1]:
            return claim  # a waiting order's retry shows in what becomes of it
        if claim.may_exist:
            message = f"taken over by run {run_id} from a run that did not finish; looked up in the backoffice first"
        elif state is OrderState.CLAIMED:
            message = f"taken over by run {run_id} from a run that gave it back"
        else:
            message = f"picked up and claimed by run {run_id}: no other run handles it meanwhile"
        self._step(link_id, channel_order_id, "order.claimed", message, run_id=run_id)
        self._remember(self._known, (link_id, channel_order_id), (OrderState.CLAIMED, ""))
        return claim

    def mark_needs_attention(self, link_id: str, channel_order_id: str, run_id: str, reason: str) -> None:
        self._orders.mark_needs_attention(link_id, channel_order_id, run_id, reason)
        before = self._before(link_id, channel_order_id)
        self._remember(self._known, (link_id, channel_order_id), (OrderState.NEEDS_ATTENTION, reason))
        if before == (OrderState.NEEDS_ATTENTION, reason):
            return  # still waiting for the same reason
        kind = "refund.waiting" if order_of(channel_order_id)[1] else "order.needs_attention"
        self._step(link_id, channel_order_id, kind, reason, run_id=run_id, next=NEXT[kind])

    def mark_create_sent(self, link_id: str, channel_order_id: str, run_id: str) -> None:
        self._orders.mark_create_sent(link_id, channel_order_id, run_id)
        if order_of(channel_order_id)[1]:
            self._step(link_id, channel_order_id, "refund.sent", "units to put back sent to the backoffice")
            return
        self._step(
            link_id,
            channel_order_id,
            "order.mapped",
            "every line mapped to a backoffice product; the order is sent to the backoffice",
            run_id=run_id,
        )

    def mark_created(self, link_id: str, channel_order_id: str, run_id: str, order: BackofficeOrder) -> None:
        self._orders.mark_created(link_id, channel_order_id, run_id, order)
        self._remember(self._known, (link_id, channel_order_id), (OrderState.CREATED, ""))
        shown = f"{order.name} ({order.backoffice_order_id})" if order.name else order.backoffice_order_id
        ids = {"backoffice_order_id": order.backoffice_order_id, "backoffice_name": order.name, "run_id": run_id}
        _, part = order_of(channel_order_id)
        if part:
            kind = "order.restocked" if part == "cancel" else "refund.booked"
            self._step(link_id, channel_order_id, kind, f"units put back to stock, booked as {shown}", **ids)
            return
        self._step(link_id, channel_order_id, "order.created", f"created in the backoffice as {shown}", **ids)
        name = order.name.strip()
        self._journeys.alias(link_id, channel_order_id, order.backoffice_order_id, name, name.lstrip("#"))

    def mark_cancelled(self, link_id: str, channel_order_id: str, run_id: str, reason: str) -> None:
        self._orders.mark_cancelled(link_id, channel_order_id, run_id, reason)
        self._step(link_id, channel_order_id, "order.cancelled", f"{reason}: not imported", run_id=run_id)

    def note(self, link_id: str, channel_order_id: str, reason: str) -> None:
        self._orders.note(link_id, channel_order_id, reason)
        before = self._before(link_id, channel_order_id)
        state = before[0] if before else None
        self._remember(self._known, (link_id, channel_order_id), (state, reason))
        if before is not None and before[1] == reason:
            return
        retry = reason.startswith(("to retry", "may exist in the backoffice"))
        kind = "order.retry" if retry else "order.note"
        self._step(link_id, channel_order_id, kind, reason, **({"next": NEXT[kind]} if retry else {}))

    # --- tracking ---------------------------------------------------------------------------------
    def settle_parcel(self, link_id: str, channel_order_id: str, state: ParcelState) -> None:
        self._orders.settle_parcel(link_id, channel_order_id, state)
        memory = (link_id, channel_order_id, state.key)
        with self._lock:
            known = self._parcels.get(memory)
        self._remember(self._parcels, memory, state.status)
        if known == state.status:
            return
        if state.key.startswith("buyer-cancellation:"):
            kind = "order.cancel_requested"
            message = f"the buyer's cancellation sent to the channel: process {state.status}"
        else:
            kind = {"SUCCESS": "order.shipped", "PENDING": "order.shipment_pending"}.get(
                state.status, "order.shipment_refused"
            )
            message = shipment_text(state)
        details: dict[str, Any] = {"parcel": state.key, "process_status": state.status, "process_id": state.process_id}
        details |= parcel_details(state.key)
        if kind in NEXT:
            details["next"] = NEXT[kind]
        self._step(link_id, channel_order_id, kind, message, **details)

    def finish(self, link_id: str, channel_order_id: str, state: OrderState, reason: str = "") -> bool:
        finished = self._orders.finish(link_id, channel_order_id, state, reason)
        if finished:
            if state is OrderState.SHIPPED:
                kind, message = "order.closed", "every line shipped" + (f" ({reason})" if reason else "")
            else:
                kind, message = f"order.{state.value}", reason or state.value
            self._step(link_id, channel_order_id, kind, message)
        return finished


def parcel_details(key: str) -> dict[str, Any]:
    """The lines and codes a parcel's key names, and the carrier its first code is of."""
    lines, _, codes = key.partition("#")
    found = [code for code in codes.split(",") if code]
    carrier = ""
    if found:
        detected = detect(found[0])
        carrier = (detected.carrier or "") if detected is not None and not detected.ambiguous else ""
    return {"lines": [line for line in lines.split("|") if line], "codes": found, "carrier": carrier}


def shipment_text(state: ParcelState) -> str:
    parts = parcel_details(state.key)
    codes = ", ".join(parts["codes"]) or "no code"
    carrier = f" ({parts['carrier']})" if parts["carrier"] else ""
    if state.status == "SUCCESS":
        return f"shipped with {codes}{carrier}; the channel confirmed it (process {state.status})"
    if state.status == "PENDING":
        return f"shipment with {codes}{carrier} sent; the channel is still processing it"
    return state.reason or f"the channel refused the shipment with {codes}{carrier}"


# --- reading a journey ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Journey:
    link_id: str
    order_id: str  # the channel's
    steps: list[Activity] = field(default_factory=list)

    @property
    def backoffice(self) -> tuple[str, str]:
        """The backoffice's id and number of the order, once it was created there."""
        for step in reversed(self.steps):
            if step.kind == "order.created":
                return str(step.details.get("backoffice_order_id", "")), str(step.details.get("backoffice_name", ""))
        return "", ""

    def as_dict(self) -> dict[str, Any]:
        backoffice_id, name = self.backoffice
        return {
            "link_id": self.link_id,
            "order_id": self.order_id,
            "backoffice_order_id": backoffice_id,
            "backoffice_name": name,
            "steps": [
                {
                    "at": step.at.isoformat(),
                    "kind": step.kind,
                    "message": step.message,
                    "next": next_step(step),
                    "details": step.details,
                }
                for step in self.steps
            ],
        }


def next_step(step: Activity) -> str:
    return str(step.details.get("next") or NEXT.get(step.kind, ""))


def journey(journeys: OrderJourneys, link_id: str, order_id: str) -> Journey:
    """The order's journey by the channel's id, or the backoffice's id or number; one step said twice
    in a row (by a flow and by its run's summary) is shown once."""
    channel_id, found = journeys.journey(link_id, order_id)
    steps: list[Activity] = []
    for step in sorted(found, key=lambda s: s.at):
        if steps and (steps[-1].kind, steps[-1].message) == (step.kind, step.message):
            continue
        steps.append(step)
    return Journey(link_id=link_id, order_id=channel_id, steps=steps)


def text(found: Journey) -> list[str]:
    """The journey as lines for a terminal: time, what happened, and what koppel does next."""
    backoffice_id, name = found.backoffice
    head = f"order {found.order_id} on {found.link_id}"
    if backoffice_id:
        head += f": in the backoffice as {name + ' (' + backoffice_id + ')' if name else backoffice_id}"
    lines = [head]
    width = max((len(LABELS.get(step.kind, step.kind)) for step in found.steps), default=0)
    for step in found.steps:
        lines.append(f"{_when(step.at)}  {LABELS.get(step.kind, step.kind):<{width}}  {step.message}")
        following = next_step(step)
        if following and step is found.steps[-1]:
            lines.append(f"{'':<21}{'':<{width}}  next: {following}")
    return lines


def _when(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M:%S}"
