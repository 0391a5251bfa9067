"""A WooCommerce account's settings."""

from __future__ import annotations

from pydantic import Field

from koppel.config import Strict


class WooCommerceSettings(Strict):
    base_url: str = Field(pattern=r"^https?://")
