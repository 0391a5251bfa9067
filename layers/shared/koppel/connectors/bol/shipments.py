"""Shipments and cancellations to bol.com (`ShipmentChannel`, `ChannelCancellations`).

Both are asynchronous at bol: the request is answered 202 with a process status (PENDING);
`ship`, `cancel` and `cancel_items` return that process, `follow` and `wait_for` poll it on the
connector's clock within a budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from koppel.connectors.base import ChannelProcess, Parcel
from koppel.connectors.bol.orders import BolOrderItems
from koppel.connectors.bol.processes import (
    BolProcesses,
    ProcessResult,
    chunks,
    combined,
    from_channel_process,
    process_result,
)
from koppel.connectors.bol.transporters import bol_transporter
from koppel.models import CancelReason, Order, ProcessState
from koppel.observability import logger

MAX_ITEMS_PER_SHIPMENT = 100  # ShipmentRequest.orderItems maxItems
# The reasonCode enum of OrderItemCancellation in retailer.json (v10).
CANCELLATION_REASONS = frozenset(
    {
        "OUT_OF_STOCK",
        "REQUESTED_BY_CUSTOMER",
        "BAD_CONDITION",
        "HIGHER_SHIPCOST",
        "INCORRECT_PRICE",
        "NOT_AVAIL_IN_TIME",
        "NO_BOL_GUARANTEE",
        "ORDERED_TWICE",
        "RETAIN_ITEM",
        "TECH_ISSUE",
        "UNFINDABLE_ITEM",
        "OTHER",
    }
)
# koppel's reasons in bol's codes; any other reason is bol's OTHER.
_REASON_CODES = {CancelReason.BUYER_REQUEST: "REQUESTED_BY_CUSTOMER", CancelReason.OUT_OF_STOCK: "OUT_OF_STOCK"}


def reason_code(reason: CancelReason) -> str:
    """bol's cancellation reasonCode for koppel's reason."""
    return _REASON_CODES.get(reason, "OTHER")


class BolShipments(BolOrderItems, BolProcesses):
    """`ShipmentChannel` (ship, follow) and `ChannelCancellations` (cancel, follow); the buyer's
    cancellation requests come with each order (`BolOrders.get_order`)."""

    def ship(
        self,
        order: Order | str,
        parcel: Parcel,
        carrier: str | None,
        *,
        quantities: Mapping[str, int] | None = None,
    ) -> ProcessResult:
        """Tell bol these order items left with `carrier` (koppel's name, e.g. postnl: bol's TNT,
        for the country the merchant ships from); None or a carrier bol has no code for is OTHER.

        Only the parcel's items are shipped; with none named, every item still open at bol is (bol
        is asked which, not the Order: its lines include items shipped before). `quantities` ships
        fewer units of an item than it has open; an item without one ships all its open units.
        bol takes one code per shipment: the caller splits a parcel with several, the first is
        sent. Without a tracking code, `trackAndTrace` is left out: bol's TransportInstruction
        requires only `transporterCode`, so the shipment goes as "own shipping without T&T" (for
        parcels bol counts that against the retailer's T&T service standard).

        Returns the process bol accepted (normally PENDING); `follow` or `wait_for` tells the
        outcome. More than 100 items go in several requests, returned as one `ProcessResult`.
        """
        order_id = order if isinstance(order, str) else order.channel_order_id
        tracking_code = parcel.tracking_codes[0] if parcel.tracking_codes else ""
        item_ids = parcel.line_ids or self.open_item_ids(order_id)
        transport = {"transporterCode": bol_transporter(carrier, self.settings.ships_from)}
        if tracking_code:
            transport["trackAndTrace"] = tracking_code
        processes = []
        for chunk in chunks(item_ids, MAX_ITEMS_PER_SHIPMENT):
            request = {"orderItems": [_shipped_item(item_id, quantities) for item_id in chunk], "transport": transport}
            process = process_result(self.bol.call("POST", f"{self.bol.retailer}/shipments", body=request))
            logger.info(
                "bol shipment accepted",
                channel_order_id=order_id,
                order_items=len(chunk),
                transporter_code=transport["transporterCode"],
                with_track_and_trace=bool(tracking_code),
                process_status_id=process.process_id,
                process_status=process.status,
            )
            processes.append(process)
        return combined(processes)

    def cancel(self, order: Order | str, line_ids: Sequence[str], reason: CancelReason) -> ProcessResult:
        """Cancel these items (none named: every item still open at bol) as one `ProcessResult`
        standing for bol's process per item. BUYER_REQUEST confirms the buyer's request at bol."""
        order_id = order if isinstance(order, str) else order.channel_order_id
        item_ids = tuple(line_ids) or self.open_item_ids(order_id)
        return combined(list(self.cancel_items(item_ids, reason_code(reason))))

    def cancel_items(self, order_item_ids: Sequence[str], reason_code: str) -> tuple[ProcessResult, ...]:
        """Cancel every open unit of these order items with bol's `reason_code`, one request per item
        (bol's CancellationRequest takes exactly one). REQUESTED_BY_CUSTOMER confirms a buyer's
        request; any other reason is the retailer's own cancellation and counts against its
        service score.

        Returns bol's process for each item, in order (normally PENDING).
        """
        if reason_code not in CANCELLATION_REASONS:
            # A reason bol does not know is koppel's mistake; bol would refuse it with a 400.
            raise ValueError(f"{reason_code!r} is not a bol cancellation reason code")
        processes = []
        for item_id in order_item_ids:
            request = {"orderItems": [{"orderItemId": item_id, "reasonCode": reason_code}]}
            process = process_result(self.bol.call("PUT", f"{self.bol.retailer}/orders/cancellation", body=request))
            logger.info(
                "bol cancellation accepted",
                order_item_id=item_id,
                reason_code=reason_code,
                process_status_id=process.process_id,
                process_status=process.status,
            )
            processes.append(process)
        return tuple(processes)

    def follow(self, process: ChannelProcess) -> ProcessResult:
        """Poll every bol process the given one stands for until none is PENDING, within the
        connector's budget (one budget for all of them, one bulk status request per round)."""
        return self.follow_all([process])[0]

    def follow_all(self, processes: Sequence[ChannelProcess]) -> list[ProcessResult]:
        """`follow` for several shipments or cancellations at once: one budget, and each round one
        bulk status request for all their bol processes still PENDING; one result each, in order."""
        results = [from_channel_process(process) for process in processes]
        started: dict[tuple[int, str], ProcessResult] = {}
        for index, result in enumerate(results):
            if result.status == ProcessState.PENDING:
                unknown = replace(result, error="")
                started.update({(index, pid): replace(unknown, process_id=pid) for pid in result.process_ids})
        if not started:
            return results
        settled = self.settle(started, self.clock.now() + max(0.0, self.process_wait_seconds))
        for index, result in enumerate(results):
            parts = [settled[(index, pid)] for pid in result.process_ids if (index, pid) in settled]
            if parts:
                results[index] = combined(parts)
        return results


def _shipped_item(item_id: str, quantities: Mapping[str, int] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"orderItemId": item_id}
    if quantities and item_id in quantities:
        if quantities[item_id] <= 0:
            raise ValueError(f"order item {item_id}: ship at least one unit, not {quantities[item_id]}")
        entry["quantity"] = quantities[item_id]
    return entry
