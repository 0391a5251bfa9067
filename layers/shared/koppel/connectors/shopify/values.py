"""How Shopify writes the values every capability exchanges: global ids, search terms, decimals, times."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


def gid(kind: str, value: str) -> str:
    """A numeric id (as webhooks and the admin's URLs show it) as Shopify's global id; a gid stays as it is."""
    value = value.strip()
    return f"gid://shopify/{kind}/{value}" if value.isdigit() else value


def numeric_id(global_id: str) -> str:
    """`gid://shopify/Location/123` -> `123`: the id webhooks and the admin's URLs show."""
    return global_id.rsplit("/", 1)[-1].split("?", 1)[0]


def search_value(value: str) -> str:
    """A value quoted for Shopify's search syntax, so spaces, colons and dashes stay part of it."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def decimal_text(value: Decimal) -> str:
    """A Decimal as plain digits: str() could give '1E+1', which Shopify's Decimal scalar refuses."""
    return format(value, "f")


def iso(moment: datetime) -> str:
    # Channels that send local times without an offset are read as UTC rather than the server's zone.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def parse_time(value: Any) -> datetime | None:
    """Shopify's DateTime scalar; None when absent or unreadable."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
