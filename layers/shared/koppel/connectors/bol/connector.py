"""bol.com Retailer API v10: open orders in; shipments, cancellations, stock and prices out.

`BolConnector` is one retailer account's connector, put together from one part per capability:
- `BolOrders` (orders.py): `OrderSource`, and the translation to koppel's `Order`;
- `BolShipments` (shipments.py): `ShipmentChannel` and `ChannelCancellations`;
- `BolOffers` (offers.py): `StockTarget` and `ProductTarget`, with the offers export (export.py);
each through `BolClient` (client.py: HTTP, bol's media type, the token) and bol's process
statuses (processes.py).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from koppel.config import Account
from koppel.connectors.auth import TOKENS, TokenCache
from koppel.connectors.bol.client import BolClient
from koppel.connectors.bol.export import ExportedOffer, OfferExport, match_offers, parse_offer_export
from koppel.connectors.bol.offers import (
    NOT_CONFIRMED,
    PRICE_NOT_CONFIRMED,
    BolOffers,
    offer_result,
    price_request,
    stock_request,
    stock_result,
)
from koppel.connectors.bol.orders import BolOrders, cancellation_requested_items, to_order
from koppel.connectors.bol.processes import ProcessResult
from koppel.connectors.bol.settings import BolSettings
from koppel.connectors.bol.shipments import CANCELLATION_REASONS, BolShipments
from koppel.connectors.http import Clock, RetryPolicy
from koppel.errors import ConfigurationError

__all__ = [
    "CANCELLATION_REASONS",
    "NOT_CONFIRMED",
    "PRICE_NOT_CONFIRMED",
    "BolConnector",
    "ExportedOffer",
    "ProcessResult",
    "cancellation_requested_items",
    "from_account",
    "match_offers",
    "offer_result",
    "parse_offer_export",
    "price_request",
    "stock_request",
    "stock_result",
    "to_order",
]

# bol usually settles a shipment or cancellation within seconds; longer waits belong to the next run.
PROCESS_WAIT_SECONDS = 10.0
PROCESS_POLL_SECONDS = 2.0
STOCK_WAIT_SECONDS = 20.0  # one wait for a whole batch of offer updates to settle
# The offers export takes bol minutes rather than seconds, and is rate limited: poll it slowly.
EXPORT_WAIT_SECONDS = 180.0
EXPORT_POLL_SECONDS = 10.0


class BolConnector(BolOrders, BolShipments, BolOffers):
    """Order source, shipment channel, channel cancellations, stock target and product target
    (prices only) for one bol.com retailer account."""

    def __init__(
        self,
        client: httpx.Client,
        client_id: str,
        client_secret: str,
        settings: BolSettings | None = None,
        *,
        demo: bool = False,
        policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        account_id: str = "",
        tokens: TokenCache | None = None,
        process_wait_seconds: float = PROCESS_WAIT_SECONDS,
        process_poll_seconds: float = PROCESS_POLL_SECONDS,
        stock_wait_seconds: float = STOCK_WAIT_SECONDS,
        export_wait_seconds: float = EXPORT_WAIT_SECONDS,
        export_poll_seconds: float = EXPORT_POLL_SECONDS,
    ) -> None:
        """`tokens`: the cache the account's token is kept in, under `account_id` (None: this
        connector's own)."""
        self.settings = settings or BolSettings()
        self.clock = clock or Clock()
        self.bol = BolClient(
            client,
            client_id,
            client_secret,
            self.settings,
            demo=demo,
            policy=policy,
            clock=self.clock,
            account_id=account_id,
            tokens=tokens,
        )
        self.process_wait_seconds = process_wait_seconds
        self.process_poll_seconds = process_poll_seconds
        self.stock_wait_seconds = stock_wait_seconds
        self.export_wait_seconds = export_wait_seconds
        self.export_poll_seconds = export_poll_seconds
        self.export = OfferExport()

    def __repr__(self) -> str:
        return f"BolConnector({self.bol!r})"


def from_account(
    account: Account,
    credentials: Mapping[str, str],
    client: httpx.Client,
    *,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
    tokens: TokenCache | None = None,
) -> BolConnector:
    """The connector for a configured bol account; a sandbox account talks to bol's demo API.

    Its token is kept in the process's `TOKENS` (or `tokens`), so the next connector for the
    account reuses it."""
    settings = account.typed_settings()
    if not isinstance(settings, BolSettings):
        raise ConfigurationError(f"account {account.account_id} is not a bol account", field="system")
    missing = [key for key in ("client_id", "client_secret") if not credentials.get(key)]
    if missing:
        raise ConfigurationError(f"bol credentials lack {', '.join(missing)}", field=missing[0])
    return BolConnector(
        client,
        credentials["client_id"],
        credentials["client_secret"],
        settings,
        demo=account.sandbox,
        policy=policy,
        clock=clock,
        account_id=account.account_id,
        tokens=TOKENS if tokens is None else tokens,
    )
