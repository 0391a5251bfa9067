"""Flow: shipments, track & trace and cancellations, from the backoffice back to the channel (seed 004).

Every 5 minutes, for each order koppel created in the backoffice and not yet shipped (a query on
the status index, never a scan):

- the backoffice cancelled it → the order items are cancelled on the channel;
- the buyer asked the channel to cancel it and nothing has shipped → cancelled in the backoffice,
  then confirmed on the channel; if it already shipped, that is reported, not forced;
- each parcel the backoffice shipped goes to the channel once, with the carrier derived from its
  code (the backoffice's carrier name wins when it fits) and mapped to the channel's transporter;
- completed without a code → "pending" for the link's wait window, then shipped without T&T.

A parcel is marked "sending" by a conditional write before the channel is called, so two runs can
never send it twice. The channel answers asynchronously; a process still pending is followed up on
the next run. A refusal stays visible on the order with the channel's reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from koppel.carriers import detect
from koppel.config import Link
from koppel.connectors.base import (
    ChannelCancellations,
    ChannelProcess,
    OrderSource,
    Parcel,
    Progress,
    ProgressSource,
    ShipmentChannel,
)
from koppel.errors import ConnectorError, PermanentConnectorError, RateLimited, TransientConnectorError
from koppel.models import CancelReason, Order, OrderStatus, ProcessState
from koppel.observability import logger
from koppel.ports.orders import OrderLinks, OrderRecord, OrderState, ParcelState


@dataclass
class TrackingReport:
    shipped: list[str] = field(default_factory=list)  # "order:parcel" sent and accepted
    pending: list[str] = field(default_factory=list)  # accepted by the channel, not yet confirmed
    waiting_for_code: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)  # every line shipped
    cancelled: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    reported: dict[str, str] = field(default_factory=dict)  # noticed, left for a person
    without_carrier: dict[str, str] = field(default_factory=dict)  # the code fits several carriers
    retry_later: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        parts = [
            f"{len(self.shipped)} parcel(s) shipped",
            f"{len(self.closed)} order(s) fully shipped",
            f"{len(self.cancelled)} cancelled",
            f"{len(self.waiting_for_code)} waiting for a code",
        ]
        for label, found in (
            ("pending on the channel", self.pending),
            ("sent without a carrier (code fits several)", self.without_carrier),
            ("refused", self.refused),
            ("to check", self.reported),
            ("to retry", self.retry_later),
        ):
            if found:
                parts.append(f"{len(found)} {label}")
        return ", ".join(parts)


@dataclass
class TrackingRun:
    link: Link
    backoffice: ProgressSource
    channel: ShipmentChannel
    source: OrderSource
    orders: OrderLinks
    now: datetime
    cancellations: ChannelCancellations | None = None  # None: the channel takes no cancellations
    out_of_time: Callable[[], bool] = lambda: False
    report: TrackingReport = field(default_factory=TrackingReport)

    def run(self) -> TrackingReport:
        for record in self.orders.in_state(self.link.link_id, OrderState.CREATED):
            if self.out_of_time():
                break
            try:
                self.one(record)
            except RateLimited as exc:
                self.report.retry_later[record.channel_order_id] = exc.message
                break  # the channel wants a pause longer than this run can wait
            except TransientConnectorError as exc:
                self.report.retry_later[record.channel_order_id] = exc.message
            except ConnectorError as exc:
                reason = f"{type(exc).__name__}: {exc.message}"
                self.orders.note(self.link.link_id, record.channel_order_id, reason)
                self.report.reported[record.channel_order_id] = reason
        return self.report

    def one(self, record: OrderRecord) -> None:
        order_id = record.channel_order_id
        progress = self.backoffice.order_progress(record.backoffice_order_id)
        order = self.source.get_order(order_id)
        sent = self.orders.parcels(self.link.link_id, order_id)
        known = {key: state for key, state in sent.items() if not is_buyer_cancellation(key)}
        if progress.cancelled:
            self._cancel_on_channel(order, progress)
            return
        if order.status is OrderStatus.CANCELLED and not (progress.completed or progress.parcels or known):
            # Nothing left the warehouse: the backoffice follows. (Shipped anyway: the shipment is
            # sent and the channel's refusal shown, below.)
            self._cancelled_on_channel(record, order)
            return
        for state in sent.values():
            if is_buyer_cancellation(state.key) and state.status in ("SENDING", "PENDING") and state.process_id:
                process = ChannelProcess(state.process_id, ProcessState.PENDING)  # sent, not yet settled
                self._settle_buyer_cancellation(record, order, state.key, self._cancellations().follow(process))
                return
        requested = order.cancel_requested_lines if self.cancellations is not None else ()
        if requested:
            if progress.parcels or known:
                reason = "the buyer asked to cancel, but it has shipped already; handle it as a return"
                self.orders.note(self.link.link_id, order_id, reason)
                self.report.reported[order_id] = reason
            else:
                self._cancel_for_buyer(record, order, requested)
                return
        for state in known.values():
            if state.status in ("SENDING", "PENDING") and state.process_id:
                process = ChannelProcess(state.process_id, ProcessState.PENDING)  # sent, not yet settled
                self._settle(order, state.key, self.channel.follow(process))
        parcels = [p for parcel in progress.parcels for p in split_by_code(parcel)]
        if not any(parcel.tracking_codes for parcel in parcels) and progress.completed and not known:
            parcels = self._without_code(order)
        for parcel in parcels:
            if parcel.key not in known:
                self._ship(order, parcel)
        self._close_if_done(order)

    # --- shipping -----------------------------------------------------------------------------
    def _ship(self, order: Order, parcel: Parcel) -> None:
        link_id, order_id = self.link.link_id, order.channel_order_id
        if not self.orders.start_parcel(link_id, order_id, parcel.key):
            return  # another run is sending it
        code = parcel.tracking_codes[0] if parcel.tracking_codes else ""
        found = detect(code, hint=parcel.company) if code else None
        carrier = (found.carrier or None) if found else None
        if found is not None and found.ambiguous:
            # Sent with its code and no carrier: a wrong carrier would send the buyer to the wrong site.
            why = f"code {found.tracking_code} fits {', '.join(found.candidates)}; sent without a carrier, not a guess"
            self.orders.note(link_id, order_id, why)
            self.report.without_carrier[order_id] = why
        if self.link.dry_run:
            self.orders.forget_parcel(link_id, order_id, parcel.key)
            self.report.shipped.append(
                f"{order_id}:test mode, would ship with {carrier or 'no carrier'} {code}".strip()
            )
            return
        try:
            process = self.channel.follow(self.channel.ship(order, parcel, carrier))
        except TransientConnectorError:
            self.orders.forget_parcel(link_id, order_id, parcel.key)  # not sent: the next run tries again
            raise
        self._settle(order, parcel.key, process)
        logger.info(
            "parcel sent to channel",
            link_id=link_id,
            order_id=order_id,
            status=process.status,
            carrier=carrier or "",
        )

    def _settle(self, order: Order, key: str, process: ChannelProcess) -> None:
        self._keep(order, key, process, "the shipment")
        label = f"{order.channel_order_id}:{key}"
        if process.status is ProcessState.SUCCESS:
            self.report.shipped.append(label)
        elif process.status is ProcessState.PENDING:
            self.report.pending.append(label)

    def _keep(self, order: Order, key: str, process: ChannelProcess, what: str) -> None:
        """What the channel answered to something koppel sent it (a parcel, a buyer's cancellation),
        kept on the order under `key`: settled, pending, to send again (timed out), or refused."""
        link_id, order_id = self.link.link_id, order.channel_order_id
        if process.status in (ProcessState.SUCCESS, ProcessState.PENDING):
            self.orders.settle_parcel(link_id, order_id, ParcelState(key, process.status.value, process.process_id))
        elif process.status is ProcessState.TIMEOUT:
            # The channel gave up on its side; sending again can help.
            self.orders.forget_parcel(link_id, order_id, key)
            self.report.retry_later[order_id] = f"the channel timed out processing {what}"
        else:
            reason = f"the channel refused {what}: {process.error or 'no reason given'}"
            self.orders.settle_parcel(link_id, order_id, ParcelState(key, "FAILURE", process.process_id, reason))
            self.orders.note(link_id, order_id, reason)
            self.report.refused[order_id] = reason

    def _without_code(self, order: Order) -> list[Parcel]:
        seen = self.orders.completed_seen(self.link.link_id, order.channel_order_id, self.now)
        if self.now - seen < timedelta(hours=self.link.tracking.wait_for_tracking_hours):
            self.report.waiting_for_code.append(order.channel_order_id)
            return []
        return [Parcel(line_ids=tuple(line.line_id for line in order.lines))]

    def _close_if_done(self, order: Order) -> None:
        known = self.orders.parcels(self.link.link_id, order.channel_order_id)
        shipped = {
            line
            for key, state in known.items()
            if state.status == "SUCCESS" and not is_buyer_cancellation(key)
            for line in lines_of(key)
        }
        # What was noticed on the way stays on the shipped order (e.g. a code sent without a carrier).
        noticed = self.report.without_carrier.get(order.channel_order_id, "")
        if {line.line_id for line in order.lines} <= shipped and self.orders.finish(
            self.link.link_id, order.channel_order_id, OrderState.SHIPPED, noticed
        ):
            self.report.closed.append(order.channel_order_id)

    # --- cancellations ------------------------------------------------------------------------
    def _cancel_on_channel(self, order: Order, progress: Progress) -> None:
        reason = progress.cancel_reason or CancelReason.OTHER
        if self.cancellations is None:
            why = "cancelled in the backoffice, but the channel takes no cancellations from koppel; cancel it there"
            self.orders.note(self.link.link_id, order.channel_order_id, why)
            self.report.reported[order.channel_order_id] = why
            return
        if self.link.dry_run:
            self.report.cancelled.append(f"{order.channel_order_id}:test mode, would cancel with {reason}")
            return
        # No lines named: every item still open is cancelled; shipped ones cannot be.
        process = self.cancellations.follow(self.cancellations.cancel(order, (), reason))
        if process.status.accepted:
            if self.orders.finish(
                self.link.link_id,
                order.channel_order_id,
                OrderState.CANCELLED,
                f"cancelled in the backoffice ({progress.cancel_note or reason})",
            ):
                self.report.cancelled.append(order.channel_order_id)
        else:
            reason_text = f"the channel refused the cancellation: {process.error or process.status}"
            self.orders.note(self.link.link_id, order.channel_order_id, reason_text)
            self.report.refused[order.channel_order_id] = reason_text

    def _cancellations(self) -> ChannelCancellations:
        if self.cancellations is None:  # only reached for channels that report buyer requests
            raise PermanentConnectorError("the channel takes no cancellations from koppel")
        return self.cancellations

    def _cancel_for_buyer(self, record: OrderRecord, order: Order, lines: tuple[str, ...]) -> None:
        """Confirmed on the channel first: the backoffice cancels only what the channel has cancelled."""
        if self.link.dry_run:
            self.report.cancelled.append(f"{order.channel_order_id}:test mode, buyer cancellation")
            return
        link_id, order_id = self.link.link_id, order.channel_order_id
        key = BUYER_CANCELLATION + "|".join(sorted(lines))
        if not self.orders.start_parcel(link_id, order_id, key):
            held = self.orders.parcels(link_id, order_id).get(key)
            if held is not None and held.status == "FAILURE":
                self.report.refused[order_id] = held.reason  # still refused; a person decides
            return  # another run is sending it
        channel = self._cancellations()
        try:
            process = channel.follow(channel.cancel(order, lines, CancelReason.BUYER_REQUEST))
        except TransientConnectorError:
            self.orders.forget_parcel(link_id, order_id, key)  # not sent: the next run tries again
            raise
        self._settle_buyer_cancellation(record, order, key, process)

    def _settle_buyer_cancellation(self, record: OrderRecord, order: Order, key: str, process: ChannelProcess) -> None:
        """Only the channel's SUCCESS cancels: a refusal keeps the order open with the reason, a
        pending one is followed on the next run, a timed-out one is sent again."""
        link_id, order_id = self.link.link_id, order.channel_order_id
        self._keep(order, key, process, "the buyer's cancellation")
        if process.status is ProcessState.SUCCESS:
            self.backoffice.cancel_order(record.backoffice_order_id, CancelReason.BUYER_REQUEST)
            if self.orders.finish(link_id, order_id, OrderState.CANCELLED, "cancelled at the buyer's request"):
                self.report.cancelled.append(order_id)
        elif process.status is ProcessState.PENDING:
            self.orders.note(link_id, order_id, "the buyer's cancellation is sent; waiting for the channel to confirm")
            self.report.pending.append(f"{order_id}:buyer cancellation")

    def _cancelled_on_channel(self, record: OrderRecord, order: Order) -> None:
        """Every line cancelled on the channel (by the buyer there, or by the channel): the backoffice follows."""
        if self.link.dry_run:
            self.report.cancelled.append(f"{order.channel_order_id}:test mode, cancelled on the channel")
            return
        self.backoffice.cancel_order(record.backoffice_order_id, CancelReason.OTHER)
        if self.orders.finish(
            self.link.link_id, order.channel_order_id, OrderState.CANCELLED, "cancelled on the channel"
        ):
            self.report.cancelled.append(order.channel_order_id)


def split_by_code(parcel: Parcel) -> list[Parcel]:
    """Several codes on one parcel are several shipments; lines pair with codes when they can."""
    codes = parcel.tracking_codes
    if len(codes) <= 1:
        return [parcel]
    if len(codes) == len(parcel.line_ids):
        return [
            Parcel((line,), (code,), parcel.company, parcel.shipped_at)
            for line, code in zip(parcel.line_ids, codes, strict=True)
        ]
    # Which line went with which code is unknown: all lines go with the first code.
    return [Parcel(parcel.line_ids, (codes[0],), parcel.company, parcel.shipped_at)]


BUYER_CANCELLATION = "buyer-cancellation:"  # key prefix of a buyer's cancellation sent to the channel


def is_buyer_cancellation(key: str) -> bool:
    return key.startswith(BUYER_CANCELLATION)


def lines_of(parcel_key: str) -> list[str]:
    return [line for line in parcel_key.split("#", 1)[0].split("|") if line]
