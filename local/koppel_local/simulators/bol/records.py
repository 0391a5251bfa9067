"""What the bol.com simulator keeps and shows tests: its constants, the records of what it was asked
to do, and the order items a test describes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from koppel_local.simulators.kit import LoggedRequest, RateLimit, RecordedViolation, Violation

MEDIA_TYPE = "application/vnd.retailer.v10+json"
RESPONSE_CONTENT_TYPE = f"{MEDIA_TYPE};charset=UTF-8"
CSV_CONTENT_TYPE = "text/csv;charset=UTF-8"  # what bol's v10 demo answers an offers export with
PAGE_SIZE = 50
TOKEN_TTL_SECONDS = 299
PROBLEM_TYPE = "https://api.bol.com/problems"
HOST_ID = "koppel-simulator"
API_PREFIXES = ("/retailer", "/shared")
# The simulator's own credentials, the same on every laptop; they open nothing real.
DEMO_CLIENT_ID = "koppel-sim-client"
DEMO_CLIENT_SECRET = "koppel-sim-secret"  # noqa: S105

# A fixed window per endpoint group, as bol counts.
DEFAULT_RATE_LIMIT = RateLimit(calls=25, window_seconds=1.0)
# A request off the spec: method, path, what was wrong, and the spec location of the rule.
SpecViolation = RecordedViolation

__all__ = ["LoggedRequest", "RateLimit", "SpecViolation", "Violation"]


@dataclass(frozen=True)
class RecordedShipment:
    shipment_id: str
    process_status_id: str
    order_id: str
    order_item_ids: tuple[str, ...]
    transporter_code: str
    track_and_trace: str
    shipment_reference: str
    shipping_label_id: str


@dataclass(frozen=True)
class RecordedCancellation:
    process_status_id: str
    order_id: str
    order_item_id: str
    reason_code: str
    units: int
    requested_by_customer: bool  # the buyer had asked for it (cancellationRequest was true)


@dataclass(frozen=True)
class RecordedStockUpdate:
    process_status_id: str
    offer_id: str
    amount: int
    managed_by_retailer: bool
    applied: bool  # False: the process ended in FAILURE or TIMEOUT and the stock stayed as it was


@dataclass(frozen=True)
class RecordedPriceUpdate:
    process_status_id: str
    offer_id: str
    bundle_prices: tuple[tuple[int, Decimal], ...]  # (quantity, unit price incl. VAT), as sent
    applied: bool  # False: the process ended in FAILURE or TIMEOUT and the price stayed as it was


# The columns of bol's v10 offers export, in bol's order (Retailer API v10 demo endpoints).
OFFER_EXPORT_COLUMNS = (
    "offerId",
    "ean",
    "conditionName",
    "conditionCategory",
    "conditionComment",
    "bundlePricesPrice",
    "fulfilmentDeliveryCode",
    "stockAmount",
    "onHoldByRetailer",
    "fulfilmentType",
    "mutationDateTime",
    "referenceCode",
)


@dataclass
class SimItem:
    """One order item as a test describes it; the simulator renders it as bol's `OrderOrderItem`."""

    ean: str
    title: str
    unit_price: Decimal | str | int
    quantity: int = 1
    offer_reference: str = ""
    quantity_shipped: int = 0
    quantity_cancelled: int = 0
    cancellation_request: bool = False
    fulfilment_method: str = "FBR"
    order_item_id: str = ""
    # (promotion title, amount incl. VAT off the whole item), as bol lists them in `discounts`.
    discounts: tuple[tuple[str, Decimal | str | int], ...] = ()
