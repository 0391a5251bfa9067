"""A Shoprenter shop's settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from koppel.config import Strict

StockField = Literal["stock1", "stock2", "stock3", "stock4"]
STOCK_FIELDS: tuple[StockField, ...] = ("stock1", "stock2", "stock3", "stock4")

# Shoprenter numbers a shop's order statuses the way OpenCart, its ancestor, does; a shop starts with
# 1 pending (a new order), 2 processing, 3 shipped, 5 complete, 7 cancelled, 8 denied, 10 failed
# (payment error), 14 expired, and may add its own. Unverified against a live shop: the merchant
# checks the ids in Settings > Order statuses and sets these two lists when they differ.
DEFAULT_IMPORT_STATUS_IDS = ("1", "2", "3", "5", "7")
DEFAULT_CANCELLED_STATUS_IDS = ("7",)
DEFAULT_SHIPPED_STATUS_IDS = ("3", "5")


class ShoprenterSettings(Strict):
    shop_name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="The shop's API name (the `Path`: xxxx in https://xxxx.api.myshoprenter.hu)",
    )
    api_base_url: str = Field(
        default="",
        pattern=r"^(https?://[^\s/]+(/\S*)?)?$",
        description="The shop's API root; empty: https://{shop_name}.api2.myshoprenter.hu/api",
    )
    token_url: str = Field(
        default="",
        pattern=r"^(https?://[^\s/]+(/\S*)?)?$",
        description="The token endpoint; empty: https://oauth.app.shoprenter.net/{shop_name}/app/token",
    )
    stock_field: StockField = Field(default="stock1", description="The warehouse field koppel writes stock into")
    read_stock_fields: list[StockField] = Field(
        default_factory=lambda: list(STOCK_FIELDS),
        min_length=1,
        description="The warehouse fields koppel reads stock from (each one a warehouse of that name)",
    )
    import_status_ids: list[str] = Field(
        default_factory=lambda: list(DEFAULT_IMPORT_STATUS_IDS),
        min_length=1,
        description="Order status ids (innerId) koppel imports; others (awaiting payment, failed) are left out",
    )
    cancelled_status_ids: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CANCELLED_STATUS_IDS),
        description="Order status ids that arrive as a cancelled order",
    )
    shipped_status_ids: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SHIPPED_STATUS_IDS),
        description="Order status ids that arrive as a shipped order",
    )
    time_zone: str = Field(
        default="Europe/Budapest",
        min_length=1,
        description="The zone the shop writes its times in (dateUpdated carries no offset)",
    )
    overlap_seconds: int = Field(
        default=300,
        ge=0,
        le=3600,
        description="How far back a new poll reads before the last change seen, for orders saved late",
    )
    page_size: int = Field(default=100, ge=1, le=200, description="Orders or products per page of a read")
    language_id: str = Field(
        default="1",
        pattern=r"^\d+$",
        description="The language (innerId) whose product name koppel reads and writes; 1 is Hungarian",
    )
    vat_rate: str = Field(
        default="27",
        pattern=r"^\d{1,2}(\.\d+)?$",
        description="VAT % for a net price when the product's own rate cannot be read from its prices",
    )
    currency: str = Field(default="HUF", pattern=r"^[A-Z]{3}$", description="The shop's default currency")
    sale_priority: int = Field(
        default=1,
        ge=0,
        le=99,
        description="The priority of the special koppel keeps for a product's sale price (lower goes first; "
        "the docs' examples use 1, the product of the day -1); koppel knows its special by its own id, not by this",
    )

    @property
    def api_root(self) -> str:
        return (self.api_base_url or f"https://{self.shop_name}.api2.myshoprenter.hu/api").rstrip("/")

    @property
    def token_endpoint(self) -> str:
        return self.token_url or f"https://oauth.app.shoprenter.net/{self.shop_name}/app/token"
