"""A bol.com account's settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from koppel.config import Strict


class BolSettings(Strict):
    base_url: str = "https://api.bol.com"
    token_url: str = "https://login.bol.com/token"  # noqa: S105 - an address
    fulfilment_method: Literal["FBR", "FBB", "ALL"] = "FBR"
    ships_from: str = Field(
        default="NL",
        pattern=r"^[A-Z]{2}$",
        description="Country the merchant ships from (ISO 3166 alpha-2): some carriers have a bol code per country",
    )
