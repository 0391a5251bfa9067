"""What the StoreKeeper tests build: the account, a hook verified as koppel's receiver verifies it, an
order of the simulator's products."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from connector_fixtures import account_of

from koppel.config import Account
from koppel.connectors.storekeeper import hooks
from koppel.models import Address, Customer, Money, Order, OrderLine
from koppel.webhooks import VerifyContext
from koppel_local.simulators.storekeeper import TOKEN_HEADER, StoreKeeperSimulator

HOOK_TOKEN = "hook-token-koppel-gave-the-merchant"
CHANNEL = "winkelstraat"


def storekeeper_account(**settings: Any) -> Account:
    return account_of("storekeeper", "storekeeper-shop", dict(settings))


def context() -> VerifyContext:
    return VerifyContext(now=datetime.now(UTC), tolerance=timedelta(minutes=5), stale_after=timedelta(hours=48))


def hook(account: Account, body: bytes, token: str | None = HOOK_TOKEN, secrets: list[str] | None = None) -> Any:
    """The hook as StoreKeeper's verifier reads it (headers in lower case, as API Gateway gives them)."""
    headers = {} if token is None else {TOKEN_HEADER.lower(): token}
    return hooks.verify(account, secrets or [HOOK_TOKEN], headers, body, context())


def order_of(
    sim: StoreKeeperSimulator,
    number: str,
    *lines: tuple[str, int, str],
    shipping: str | None = None,
    discount: str | None = None,
    email: str = "anna@example.nl",
    channel: str = CHANNEL,
) -> Order:
    """A channel's order of the simulator's products (by SKU, quantity, unit price), each line mapped to
    its shop product; `discount` off the first line."""
    address = Address(
        first_name="Anna",
        last_name="de Vries",
        street="Kerkstraat",
        house_number="12",
        house_number_extension="A",
        postal_code="1234 AB",
        city="Utrecht",
        country_code="NL",
        email=email,
    )
    return Order(
        channel=channel,
        channel_order_id=number,
        name=f"WS-{number}",
        placed_at=datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
        customer=Customer(email=email, first_name="Anna", last_name="de Vries"),
        billing_address=address,
        shipping_address=address,
        lines=tuple(
            OrderLine(
                line_id=f"L{index}",
                channel_sku=sku,
                title=f"Item {sku}",
                quantity=quantity,
                unit_price=Money(amount=Decimal(price)),
                backoffice_variant_id=str(sim.product(sku).id),
                discount=Money(amount=Decimal(discount)) if discount and index == 1 else None,
            )
            for index, (sku, quantity, price) in enumerate(lines, start=1)
        ),
        shipping_cost=Money(amount=Decimal(shipping)) if shipping else None,
    )
