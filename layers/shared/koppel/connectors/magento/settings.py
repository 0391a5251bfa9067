"""A Magento 2 store's settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from koppel.config import Strict

DEFAULT_STATES = ("pending", "processing", "complete", "canceled")


class MagentoSettings(Strict):
    base_url: str = Field(
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="The store's address, e.g. https://shop.example.nl; koppel adds /rest/{store_code}/V1",
    )
    store_code: str = Field(
        default="default",
        pattern=r"^[a-z0-9_]+$",
        description="Store view code in the REST path; `all` writes product names and prices for every store view",
    )
    inventory: Literal["msi", "legacy"] = Field(
        default="msi",
        description="msi: stock per source (Multi-Source Inventory); legacy: the single stock item of each product",
    )
    source_code: str = Field(default="default", min_length=1, description="The MSI source koppel sets quantities in")
    website_ids: list[int] = Field(default_factory=lambda: [1], description="Websites a product koppel creates is in")
    attribute_set_id: int = Field(default=4, ge=1, description="Attribute set of a product koppel creates")
    visibility: int = Field(default=4, ge=1, le=4, description="Visibility of a created product (4: catalog, search)")
    weight_unit: Literal["kgs", "lbs"] = Field(default="kgs", description="The store's weight unit")
    import_states: list[str] = Field(
        default_factory=lambda: list(DEFAULT_STATES),
        min_length=1,
        description="Order states (or statuses) koppel imports; `canceled` arrives as a cancelled order",
    )
    page_size: int = Field(default=100, ge=1, le=500, description="Orders per page of a read")
    overlap_seconds: int = Field(
        default=300,
        ge=0,
        le=3600,
        description="How far back a new poll reads before the last change seen, for orders saved late",
    )
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$", description="Currency of prices koppel writes")
