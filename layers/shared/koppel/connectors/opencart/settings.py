"""An OpenCart shop's settings (the REST Admin extension installed)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from koppel.config import Strict
from koppel.connectors.accounts import TimeZoneName

# OpenCart 3's stock order statuses (Sales > Orders > Order Statuses); a shop may have renamed or added
# some, so these are defaults to check against the shop's list, not facts about every shop.
PROCESSING, SHIPPED, COMPLETE, PROCESSED = 2, 3, 5, 15
CANCELED, DENIED, REVERSED, VOIDED = 7, 8, 12, 16
CANCELLED_IDS = (CANCELED, DENIED, REVERSED, VOIDED)
SHIPPED_IDS = (SHIPPED, COMPLETE)
# Pending (1), Failed (10), Refunded (11), Chargeback (13) and Expired (14) are not imported by default.
IMPORTED_IDS = (PROCESSING, SHIPPED, COMPLETE, PROCESSED, *CANCELLED_IDS)


class OpenCartSettings(Strict):
    base_url: str = Field(
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="The shop's address, e.g. https://shop.example.nl (where index.php lives)",
    )
    route_style: Literal["path", "query"] = Field(
        default="path",
        description="path: /api/rest_admin/... (the extension's SEO URLs); query: index.php?route=rest/...",
    )
    import_status_ids: list[int] = Field(
        default_factory=lambda: list(IMPORTED_IDS),
        min_length=1,
        description="Order status ids koppel imports (default: Processing 2, Shipped 3, Complete 5, Processed 15, "
        "and the cancelled ones)",
    )
    shipped_status_ids: list[int] = Field(
        default_factory=lambda: list(SHIPPED_IDS), description="Status ids that mean the order is shipped"
    )
    cancelled_status_ids: list[int] = Field(
        default_factory=lambda: list(CANCELLED_IDS),
        description="Status ids that arrive as a cancelled order (default: Canceled 7, Denied 8, Reversed 12, "
        "Voided 16)",
    )
    page_size: int = Field(default=100, ge=1, le=500, description="Orders handed over per read at most")
    overlap_seconds: int = Field(
        default=300,
        ge=0,
        le=3600,
        description="How far back a new poll reads before the last change seen, for orders saved late",
    )
    time_zone: TimeZoneName = Field(
        default="Europe/Amsterdam",
        description="The time zone the shop stores its times in (System > Settings > Server, or the PHP/MySQL zone)",
    )
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$", description="The shop's default currency")
    language_id: int = Field(default=1, ge=1, description="The language whose product name koppel writes")
    new_product_status: Literal[0, 1] = Field(
        default=1, description="Status of a product koppel creates: 1 enabled, 0 disabled"
    )
