"""A bol.com account's settings."""

from __future__ import annotations

from typing import Literal

from koppel.config import Strict


class BolSettings(Strict):
    base_url: str = "https://api.bol.com"
    token_url: str = "https://login.bol.com/token"  # noqa: S105 - an address
    fulfilment_method: Literal["FBR", "FBB", "ALL"] = "FBR"
