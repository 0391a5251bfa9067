"""A SnelStart administration's settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from koppel.config import Code, Strict


class SnelStartSettings(Strict):
    base_url: str = Field(default="https://b2bapi.snelstart.nl/v2", pattern=r"^https?://\S+/v2/?$")
    token_url: str = Field(default="https://auth.snelstart.nl/b2b/token", pattern=r"^https?://\S+$")
    proces_status: Literal["Order", "Offerte", "Bevestiging", "Werkbon", "Pakbon", "Afhaalbon"] = Field(
        default="Order",
        description="The document a webshop order becomes in SnelStart (procesStatus); Contantbon and Factuur "
        "cannot be set through the API",
    )
    shipping_article: Code = Field(
        default="",
        max_length=100,
        description="Artikelcode shipping costs are booked as (one order line); needed for orders with shipping",
    )
    discount_article: Code = Field(
        default="",
        max_length=100,
        description="Artikelcode a line discount is booked as (a negative line) when no percentage gives it "
        "exactly to the cent; empty: such a line is booked at its net unit price when that is exact",
    )
    barcode_field: str = Field(
        default="",
        max_length=100,
        description="Name of the articles' extra field (extraVelden) that holds the EAN; SnelStart's article "
        "has no barcode of its own. Empty: articles are matched by artikelcode only",
    )
