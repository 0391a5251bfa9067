"""A Shopify account's settings."""

from __future__ import annotations

from pydantic import Field

from koppel.config import Strict


class ShopifySettings(Strict):
    shop_domain: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*\.myshopify\.(com|io)$")
    api_version: str = Field(default="2025-04", pattern=r"^\d{4}-\d{2}$")
    location_id: str = ""
    base_url: str = Field(default="", description="Override for simulators; default https://{shop_domain}")
