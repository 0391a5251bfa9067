"""Every system's declaration, read from its package; connectors built for a capability on demand.

The declarations are read once per container (they are small); a connector module is imported only
when a link needs it, so cold starts stay small.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Any

from koppel.connectors import PACKAGES
from koppel.connectors.declaration import Capability, Role, SystemSpec
from koppel.errors import ConfigurationError, KoppelError, UnsupportedSystem

if TYPE_CHECKING:
    import httpx

    from koppel.config import Account

# Declarations added at run time (tests of the registry itself); kept apart from the packages'.
_extra: dict[str, SystemSpec] = {}


class DeclarationError(KoppelError):
    """A system's declaration does not match its connector: a defect in koppel, not in the merchant's set-up."""


@cache
def _declared() -> dict[str, SystemSpec]:
    found: dict[str, SystemSpec] = {}
    for package in PACKAGES:
        spec = import_module(f"koppel.connectors.{package}").SYSTEM
        if not isinstance(spec, SystemSpec) or spec.name in found:
            raise DeclarationError(f"koppel.connectors.{package} must declare one SYSTEM with a name of its own")
        found[spec.name] = spec
    return found


def systems() -> dict[str, SystemSpec]:
    """Every declared system by name, in name order."""
    return dict(sorted((_declared() | _extra).items()))


def spec(name: str) -> SystemSpec:
    # On every delivery and connector look-up: a dictionary read, not a sorted copy of every system.
    found = _extra.get(name) or _declared().get(name)
    if found is None:
        raise ConfigurationError(f"unknown system {name!r}; koppel knows {', '.join(systems())}", field="system")
    return found


def names(role: Role | None = None) -> tuple[str, ...]:
    return tuple(name for name, declared in systems().items() if role is None or declared.plays(role))


def serves(system: str, capability: Capability) -> bool:
    return spec(system).can(capability)


@contextmanager
def registered(declaration: SystemSpec) -> Iterator[SystemSpec]:
    """Declare a system for the duration of a block (tests of what registering a system brings)."""
    _extra[declaration.name] = declaration
    try:
        yield declaration
    finally:
        _extra.pop(declaration.name, None)


def load(path: str) -> Any:
    """`module:attribute` → the attribute, imported now."""
    module, _, attribute = path.partition(":")
    return vars(import_module(module))[attribute]


def protocol(capability: Capability) -> type:
    """The `koppel.connectors.base` protocol a capability stands for."""
    from koppel.connectors import base

    return {
        Capability.ORDER_SOURCE: base.OrderSource,
        Capability.ORDER_CHANGES: base.OrderChanges,
        Capability.ORDER_LOOKUP: base.OrderLookup,
        Capability.ORDER_SINK: base.OrderSink,
        Capability.RETURN_SINK: base.ReturnSink,
        Capability.PROGRESS_SOURCE: base.ProgressSource,
        Capability.SHIPMENT_CHANNEL: base.ShipmentChannel,
        Capability.CHANNEL_CANCELLATIONS: base.ChannelCancellations,
        Capability.STOCK_TARGET: base.StockTarget,
        Capability.STOCK_SOURCE: base.StockSource,
        Capability.STOCK_CHANGES: base.StockChanges,
        Capability.STOCK_LOOKUP: base.StockLookup,
        Capability.INVENTORY_ITEMS: base.InventoryItems,
        Capability.PRODUCT_SOURCE: base.ProductSource,
        Capability.PRODUCT_TARGET: base.ProductTarget,
        Capability.PRODUCT_CREATION: base.ProductCreation,
        Capability.BALANCE_SOURCE: base.BalanceSource,
        Capability.BALANCE_TARGET: base.BalanceTarget,
    }[capability]


LABELS: dict[Capability, str] = {
    Capability.ORDER_SOURCE: "order-source",
    Capability.ORDER_CHANGES: "order-change-feed",
    Capability.ORDER_LOOKUP: "order-look-up",
    Capability.ORDER_SINK: "order-sink",
    Capability.RETURN_SINK: "return",
    Capability.PROGRESS_SOURCE: "fulfilment",
    Capability.SHIPMENT_CHANNEL: "shipment",
    Capability.CHANNEL_CANCELLATIONS: "cancellation",
    Capability.STOCK_TARGET: "stock",
    Capability.STOCK_SOURCE: "stock-source",
    Capability.STOCK_CHANGES: "stock-change-feed",
    Capability.STOCK_LOOKUP: "stock-look-up",
    Capability.INVENTORY_ITEMS: "inventory-item",
    Capability.PRODUCT_SOURCE: "product-source",
    Capability.PRODUCT_TARGET: "product",
    Capability.PRODUCT_CREATION: "product-create",
    Capability.BALANCE_SOURCE: "balance-source",
    Capability.BALANCE_TARGET: "balance",
}


def require(system: str, *needs: Capability) -> None:
    """UnsupportedSystem, naming what is missing, unless the system declares every one of `needs`."""
    declared = spec(system)
    for capability in needs:
        if not declared.can(capability):
            raise UnsupportedSystem(f"koppel has no {LABELS[capability]} connector for {system} yet", field="system")


def connector(account: Account, credentials: dict[str, Any], client: httpx.Client, *needs: Capability) -> Any:
    """The account's connector, one object for every capability its system declares.

    UnsupportedSystem when the system does not declare one of `needs`; DeclarationError when the
    connector does not implement a protocol its system declares.
    """
    declared = spec(account.system)
    require(account.system, *needs)
    if not declared.connector:
        raise UnsupportedSystem(f"koppel has no connector for {account.system} yet", field="system")
    built = load(declared.connector)(account, credentials, client)
    for capability in declared.serves:
        wanted = protocol(capability)
        if not isinstance(built, wanted):
            raise DeclarationError(
                f"{account.system} declares {capability.value}, but its connector is no {wanted.__name__}"
            )
    return built


def build(capability: Capability, account: Account, credentials: dict[str, Any], client: httpx.Client) -> Any:
    """The account's connector for one capability; UnsupportedSystem when its system does not serve it."""
    return connector(account, credentials, client, capability)


def reset() -> None:
    _declared.cache_clear()
