"""Stock in koppel's own webhook scheme, for every system that signs with it (KORONA, StoreKeeper, a partner).

`{"sku", "on_hand" (or "quantity"), "backorders", "warehouse", "observed_at" or "sequence", "ean"}`,
or `{"levels": [ ... ]}`. A level without its own time counts from the moment the sender signed the
delivery, never from when koppel received it: a late replay must not look newer than it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from koppel.models import WarehouseStock
from koppel.ports.stock import IncomingLevel
from koppel.queue import Envelope
from koppel.webhooks import parse_moment


def stock_levels(envelope: Envelope, payload: dict[str, Any], _items: Callable[[], object]) -> list[IncomingLevel]:
    return [_level(entry, envelope) for entry in payload.get("levels", [payload])]


def _level(entry: dict[str, Any], envelope: Envelope) -> IncomingLevel:
    observed_at = parse_moment(entry.get("observed_at"), naive_is_utc=False) or envelope.sent_at
    if observed_at is None:
        raise ValueError("a level needs observed_at when the delivery carries no signed time")
    on_hand = entry["on_hand"] if "on_hand" in entry else entry["quantity"]
    sequence = entry.get("sequence")
    stock = WarehouseStock(
        sku=str(entry["sku"]),
        warehouse=str(entry.get("warehouse", "")),
        on_hand=int(on_hand),
        backorders=int(entry.get("backorders", entry.get("reserved", 0))),
        observed_at=observed_at,
    )
    # Two levels of one second (signed times are whole seconds) are told apart by arrival.
    return IncomingLevel.of(
        stock,
        None if sequence is None else int(sequence),
        ean=str(entry.get("ean", "")),
        tiebreak=envelope.received_at,
    )
