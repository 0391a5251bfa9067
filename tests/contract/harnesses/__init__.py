"""One harness per registered system: its simulator in-process, its connector built through the
registry from an account (so the declaration is what is tested), and the simulator-side operations
the contract cases need.

A harness module is `contract.harnesses.<system>` and offers:
- `COVERS`: the capabilities it has simulator operations for (every one its system declares);
- `started()`: a context manager yielding the harness, whose `connector` is the registry's.

The operations a case may ask of a harness, per capability, are the protocols below. Modules whose
name starts with `_` are shared building blocks, not systems.
"""

from __future__ import annotations

import io
import pkgutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from importlib import import_module
from types import ModuleType
from typing import Any, Protocol

import httpx

from koppel.config import Account
from koppel.connectors import registry
from koppel.connectors.declaration import Capability, SystemSpec
from koppel.models import Address, CancelReason, Customer, Money, Order, OrderLine

PACKAGE = __name__


@dataclass(frozen=True)
class SeedLine:
    """One line of an order as a case describes it; the harness writes it in its system's terms."""

    sku: str
    ean: str
    title: str
    quantity: int
    unit_price: Decimal


# --- what cases ask of a harness, per capability ----------------------------------------------------
class Harness(Protocol):
    system: str
    connector: Any


class OrderSourceHarness(Harness, Protocol):
    order_page_size: int  # open orders per page of the channel's list

    def add_open_order(self, lines: Sequence[SeedLine]) -> str: ...  # the channel's order id

    def line_ids(self, order_id: str) -> tuple[str, ...]: ...  # the channel's line ids, in seed order

    def request_cancellation(self, order_id: str, line_id: str) -> None: ...  # as the buyer does


class OrderSinkHarness(Harness, Protocol):
    def add_product(self, sku: str, ean: str, title: str, price: Decimal) -> str: ...  # the variant id

    def lose_next_order_answer(self) -> None: ...  # the next order create is committed, its answer lost

    def faults_pending(self) -> int: ...

    def orders_for(self, channel: str, channel_order_id: str) -> list[str]: ...  # the backoffice's order ids

    def order_lines(self, backoffice_order_id: str) -> list[tuple[str, int]]: ...  # (sku, quantity)


class ProgressSourceHarness(Harness, Protocol):
    def add_imported_order(self, lines: Sequence[SeedLine]) -> tuple[str, tuple[str, ...]]:
        """An order koppel created in the backoffice: its id and the channel line ids it carries."""
        ...

    def fulfil(self, backoffice_order_id: str, tracking_code: str, company: str) -> None: ...  # every line

    def cancel_as_merchant(self, backoffice_order_id: str, reason: CancelReason) -> None: ...

    def is_cancelled(self, backoffice_order_id: str) -> bool: ...


class ShipmentChannelHarness(Harness, Protocol):
    def carrier_code(self, carrier: str | None) -> str: ...  # the channel's code for a koppel carrier (None: unknown)

    def open_order(self, lines: Sequence[SeedLine]) -> Any: ...  # a koppel Order, open on the channel

    def shipments_of(self, order_id: str) -> list[tuple[tuple[str, ...], str, str]]:
        """(line ids, carrier code, tracking code) of every shipment the channel holds for the order."""
        ...


class ChannelCancellationsHarness(Harness, Protocol):
    def open_order(self, lines: Sequence[SeedLine]) -> Any: ...

    def current_order(self, order_id: str) -> Any: ...  # the koppel Order as the channel has it now

    def request_cancellation(self, order_id: str, line_id: str) -> None: ...

    def cancelled_lines(self, order_id: str) -> set[str]: ...  # lines with no open units left


class StockTargetHarness(Harness, Protocol):
    knows_every_sku: bool  # the channel takes any SKU as it is (a partner's webhook)
    refuses_per_sku: bool  # the channel can refuse one SKU of a batch and take the others

    def add_listing(self, sku: str, ean: str, title: str = "", price: Decimal = Decimal("9.99")) -> None: ...

    def stock_ref(self, sku: str) -> str: ...  # the channel's own id for a listed SKU's stock

    def stock_of(self, sku: str) -> int | None: ...  # what the channel shows; None: never received

    def refuse_stock(self, sku: str) -> None: ...  # the channel refuses the SKU's next update

    def throttle_next(self, retry_after: int | None) -> None: ...  # the next stock request gets a 429

    def throttled(self) -> int: ...  # 429s the channel has answered so far


class StockSourceHarness(Harness, Protocol):
    stock_page_size: int

    def default_location(self) -> str: ...  # location ids as the system's webhooks name them

    def add_location(self, name: str) -> str: ...

    def add_stocked_item(self, sku: str, on_hand: Mapping[str, int]) -> str:
        """An item with this SKU and these units on hand per location; its inventory item id."""
        ...

    def warehouse_of(self, location: str) -> str: ...  # the warehouse id koppel reports for a location


InventoryItemsHarness = StockSourceHarness  # the same operations: items stocked at locations


class StockChangesHarness(StockSourceHarness, Protocol):
    def change_stock(self, sku: str, location: str, units: int) -> None: ...  # a count or sale in the backoffice


class ProductSourceHarness(Harness, Protocol):
    product_page_size: int
    has_price_lists: bool

    def add_product(self, sku: str, ean: str, title: str, price: Decimal) -> str: ...

    def add_price_list(self, name: str, prices: Mapping[str, Decimal]) -> str: ...  # its id


class ProductTargetHarness(Harness, Protocol):
    takes_titles: bool  # the channel lets the merchant change a product's title

    def add_listing(self, sku: str, ean: str, title: str = "", price: Decimal = Decimal("9.99")) -> None: ...

    def product_ref(self, sku: str) -> str: ...  # the channel's own id for a listed SKU's product

    def price_of(self, sku: str) -> Decimal: ...

    def title_of(self, sku: str) -> str: ...

    def refuse_product(self, sku: str) -> None: ...  # the channel refuses the SKU's next update


# --- shared building blocks ---------------------------------------------------------------------
def account(system: str, settings: Mapping[str, Any] | None = None) -> Account:
    return Account(
        account_id=f"contract-{system}",
        system=system,
        secret_ref=f"koppel/contract-{system}",
        settings=dict(settings or {}),
    )


def build(system: str, settings: Mapping[str, Any], credentials: Mapping[str, Any], client: httpx.Client) -> Any:
    """The connector as koppel's wiring gets it: from the declaration, checked against every
    protocol the system declares."""
    declared = registry.spec(system)
    return registry.connector(account(system, settings), dict(credentials), client, *declared.serves)


def koppel_order(channel: str, channel_order_id: str, lines: Sequence[tuple[SeedLine, str]]) -> Order:
    """An order as a channel connector hands it over, each line already mapped to its backoffice variant."""
    address = Address(
        first_name="Jan",
        last_name="Jansen",
        street="Kerkstraat",
        house_number="12",
        postal_code="1234 AB",
        city="Utrecht",
        country_code="NL",
    )
    return Order(
        channel=channel,
        channel_order_id=channel_order_id,
        placed_at=datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
        customer=Customer(email=f"jan.{channel_order_id}@example.nl", first_name="Jan", last_name="Jansen"),
        billing_address=address,
        shipping_address=address,
        lines=tuple(
            OrderLine(
                line_id=f"L{number}",
                channel_sku=line.sku,
                ean=line.ean,
                title=line.title,
                quantity=line.quantity,
                unit_price=Money(amount=line.unit_price),
                vat_rate=Decimal(21),
                backoffice_variant_id=variant_id,
            )
            for number, (line, variant_id) in enumerate(lines, start=1)
        ),
    )


def body_mentions(word: str) -> Callable[[dict[str, Any]], bool]:
    """A request whose body names `word` (a GraphQL operation); the body is left for the app to read."""

    def applies(environ: dict[str, Any]) -> bool:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        return word.encode() in body

    return applies


def every(environ: dict[str, Any]) -> bool:
    return True


@dataclass
class Interruptions:
    """WSGI middleware in front of a simulator, for faults it cannot make itself: the next requests
    (those `applies` picks) answered 429, with or without `Retry-After`, before the simulator sees them."""

    app: Callable[..., Iterable[bytes]]
    planned: list[tuple[int | None, Callable[[dict[str, Any]], bool]]] = field(default_factory=list)
    served: int = 0

    def throttle_next(self, retry_after: int | None, applies: Callable[[dict[str, Any]], bool] = every) -> None:
        self.planned.append((retry_after, applies))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        for index, (retry_after, applies) in enumerate(self.planned):
            if applies(environ):
                del self.planned[index]
                self.served += 1
                headers = [("Content-Type", "application/json")]
                if retry_after is not None:
                    headers.append(("Retry-After", str(retry_after)))
                start_response("429 Too Many Requests", headers)
                return [b'{"errors": "Too Many Requests"}']
        return self.app(environ, start_response)


# --- enrolment -----------------------------------------------------------------------------------
def harness_module(system: str) -> ModuleType | None:
    try:
        return import_module(f"{PACKAGE}.{system}")
    except ModuleNotFoundError as missing:
        if missing.name != f"{PACKAGE}.{system}":
            raise  # the harness exists but imports something that does not: a defect, not "no harness"
        return None


def harness_names() -> list[str]:
    """Every harness module here, shared building blocks (`_name`) left out."""
    here = import_module(PACKAGE)
    return sorted(found.name for found in pkgutil.iter_modules(here.__path__) if not found.name.startswith("_"))


def named(capabilities: Iterable[Capability]) -> str:
    return ", ".join(sorted(capability.value for capability in capabilities))


def enrolment_problems(systems: Mapping[str, SystemSpec]) -> dict[str, str]:
    """System name → what is missing, for every system that declares a capability and either has no
    harness module or has one that does not cover each declared capability."""
    problems: dict[str, str] = {}
    for name, declared in systems.items():
        if not declared.serves:
            continue  # nothing to test until it declares something
        module = harness_module(name)
        if module is None:
            problems[name] = f"declares {named(declared.serves)} but has no {PACKAGE}.{name}"
            continue
        uncovered = declared.serves - frozenset(getattr(module, "COVERS", ()))
        if uncovered:
            problems[name] = f"{PACKAGE}.{name} does not cover {named(uncovered)}"
    return problems


def ean13(number: int) -> str:
    """A valid EAN-13 in koppel's test range (prefix 871234), numbered."""
    digits = f"871234{number:06d}"
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(digits))
    return digits + str(-total % 10)


def systems_serving(capability: Capability) -> list[str]:
    return [name for name, declared in registry.systems().items() if declared.can(capability)]
