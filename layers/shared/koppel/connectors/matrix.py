"""Which system can do what: every declared system by every flow, generated from the declarations.

`koppel systems` prints it and the README's table of supported systems is the same text (a test
compares them), so what the documentation promises is what the code declares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from koppel.connectors import registry
from koppel.connectors.declaration import Capability, Role, SystemSpec

Side = Callable[[SystemSpec], bool]


def _backoffice(capability: Capability) -> Side:
    return lambda spec: spec.plays(Role.BACKOFFICE) and spec.can(capability)


def _channel(capability: Capability) -> Side:
    return lambda spec: spec.plays(Role.CHANNEL) and spec.can(capability)


def _never(_spec: SystemSpec) -> bool:
    return False


def _stock_webhooks(spec: SystemSpec) -> bool:
    return spec.webhooks is not None and bool(spec.webhooks.stock_levels or spec.webhooks.stock_ids)


def _stock_in(spec: SystemSpec) -> bool:
    return spec.plays(Role.BACKOFFICE) and (
        spec.can(Capability.STOCK_SOURCE) or spec.can(Capability.STOCK_CHANGES) or _stock_webhooks(spec)
    )


def _feed_source(spec: SystemSpec) -> bool:
    # A feed needs the backoffice's products, or at least the stock it pushes to koppel.
    return spec.plays(Role.BACKOFFICE) and (spec.can(Capability.PRODUCT_SOURCE) or _stock_in(spec))


def _takes_feed(spec: SystemSpec) -> bool:
    return spec.plays(Role.CHANNEL) and spec.takes_feed


def _webshop_orders(spec: SystemSpec) -> bool:
    # A webshop's orders reach koppel by its webhooks or by polling what changed since the last read.
    webhooks = spec.webhooks is not None and bool(spec.webhooks.orders)
    return spec.plays(Role.CHANNEL) and (webhooks or spec.can(Capability.ORDER_CHANGES))


def _webhook_returns(spec: SystemSpec) -> bool:
    return spec.plays(Role.CHANNEL) and spec.webhooks is not None and bool(spec.webhooks.returns)


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    backoffice: Side  # the system can play the backoffice's part of this flow
    channel: Side  # the system can play the channel's part of this flow


COLUMNS: tuple[Column, ...] = (
    Column("orders_in", "orders in", _backoffice(Capability.ORDER_SINK), _channel(Capability.ORDER_SOURCE)),
    Column(
        "shipments_out",
        "shipments out",
        _backoffice(Capability.PROGRESS_SOURCE),
        _channel(Capability.SHIPMENT_CHANNEL),
    ),
    Column(
        "cancellations",
        "cancellations",
        _backoffice(Capability.PROGRESS_SOURCE),
        _channel(Capability.CHANNEL_CANCELLATIONS),
    ),
    Column("returns", "returns", _backoffice(Capability.RETURN_SINK), _webhook_returns),
    Column("stock_out", "stock out", _never, _channel(Capability.STOCK_TARGET)),
    Column("stock_in", "stock in", _stock_in, _never),
    Column("products", "products", _backoffice(Capability.PRODUCT_SOURCE), _channel(Capability.PRODUCT_TARGET)),
    Column("feed", "feed", _feed_source, _takes_feed),
    Column("webshop_orders_in", "webshop orders in", _backoffice(Capability.ORDER_SINK), _webshop_orders),
    Column("balances", "open amounts", _backoffice(Capability.BALANCE_SOURCE), _channel(Capability.BALANCE_TARGET)),
)


def cell(column: Column, spec: SystemSpec) -> str:
    sides = [name for name, side in (("backoffice", column.backoffice), ("channel", column.channel)) if side(spec)]
    return "both" if len(sides) == 2 else (sides[0] if sides else "")


def rows() -> list[dict[str, str]]:
    """One row per system: its name, title, roles, one cell per flow and its note."""
    return [
        {
            "system": spec.name,
            "title": spec.title,
            "roles": "+".join(role.value for role in Role if spec.plays(role)),
            **{column.key: cell(column, spec) for column in COLUMNS},
            "notes": spec.notes,
        }
        for spec in registry.systems().values()
    ]


def markdown() -> str:
    """The matrix as a Markdown table (the README holds exactly this)."""
    head = ["system", "roles", *(column.title for column in COLUMNS), "notes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows():
        cells = [f"{row['title']} (`{row['system']}`)", row["roles"]]
        cells += [row[column.key] or "—" for column in COLUMNS]
        cells.append(row["notes"])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def text() -> str:
    """The matrix for a terminal: fixed-width columns."""
    head = ["system", "roles", *(column.title for column in COLUMNS)]
    table = [head] + [[row["system"], row["roles"], *(row[column.key] or "-" for column in COLUMNS)] for row in rows()]
    widths = [max(len(line[i]) for line in table) for i in range(len(head))]
    return (
        "\n".join(
            "  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip() for line in table
        )
        + "\n"
    )


# What each of a link's flows needs of its two systems: any one of these (backoffice, channel) pairs.
def _column(key: str) -> Column:
    return next(column for column in COLUMNS if column.key == key)


FLOW_NEEDS: dict[str, tuple[tuple[Column, Column], ...]] = {
    "orders": (
        (_column("orders_in"), _column("orders_in")),
        (_column("webshop_orders_in"), _column("webshop_orders_in")),
    ),
    "tracking": ((_column("shipments_out"), _column("shipments_out")),),
    "stock": ((_column("stock_in"), _column("stock_out")),),
    "returns": ((_column("returns"), _column("returns")),),
    "products": ((_column("products"), _column("products")),),
    "feed": ((_column("feed"), _column("feed")),),
    "balances": ((_column("balances"), _column("balances")),),
}


def why_not(flow: str, backoffice: SystemSpec, channel: SystemSpec) -> str:
    """ "" when the two systems can run the flow together; else why not, naming the system and the part
    it cannot play (as `koppel systems` shows it)."""
    reasons = []
    for backoffice_part, channel_part in FLOW_NEEDS[flow]:
        missing = [
            f"{spec.name} cannot be the {side} of {part.title}"
            for spec, side, part, can in (
                (backoffice, "backoffice", backoffice_part, backoffice_part.backoffice),
                (channel, "channel", channel_part, channel_part.channel),
            )
            if not can(spec)
        ]
        if not missing:
            return ""
        reasons.append(" and ".join(missing))
    return "; nor: ".join(reasons)
