"""bol.com's offers export: every offer of the account, to find which offer is which SKU.

bol v10 finds an offer by its id only; the offers export (a CSV, itself an asynchronous process
that takes bol minutes and is rate limited) is read once per connector to map SKUs and EANs to
offer ids. An export still running when the connector's budget is spent is picked up again by the
next call instead of being requested anew.
"""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote

from koppel.connectors.bol.processes import BolProcesses, ProcessResult, process_result
from koppel.errors import PermanentConnectorError, TransientConnectorError
from koppel.models import ProcessState
from koppel.observability import logger


@dataclass(frozen=True)
class ExportedOffer:
    """One row of bol's offers export: what koppel needs to find an offer and check its stock."""

    offer_id: str
    ean: str
    reference: str = ""  # the retailer's own reference, koppel's SKU when the merchant set one
    condition: str = ""  # NEW, AS_NEW, GOOD, ...
    fulfilment_type: str = ""  # FBR or FBB
    stock_amount: int | None = None  # not always current at bol: the export is a snapshot
    price: Decimal | None = None  # bundlePricesPrice, incl. VAT


@dataclass
class OfferExport:
    """The export a connector read (or is waiting for)."""

    offers: tuple[ExportedOffer, ...] | None = None
    process: ProcessResult | None = None  # requested, not finished when last looked at
    lock: threading.Lock = field(default_factory=threading.Lock)


class BolOfferExport(BolProcesses):
    export: OfferExport  # set by the connector

    def offer_export(self) -> tuple[ExportedOffer, ...]:
        """Every offer of the account as bol's offers export lists it, read once per connector."""
        with self.export.lock:
            if self.export.offers is None:
                self.export.offers = self._read_offer_export()
            return self.export.offers

    def _read_offer_export(self) -> tuple[ExportedOffer, ...]:
        process = self.export.process
        if process is None:
            process = process_result(
                self.bol.call("POST", f"{self.bol.retailer}/offers/export", body={"format": "CSV"})
            )
            logger.info("bol offer export requested", process_status_id=process.process_id)
            self.export.process = process
        if not process.finished:
            deadline = self.clock.now() + max(0.0, self.export_wait_seconds)
            process = self._poll(process.process_id, deadline, self.export_poll_seconds)
        if process.status == ProcessState.PENDING:
            raise TransientConnectorError(
                "bol has not finished the offer export yet", process_status_id=process.process_id
            )
        self.export.process = None  # finished either way: a new attempt asks for a new export
        if process.status == ProcessState.TIMEOUT:
            raise TransientConnectorError("bol timed out making the offer export", process_status_id=process.process_id)
        if process.status == ProcessState.FAILURE:
            raise PermanentConnectorError(
                f"bol could not make the offer export: {process.error}", process_status_id=process.process_id
            )
        if not process.entity_id:
            raise PermanentConnectorError(
                "bol offer export finished without a report id", process_status_id=process.process_id
            )
        offers = parse_offer_export(
            self.bol.csv(f"{self.bol.retailer}/offers/export/{quote(process.entity_id, safe='')}")
        )
        logger.info("bol offer export read", offers=len(offers))
        return offers


# Column names of bol's offers export; bol's v10 demo names the reference column `referenceCode`,
# its offer model says `reference`: either is read.
_REFERENCE_COLUMNS = ("referenceCode", "reference")


def parse_offer_export(text: str) -> tuple[ExportedOffer, ...]:
    """bol's offers export CSV, one `ExportedOffer` per row; columns are found by name."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = set(reader.fieldnames or ())
    missing = {"offerId", "ean"} - columns
    if missing:
        raise PermanentConnectorError("bol offer export lacks columns", missing=",".join(sorted(missing)))
    reference_column = next((name for name in _REFERENCE_COLUMNS if name in columns), "")
    offers = []
    for row in reader:
        offer_id = (row.get("offerId") or "").strip()
        if not offer_id:
            continue
        offers.append(
            ExportedOffer(
                offer_id=offer_id,
                ean=(row.get("ean") or "").strip(),
                reference=(row.get(reference_column) or "").strip() if reference_column else "",
                condition=(row.get("conditionName") or "").strip(),
                fulfilment_type=(row.get("fulfilmentType") or "").strip(),
                stock_amount=_optional_int(row.get("stockAmount")),
                price=_optional_decimal(row.get("bundlePricesPrice")),
            )
        )
    return tuple(offers)


def match_offers(offers: Sequence[ExportedOffer], skus: Sequence[tuple[str, str]]) -> dict[str, str]:
    """(sku, ean) → offer id: the offer whose reference is the SKU, else the one with the EAN.

    Several offers can share an EAN (new and second-hand, FBR and FBB): a retailer-fulfilled new
    one is preferred; if that still leaves several, the SKU is left out rather than guessed.
    """
    by_reference: dict[str, list[ExportedOffer]] = {}
    by_ean: dict[str, list[ExportedOffer]] = {}
    for offer in offers:
        if offer.reference:
            by_reference.setdefault(offer.reference, []).append(offer)
        if offer.ean:
            by_ean.setdefault(offer.ean, []).append(offer)
    found: dict[str, str] = {}
    for sku, ean in skus:
        if not sku:
            continue
        candidates = by_reference.get(sku) or (by_ean.get(ean, []) if ean else [])
        chosen = _preferred_offer(candidates)
        if chosen is not None:
            found[sku] = chosen.offer_id
        elif candidates:
            logger.warning("several bol offers match one SKU; none chosen", sku=sku, offers=len(candidates))
    return found


def _preferred_offer(candidates: Sequence[ExportedOffer]) -> ExportedOffer | None:
    for keep in (lambda offer: offer.fulfilment_type != "FBB", lambda offer: offer.condition in ("", "NEW")):
        narrowed = [offer for offer in candidates if keep(offer)]
        candidates = narrowed or candidates
        if len(candidates) == 1:
            return candidates[0]
    return None


def _optional_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _optional_decimal(value: str | None) -> Decimal | None:
    try:
        return Decimal(value) if value not in (None, "") else None
    except ArithmeticError:  # decimal.InvalidOperation
        return None
